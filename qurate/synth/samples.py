"""Samples: the rows ``synth generate`` writes and ``synth filter`` reads, and their documents.

A sample is a row with ``prompt``, ``response`` and ``task`` (math | code | knowledge), plus,
when known, ``reference`` (the gold final answer of a math problem) and ``tests`` (test code
for a code solution), an ``id``, the ``seed_id`` it came from and its ``provenance`` (JSON).
Any Parquet or JSONL file of such rows can be filtered, so samples generated elsewhere can be
verified too; rows that lack a field are rejected by the filter with a reason, never dropped.

As a training document (the shard contract), a math or code sample is its prompt, a blank
line and its response; a knowledge sample (a rewrite) is its response alone, since the
prompt holds the source passage. ``meta`` keeps task, reference, tests and where the prompt
ends, so a document can be split back into its sample.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from qurate.contract.shards import write_table
from qurate.errors import BadInputError

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


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise BadInputError(f"{path}: no such file or directory")
    files = [
        p
        for p in sorted(path.iterdir())
        if p.is_file()
        and not p.name.startswith(".")
        and p.name.endswith((".parquet", ".jsonl", ".jsonl.gz", ".json"))
        and p.name != "manifest.json"
        and not p.name.startswith("rejects")  # `synth generate` keeps its rejects apart
    ]
    if not files:
        raise BadInputError(f"{path}: no .parquet or .jsonl files in this directory")
    return files


def read_records(path: str | Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, record)`` for every row of a JSONL(.gz) / Parquet file or a directory of them.

    ``where`` is ``file:line`` (or ``file:row``), used as the id of rows that have none.
    """
    for f in _files(Path(path)):
        if f.name.endswith(".parquet"):
            try:
                table = pq.read_table(f)
            except Exception as e:  # pyarrow raises several types for corrupt files
                raise BadInputError(f"{f}: not a readable Parquet file ({e})") from None
            for i, rec in enumerate(table.to_pylist(), start=1):
                yield f"{f.name}:{i}", rec
            continue
        opener = gzip.open if f.name.endswith(".gz") else open
        try:
            with opener(f, "rt", encoding="utf-8") as fh:
                for i, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError as e:
                        raise BadInputError(f"{f}:{i}: not valid JSON ({e.msg})") from None
                    if not isinstance(rec, dict):
                        raise BadInputError(f"{f}:{i}: a row must be a JSON object")
                    yield f"{f.name}:{i}", rec
        except UnicodeDecodeError as e:
            raise BadInputError(f"{f}: not UTF-8 text ({e.reason})") from None
        except (OSError, EOFError) as e:
            raise BadInputError(f"{f}: cannot read ({e})") from None


def read_samples(path: str | Path) -> list[dict[str, Any]]:
    """Sample rows with every sample column present (missing ones None, ids filled in)."""
    out = []
    for where, rec in read_records(path):
        row = {c: rec.get(c) for c in SAMPLE_COLUMNS}
        row["id"] = str(rec["id"]) if rec.get("id") is not None else where
        prov = row["provenance"]
        if isinstance(prov, dict):
            row["provenance"] = json.dumps(prov, sort_keys=True)
        for k in ("reference", "tests"):  # a numeric gold answer (42) is fine as text
            if row[k] is not None and not isinstance(row[k], str):
                row[k] = json.dumps(row[k]) if isinstance(row[k], (list, dict)) else str(row[k])
        out.append(row)
    return out


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
