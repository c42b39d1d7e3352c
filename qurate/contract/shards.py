"""Shard I/O for the data contract: pinned schema, zstd, atomic writes, manifests.

A stage directory holds ``part-*.parquet`` (kept documents), ``rejects/part-*.parquet``
(dropped documents with ``reject_reason``, ``stage`` and ``reject_detail``) and
``manifest.json``. A shard is written under a temporary name and renamed when complete,
so a reader never sees half a shard; readers ignore temporary files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from qurate.contract.files import require_shard_file
from qurate.contract.schema import (
    DOC_SCHEMA,
    READABLE_VERSIONS,
    REJECT_SCHEMA,
    SCHEMA_VERSION,
    SCORES_TYPE,
    rows_to_table,
    schema_version,
    scores_dict,
    upgrade_table,
)
from qurate.contract.stagedir import (
    COMPRESSION,
    MANIFEST,
    RUN_MARKER,
    atomic_write_bytes,
    config_hash,
    read_manifest,
    require_finished,
    write_manifest,
    write_table,
)
from qurate.errors import BadInputError

REJECTS = "rejects"


class ShardWriter:
    """Append rows; every ``rows_per_shard`` rows (or ``bytes_per_shard`` of text) becomes one
    atomically written shard named ``{prefix}-{index:05d}.parquet``."""

    def __init__(
        self,
        directory: str | Path,
        *,
        prefix: str = "part",
        rejects: bool = False,
        rows_per_shard: int = 50_000,
        bytes_per_shard: int = 256 * 1024 * 1024,
    ) -> None:
        self.directory = Path(directory)
        self.prefix = prefix
        self.rejects = rejects
        self.rows_per_shard = rows_per_shard
        self.bytes_per_shard = bytes_per_shard
        self._rows: list[dict[str, Any]] = []
        self._bytes = 0
        self.index = 0
        self.written: list[Path] = []
        self.count = 0

    def write(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        self._bytes += len(row.get("text") or "")
        self.count += 1
        if len(self._rows) >= self.rows_per_shard or self._bytes >= self.bytes_per_shard:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        path = self.directory / f"{self.prefix}-{self.index:05d}.parquet"
        write_table(path, rows_to_table(self._rows, rejects=self.rejects))
        self.written.append(path)
        self.index += 1
        self._rows = []
        self._bytes = 0

    def close(self) -> list[Path]:
        self.flush()
        return self.written

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()


def shard_paths(directory: str | Path, *, rejects: bool = False) -> list[Path]:
    """The complete shards of a stage directory (or of its ``rejects/``), sorted; an entry
    named like a shard that is not a regular file is a one-line error (``require_shard_file``:
    a FIFO blocked mix, stats and report on open forever)."""
    d = Path(directory) / REJECTS if rejects else Path(directory)
    if not d.is_dir():
        return []
    paths = sorted(p for p in d.glob("*.parquet") if not p.name.startswith("."))
    for p in paths:
        require_shard_file(p)
    return paths


def _why(d: Path) -> str:
    """Why a finished stage has no shards, from its manifest: it kept nothing (a run whose
    every input was rejected, or that had no input), which "no shards" alone did not say."""
    try:
        m = read_manifest(d)
    except BadInputError:
        return ""
    counts = m.get("counts") if isinstance(m.get("counts"), dict) else {}
    if not isinstance(m.get("stage"), str) or counts.get("kept") != 0:
        return ""
    rejected = counts.get("rejected_by_reason") or {}
    top = ", ".join(f"{k} {v}" for k, v in sorted(rejected.items(), key=lambda kv: -kv[1])[:3])
    return (
        f": its {m['stage']} run finished but kept no documents (0 of {counts.get('in', 0)}"
        f"{'; rejected: ' + top if top else ''}); nothing to read"
    )


def check_stage_dir(directory: str | Path, *, finished: bool = True) -> Path:
    """A readable stage directory, or a one-line error saying what is wrong.

    ``finished`` (every stage's reader) also requires the manifest, so no stage reads the
    partial output of an interrupted run; ``qurate stats`` may look inside one."""
    d = Path(directory)
    if not d.exists():
        raise BadInputError(f"{d}: no such directory")
    if not d.is_dir():
        raise BadInputError(f"{d}: not a directory (expected a stage directory of Parquet shards)")
    if finished and (d / RUN_MARKER).is_file():
        require_finished(d)  # a stage that started here: unfinished, not "no shards"
    if not shard_paths(d) and not shard_paths(d, rejects=True):
        raise BadInputError(f"{d}: no Parquet shards (part-*.parquet) in this directory{_why(d)}")
    if finished:
        require_finished(d)
    return d


def read_schema(path: Path) -> pa.Schema:
    try:
        return pq.read_schema(path)
    except Exception as e:  # pyarrow raises several types for corrupt files
        raise BadInputError(f"{path}: not a readable Parquet file ({e})") from e


def check_schema_version(path: Path) -> str:
    """The shard's schema version; a one-line error unless this qurate reads it (v1 shards
    are read and upgraded to v2 as they are read)."""
    version = schema_version(read_schema(path))
    if version is None:
        raise BadInputError(f"{path}: not a qurate shard (no schema version in its metadata)")
    if version not in READABLE_VERSIONS:
        raise BadInputError(
            f"{path}: schema version {version}, this qurate reads versions "
            f"{', '.join(READABLE_VERSIONS)} (writes {SCHEMA_VERSION})"
        )
    return version


def _fits(actual: pa.DataType, pinned: pa.DataType) -> bool:
    """Whether a column of type ``actual`` holds what the schema's ``pinned`` type holds, so
    that it casts to it without parsing or truncating (an all-null column fits anything)."""
    if pa.types.is_dictionary(actual):
        actual = actual.value_type
    if actual == pinned or pa.types.is_null(actual):
        return True
    if pa.types.is_large_string(pinned) or pa.types.is_string(pinned):
        return pa.types.is_string(actual) or pa.types.is_large_string(actual)
    if pa.types.is_floating(pinned):
        return pa.types.is_floating(actual) or pa.types.is_integer(actual)
    if pa.types.is_integer(pinned):
        return pa.types.is_integer(actual)
    if pinned == SCORES_TYPE:
        return pa.types.is_map(actual)  # schema v1, upgraded as it is read
    return False


NOT_NULL = ("id", "text")  # every document has both (the schema's non-nullable fields)


def check_doc_columns(path: Path, schema: pa.Schema | None = None) -> None:
    """A one-line error naming the first document column a shard holds with another type
    than the schema's (``domain`` of integers, ``n_tokens`` of doubles: a hand-made or
    foreign shard), then a null ``id`` or ``text``. Columns it lacks are the caller's rule."""
    schema = schema if schema is not None else read_schema(path)
    for f in DOC_SCHEMA:
        if f.name in schema.names and not _fits(actual := schema.field(f.name).type, f.type):
            raise BadInputError(
                f"{path}: column {f.name} is {actual}, the document schema has {f.type}; "
                "rewrite the shard with the schema (qurate.contract.schema.DOC_SCHEMA)"
            )
    for name in NOT_NULL:
        if name in schema.names and (n := null_count(path, name)):
            raise BadInputError(
                f"{path}: {n:,} document(s) with a null {name}; every document needs one"
            )


