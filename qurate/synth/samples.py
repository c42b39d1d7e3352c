"""Samples: the rows ``synth generate`` writes and ``synth filter`` reads, and their documents.

A sample is a row with ``prompt``, ``response`` and ``task`` (math | code | knowledge), plus,
when known, ``reference`` (the gold final answer of a math problem) and ``tests`` (test code
for a code solution), an ``id``, the ``seed_id`` it came from and its ``provenance`` (JSON).
Any Parquet or JSONL file of such rows can be filtered, so samples generated elsewhere can be
verified too; rows that lack a field, hold one of the wrong type, or are not JSON objects at
all are rejected by the filter with a reason (``malformed_sample``), never dropped, and never
stop the rest of the file.

As a training document (the shard contract), a math or code sample is its prompt, a blank
line and its response; a knowledge sample (a rewrite) is its response alone, since the
prompt holds the source passage. ``meta`` keeps task, reference, tests and where the prompt
ends, so a document can be split back into its sample.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from qurate.contract.compressed import StreamDamage
from qurate.contract.files import NO_SUCH_FILE, RUN_MARKER, file_problem, require_finished
from qurate.contract.shards import write_table
from qurate.errors import BadInputError
from qurate.readers.inputs import JSONL_SUFFIXES, PARQUET_SUFFIXES, iter_lines

SAMPLE_FIELDS = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("prompt", pa.large_string()),
    pa.field("response", pa.large_string()),
    pa.field("task", pa.string()),
    pa.field("reference", pa.string()),
    pa.field("tests", pa.large_string()),
    pa.field("seed_id", pa.string()),
    pa.field("provenance", pa.string()),
]
SAMPLE_SCHEMA = pa.schema(SAMPLE_FIELDS)
SAMPLE_REJECT_SCHEMA = pa.schema(
    [*SAMPLE_FIELDS, pa.field("reject_reason", pa.string()), pa.field("reject_detail", pa.string())]
)
SAMPLE_COLUMNS = [f.name for f in SAMPLE_FIELDS]


def stable_id(*parts: object) -> str:
    return "synth-" + hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:20]


# The JSONL and Parquet names curate reads (case-insensitive): a bare ``x.gz`` or ``x.txt``
# given to synth was read as JSONL, while curate refused it; a folder's ``x.json.gz``,
# ``X.JSONL`` and ``x.ndjson`` were skipped here and read by curate.
SAMPLE_SUFFIXES = JSONL_SUFFIXES + PARQUET_SUFFIXES


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith(PARQUET_SUFFIXES)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        if not path.name.lower().endswith(SAMPLE_SUFFIXES):
            raise BadInputError(
                f"{path}: unknown input format (expected one of {', '.join(SAMPLE_SUFFIXES)})"
            )
        return [path]
    if not path.is_dir():
        raise BadInputError(f"{path}: {file_problem(path) or NO_SUCH_FILE}")
    if (path / RUN_MARKER).is_file():  # a `synth generate` that started here: finished?
        require_finished(path)  # (its half-written samples were filtered, exit 0)
    files = [
        p
        for p in sorted(path.iterdir())
        if p.is_file()
        and not p.name.startswith(".")
        and p.name.lower().endswith(SAMPLE_SUFFIXES)
        and p.name != "manifest.json"
        and not p.name.startswith("rejects")  # `synth generate` keeps its rejects apart
    ]
    if not files:
        raise BadInputError(
            f"{path}: no JSONL or Parquet files in this directory "
            f"(looked for {', '.join(SAMPLE_SUFFIXES)})"
        )
    return files


def read_records(path: str | Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, record)`` for every row of a JSONL(.gz) / Parquet file or a directory of them;
    a line that is not a JSON object is a one-line error naming the file and line.

    ``where`` is ``file:line`` (or ``file:row``), used as the id of rows that have none.
    """
    for where, rec, problem in _iter_records(Path(path)):
        if problem is not None:
            raise BadInputError(problem)
        yield where, rec  # type: ignore[misc]


def iter_records_or_problems(
    path: str | Path,
) -> Iterator[tuple[str, dict[str, Any] | None, str | None]]:
    """Like :func:`read_records`, but a line that is not a UTF-8 JSON object comes back as
    ``(where, None, "<file>:<line>: what is wrong")`` instead of stopping the read, so the
    caller can keep it as a reject row."""
    return _iter_records(Path(path))


def _iter_records(path: Path) -> Iterator[tuple[str, dict[str, Any] | None, str | None]]:
    """``(where, record, None)`` per row, or ``(where, None, "<file>:<line>: what is wrong")``
    for a line that is not a UTF-8 JSON object. JSONL may be plain, ``.gz`` or ``.zst``; a
    damaged stream keeps the rows before the damage and is one problem row naming the
    compressed offset. A Parquet file that cannot be read at all is still an error."""
    for f in _files(path):
        if _is_parquet(f):
            try:
                table = pq.read_table(f)
            except Exception as e:  # pyarrow raises several types for corrupt files
                raise BadInputError(f"{f}: not a readable Parquet file ({e})") from None
            for i, rec in enumerate(table.to_pylist(), start=1):
                yield f"{f.name}:{i}", rec, None
            continue
        i = 0
        try:
            for i, raw in enumerate(iter_lines(str(f)), start=1):
                if not raw.strip():
                    continue
                rec, problem = _parse_line(raw)
                where = f"{f.name}:{i}"
                yield where, rec, (f"{f}:{i}: {problem}" if problem else None)
        except StreamDamage as d:  # the rows before the damage are kept; the damage is a row
            yield (
                f"{f.name}:{i + 1}",
                None,
                f"{d.describe(str(f))}, after line {i}; the rest of the file is unreadable",
            )
        except OSError as e:
            raise BadInputError(f"{f}: cannot read ({e})") from None


