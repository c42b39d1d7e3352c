"""``qurate stats``: DuckDB over a stage directory, kept documents and rejects together.

Three views are defined over the shards, so ``--sql`` can query any of them:
``docs`` (kept), ``rejects`` (dropped, with ``reject_reason``, ``stage``, ``reject_detail``)
and ``all_docs`` (both, with a ``status`` column). DuckDB reads the Parquet files in place,
streaming, so this works on a directory of any size.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from qurate.contract.args import as_path
from qurate.contract.schema import REJECT_SCHEMA
from qurate.contract.shards import (
    check_schema_version,
    check_stage_dir,
    read_manifest,
    shard_paths,
)
from qurate.errors import BadInputError

BY_CHOICES = ("lang", "domain", "source", "reject_reason", "stage")


@contextmanager
def _shard_errors(directory: str | Path) -> Iterator[None]:
    """DuckDB failing on the shards themselves (a column of another type than the document
    schema's: ``n_tokens`` as text, ``scores`` as a string) as one line naming the directory;
    it was a traceback, exit 1."""
    try:
        yield
    except duckdb.Error as e:
        raise BadInputError(
            f"{directory}: cannot query its shards ({str(e).splitlines()[0]}); a column does "
            "not have the document schema's type"
        ) from None


def connect(directory: str | Path, *, confine: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with ``docs``, ``rejects`` and ``all_docs`` views over a stage dir.

    ``confine``: the connection may then touch no file but these shards (``allowed_paths``
    + ``enable_external_access=false``, then ``lock_configuration``), for untrusted SQL."""
    d = check_stage_dir(directory, finished=False)
    _not_samples(d)
    with _shard_errors(d):
        return _connect(d, confine)


def _not_samples(d: Path) -> None:
    """A `synth generate` directory holds samples (prompt, response), not documents: say so,
    where DuckDB's view over it was "not a qurate shard" about its own output."""
    try:
        stage = read_manifest(d).get("stage")
    except BadInputError:
        return
    if stage == "synth_generate":
        raise BadInputError(
            f"{d}: a synth generate directory holds samples, not documents; `qurate stats` "
            f"reads document stages: run `qurate synth filter {d}`, or query "
            f"{d / 'samples.parquet'} with DuckDB"
        )


def _connect(d: Path, confine: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    kept = shard_paths(d)
    rejected = shard_paths(d, rejects=True)
    empty = pa.Table.from_pylist([], schema=REJECT_SCHEMA)
    con.register("_empty", empty)
    as_map = "REPLACE (map_from_entries(scores) AS scores)"
    if kept:
        con.execute(f"CREATE VIEW docs AS {_scan(kept)}")
    else:
        cols = ", ".join(_reject_cols())
        con.execute(f"CREATE VIEW docs AS SELECT * EXCLUDE ({cols}) {as_map} FROM _empty")
    if rejected:
        con.execute(f"CREATE VIEW rejects AS {_scan(rejected)}")
    else:
        con.execute(f"CREATE VIEW rejects AS SELECT * {as_map} FROM _empty")
    con.execute(
        "CREATE VIEW all_docs AS "
        "SELECT *, 'kept' AS status, NULL::VARCHAR AS reject_reason, NULL::VARCHAR AS stage, "
        "NULL::VARCHAR AS reject_detail FROM docs "
        "UNION ALL BY NAME SELECT *, 'rejected' AS status FROM rejects"
    )
    if confine:
        con.execute(f"SET allowed_paths = {_list(kept + rejected)}")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    return con


def _scan(paths: list[Path]) -> str:
    """SQL over shards with ``scores`` as a DuckDB MAP (``scores['fluency']`` works): v2
    shards store it as a list of {name, value} structs, v1 shards as a map already."""
    by_version: dict[str, list[Path]] = {}
    for p in paths:
        by_version.setdefault(check_schema_version(p), []).append(p)
    parts = []
    for version, files in sorted(by_version.items()):
        cols = "*" if version == "1" else "* REPLACE (map_from_entries(scores) AS scores)"
        parts.append(f"SELECT {cols} FROM read_parquet({_list(files)}, union_by_name=true)")
    return " UNION ALL BY NAME ".join(parts)


def _reject_cols() -> list[str]:
    return ["reject_reason", "stage", "reject_detail"]


def _list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def summary(directory: str | Path) -> dict[str, Any]:
    con = connect(directory)
    with _shard_errors(directory):
        kept, chars, tokens = con.execute(
            "SELECT count(*), coalesce(sum(n_chars), 0), coalesce(sum(n_tokens), 0) FROM docs"
        ).fetchone()
        rejected = con.execute("SELECT count(*) FROM rejects").fetchone()[0]
    return {
        "kept": kept,
        "rejected": rejected,
        "in": kept + rejected,
        "chars": chars,
        "tokens": tokens,
    }


def stats_by(directory: str | Path, by: str) -> tuple[list[str], list[tuple]]:
    """Counts grouped by a column: kept and rejected documents, characters and tokens."""
    if by not in BY_CHOICES:
        raise BadInputError(f"--by {by}: choose one of {', '.join(BY_CHOICES)}")
    con = connect(directory)
    if by in ("reject_reason", "stage"):
        sql = (
            f"SELECT coalesce({by}, '(none)') AS {by}, count(*) AS rejected, "
            "sum(length(text)) AS chars, round(100.0 * count(*) / "
            "(SELECT greatest(count(*), 1) FROM rejects), 2) AS pct "
            f"FROM rejects GROUP BY 1 ORDER BY rejected DESC, 1"
        )
    else:
        sql = (
            f"SELECT coalesce({by}, '(none)') AS {by}, "
            "count(*) FILTER (WHERE status = 'kept') AS kept, "
            "count(*) FILTER (WHERE status = 'rejected') AS rejected, "
            "coalesce(sum(n_chars) FILTER (WHERE status = 'kept'), 0) AS kept_chars, "
            "coalesce(sum(n_tokens) FILTER (WHERE status = 'kept'), 0) AS kept_tokens "
            f"FROM all_docs GROUP BY 1 ORDER BY kept DESC, rejected DESC, 1"
        )
    with _shard_errors(directory):
        rel = con.execute(sql)
        return [c[0] for c in rel.description], rel.fetchall()


# Statement kinds a query may be: reading only. COPY, ATTACH, INSTALL/LOAD, CREATE, DROP,
# SET and the rest are refused before they run.
_READ_ONLY = ("SELECT", "EXPLAIN", "PRAGMA")


def run_sql(directory: str | Path, query: str) -> tuple[list[str], list[tuple]]:
    """Run the user's query against the ``docs``, ``rejects`` and ``all_docs`` views.

    Untrusted text reads only this stage: every statement must be a SELECT (or EXPLAIN /
    PRAGMA), and the connection may touch no file but the stage's own shards (``connect``
    with ``confine``), so ``COPY ... TO``, ``ATTACH``, ``INSTALL`` and
    ``read_csv('/etc/passwd')`` all fail.
    """
    if not isinstance(query, str):
        raise BadInputError(f"--sql: the query must be a str, got {type(query).__name__}")
    directory = as_path(directory, "run_sql directory")
    try:
        kinds = [s.type.name for s in duckdb.extract_statements(query)]
    except duckdb.Error as e:
        raise BadInputError(f"--sql: {str(e).splitlines()[0]}") from None
    if not kinds:
        raise BadInputError("--sql: the query is empty")
    refused = sorted({k for k in kinds if k not in _READ_ONLY})
    if refused:
        raise BadInputError(
            f"--sql: only read-only queries (SELECT, EXPLAIN, PRAGMA) run; refused: "
            f"{', '.join(refused)}"
        )
    con = connect(directory, confine=True)
    try:
        rel = con.execute(query)
    except duckdb.Error as e:
        raise BadInputError(f"--sql: {str(e).splitlines()[0]}") from None
    if rel.description is None:
        return [], []
    return [c[0] for c in rel.description], rel.fetchall()
