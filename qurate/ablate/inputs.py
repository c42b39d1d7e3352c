"""Arms and evaluations as tables: ``NAME=PATH`` specs, stage directories, JSONL, Parquet.

Only the columns an ablation needs are read (``text``, and ``domain``/``lang`` where they
exist; the evaluation columns ``question``/``choices``/``answer`` or ``prompt``/
``reference``/``tests``), straight from Parquet with pyarrow. Reading one column rather than
the whole schema is what lets arms of different schema versions be compared: the version
of each arm is recorded, not enforced. A stage directory must be finished (manifest), so an
ablation never trains on a half-written stage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from qurate.ablate.config import NAME_RE
from qurate.contract.compressed import StreamDamage
from qurate.contract.schema import schema_version
from qurate.contract.shards import shard_paths
from qurate.contract.stagedir import require_finished
from qurate.errors import BadInputError, ConfigError
from qurate.readers.inputs import iter_lines

WANTED = (
    "id",
    "text",
    "domain",
    "lang",
    "question",
    "choices",
    "answer",
    "prompt",
    "reference",
    "tests",
)


def parse_specs(specs: list[str], what: str) -> dict[str, str]:
    """``["raw=in.jsonl", ...]`` -> ``{"raw": "in.jsonl"}``; a bad or repeated name is an error."""
    out: dict[str, str] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not path:
            raise ConfigError(f"{what} {spec!r}: write NAME=PATH (e.g. raw=in/docs.jsonl)")
        if not NAME_RE.match(name):
            raise ConfigError(
                f"{what} name {name!r}: use letters, digits, '_', '-', '.', '+' (it names a folder)"
            )
        if name in out:
            raise ConfigError(f"{what} name {name!r} is given twice")
        out[name] = path
    return out


def _jsonl_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a plain, ``.gz`` or ``.zst`` JSONL file; a line that cannot be read is a
    one-line error naming the file and line (an arm or an eval is used whole or not at all)."""
    rows = []
    i = 0
    try:
        for i, raw in enumerate(iter_lines(str(path)), 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as e:
                raise BadInputError(f"{path}:{i}: not UTF-8 text ({e.reason})") from None
            except RecursionError:
                raise BadInputError(f"{path}:{i}: not valid JSON (nested too deeply)") from None
            except ValueError as e:  # JSONDecodeError, and ints longer than Python will parse
                raise BadInputError(
                    f"{path}:{i}: not valid JSON ({getattr(e, 'msg', e)})"
                ) from None
            rows.append(rec if isinstance(rec, dict) else {"_bad": rec})
    except StreamDamage as d:
        raise BadInputError(f"{d.describe(str(path))}, after line {i}") from None
    except OSError as e:
        raise BadInputError(f"{path}: cannot read ({e})") from None
    return rows


def _parquet_table(files: list[Path]) -> tuple[pa.Table, list[str]]:
    tables, versions = [], set()
    for f in files:
        try:
            schema = pq.read_schema(f)
            cols = [c for c in WANTED if c in schema.names]
            tables.append(pq.read_table(f, columns=cols))
        except (OSError, pa.ArrowException) as e:
            raise BadInputError(f"{f}: not a readable Parquet file ({e})") from None
        versions.add(schema_version(schema) or "none")
    if not tables:
        return pa.table({}), []
    return pa.concat_tables(tables, promote_options="permissive"), sorted(versions)


def read_rows(path: str | Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows (only the columns in ``WANTED``) of a stage directory, a Parquet file or a
    JSONL file, and facts about them (``kind``, ``schema_versions``, ``path``). Rows are
    Python dicts: evaluation files mix types (an ``answer`` of 1 in one row, "B" in
    another) that a typed table would refuse."""
    p = Path(path)
    if p.is_dir():
        require_finished(p)
        table, versions = _parquet_table(shard_paths(p))
        return table.to_pylist(), {"path": str(p), "kind": "stage", "schema_versions": versions}
    if not p.is_file():
        raise BadInputError(f"{p}: no such file or stage directory")
    if p.name.endswith(".parquet"):
        table, versions = _parquet_table([p])
        return table.to_pylist(), {"path": str(p), "kind": "parquet", "schema_versions": versions}
    if any(p.name.endswith(s) for s in (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".jsonl.zst")):
        rows = [{k: r.get(k) for k in WANTED if k in r} for r in _jsonl_rows(p)]
        return rows, {"path": str(p), "kind": "jsonl", "schema_versions": []}
    raise BadInputError(f"{p}: expected a stage directory, .parquet or .jsonl(.gz) file")


def texts_of(rows: list[dict[str, Any]]) -> list[str]:
    """The non-empty ``text`` values of some rows."""
    return [t for r in rows if isinstance(t := r.get("text"), str) and t.strip()]