# A \uD800-\uDFFF escape: JSON allows a lone one, which no UTF-8 text (Parquet, a tokenizer)
# can hold; a row with one is a problem row, not a crash later in the run.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _parse_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    try:
        rec = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        return None, f"not UTF-8 text ({e.reason})"
    except ValueError as e:  # JSONDecodeError, and ints longer than Python will parse
        return None, f"not valid JSON ({getattr(e, 'msg', e)})"
    except RecursionError:
        return None, "not valid JSON (nested too deeply)"
    if not isinstance(rec, dict):
        return None, "a row must be a JSON object"
    if _SURROGATE_ESCAPE.search(raw):  # rare: only then the full check
        try:
            json.dumps(rec, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return None, "not valid Unicode (a lone surrogate escape such as \\ud800)"
    return rec, None


def read_samples(path: str | Path) -> list[dict[str, Any]]:
    """Sample rows with every sample column present (missing ones None, ids filled in).

    A line that is not a JSON object still becomes a row: every field None and
    ``malformed`` saying what is wrong, so the filter rejects it as ``malformed_sample``
    and the rest of the file goes on. Field types are checked by :func:`check_sample`.
    """
    out = []
    for where, rec, problem in _iter_records(Path(path)):
        row: dict[str, Any] = {c: None for c in SAMPLE_COLUMNS}
        if rec is None:
            row.update(id=where, malformed=(problem or "").split(": ", 1)[-1])
            out.append(row)
            continue
        row.update({c: rec.get(c) for c in SAMPLE_COLUMNS})
        row["id"] = str(rec["id"]) if rec.get("id") is not None else where
        if isinstance(row["provenance"], dict):
            row["provenance"] = json.dumps(row["provenance"], sort_keys=True, default=str)
        if "messages" in rec:
            row["messages"] = rec["messages"]
        out.append(row)
    return out


def _kind(v: object) -> str:
    return f"{type(v).__name__} {json.dumps(v, default=str)[:40]}"


def _is_chat(msgs: object) -> bool:
    return isinstance(msgs, list) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in msgs
    )


def check_sample(row: dict[str, Any]) -> str | None:
    """What is wrong with the types of a sample row (``"prompt is int 5, not text"``), or None.

    Text fields (``prompt``, ``response``, ``tests``, ``task``, ``seed_id``) must be strings;
    ``reference`` a string or a number (a numeric gold answer, 42, is kept as text);
    ``messages``, when given, a chat (a list of ``{role, content}`` text turns): when the row
    has neither ``prompt`` nor ``response``, its last assistant turn is the response and the
    user turns before it the prompt. A field of the wrong type is set to None so the row can
    still be written as a reject: a dict of tests is never turned into code and run.
    """
    if row.get("malformed"):
        return str(row["malformed"])
    problems = []
    for k in ("prompt", "response", "tests", "task", "seed_id"):
        v = row.get(k)
        if v is not None and not isinstance(v, str):
            problems.append(f"{k} is {_kind(v)}, not text")
            row[k] = None
    ref = row.get("reference")
    if isinstance(ref, (int, float)) and not isinstance(ref, bool):
        row["reference"] = str(ref)
    elif ref is not None and not isinstance(ref, str):
        problems.append(f"reference is {_kind(ref)}, not text or a number")
        row["reference"] = None
    msgs = row.get("messages")
    if msgs is not None:
        if not _is_chat(msgs):
            problems.append(f"messages is {_kind(msgs)}, not a list of {{role, content}} texts")
        elif row.get("prompt") is None and row.get("response") is None and not problems:
            last = max((i for i, m in enumerate(msgs) if m["role"] == "assistant"), default=None)
            if last is not None:
                row["response"] = msgs[last]["content"]
                users = [m["content"] for m in msgs[:last] if m["role"] == "user"]
                row["prompt"] = "\n\n".join(users) or None
    return "; ".join(problems) or None


def write_samples(path: Path, rows: list[dict[str, Any]], *, rejects: bool = False) -> None:
    schema = SAMPLE_REJECT_SCHEMA if rejects else SAMPLE_SCHEMA
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    write_table(path, pa.Table.from_pydict(cols, schema=schema))


def document_text(sample: dict[str, Any]) -> str:
    """The sample as a training document."""
    prompt, response = sample.get("prompt") or "", sample.get("response") or ""
    if sample.get("task") == "knowledge" or not prompt.strip():
        return response
    return f"{prompt.rstrip()}\n\n{response.lstrip()}"