def check_doc_shards(directory: Path) -> None:
    """``check_doc_columns`` on every kept shard of a stage directory (footers only), before
    a stage starts work. A shard whose footer does not read is left to the task that reads
    it, which names it (and a rerun resumes after the tasks that finished)."""
    for path in shard_paths(directory):
        try:
            schema = read_schema(path)
        except BadInputError:
            continue
        check_doc_columns(path, schema)


def null_count(path: Path, column: str) -> int:
    """Nulls in a column, from the Parquet footer statistics when present."""
    pf = pq.ParquetFile(path)
    leaves = pf.metadata.schema  # statistics are per leaf column, not per arrow field
    col = next(i for i in range(len(leaves)) if leaves.column(i).path == column)
    total = 0
    for rg in range(pf.metadata.num_row_groups):
        stats = pf.metadata.row_group(rg).column(col).statistics
        if stats is None or not stats.has_null_count:
            # No statistics: read the one column.
            return pf.read(columns=[column]).column(0).null_count
        total += stats.null_count
    return total


def iter_batches(
    directory: str | Path,
    *,
    rejects: bool = False,
    columns: list[str] | None = None,
    batch_size: int = 4096,
) -> Iterator[pa.RecordBatch]:
    """Stream record batches from every shard of a stage directory in bounded memory."""
    for path in shard_paths(directory, rejects=rejects):
        yield from _shard_batches(path, columns, batch_size)


def _shard_batches(
    path: Path, columns: list[str] | None = None, batch_size: int = 4096
) -> Iterator[pa.RecordBatch]:
    old = check_schema_version(path) != SCHEMA_VERSION
    try:
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=batch_size, columns=columns):
            yield upgrade_table(batch) if old else batch
    except BadInputError:
        raise
    except Exception as e:
        raise BadInputError(f"{path}: cannot read shard ({e})") from e


def _rows(batches: Iterator[pa.RecordBatch]) -> Iterator[dict[str, Any]]:
    for batch in batches:
        for row in batch.to_pylist():
            if isinstance(row.get("scores"), list):
                row["scores"] = scores_dict(row["scores"])
            yield row


def iter_rows(directory: str | Path, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Stream row dicts from a stage directory (``scores`` as a dict)."""
    return _rows(iter_batches(directory, **kwargs))


def iter_rows_of(path: Path, columns: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Stream row dicts from one shard file."""
    return _rows(_shard_batches(path, columns))


def count_rows(directory: str | Path, *, rejects: bool = False) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in shard_paths(directory, rejects=rejects))


__all__ = [
    "COMPRESSION",
    "DOC_SCHEMA",
    "REJECT_SCHEMA",
    "ShardWriter",
    "MANIFEST",
    "atomic_write_bytes",
    "check_doc_columns",
    "check_doc_shards",
    "check_stage_dir",
    "config_hash",
    "count_rows",
    "iter_batches",
    "iter_rows",
    "null_count",
    "read_manifest",
    "require_finished",
    "shard_paths",
    "write_manifest",
    "write_table",
]
