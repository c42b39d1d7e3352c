"""Deterministic sampling as two DuckDB queries, and the key of the global shuffle.

For a bucket with rate r every eligible document is repeated ``floor(r)`` times. The
fractional part is a hash-based choice: documents are ordered by
``h = md5(pick:seed:id:k)`` (k = floor(r), the repeat being drawn) and the smallest hashes
are taken until they hold ``frac(r)`` of the bucket's tokens. That threshold is computed
once per bucket over narrow columns (hash, tokens), so the draw hits the planned tokens to
within one document while the selection itself stays a streaming comparison ``h <= t``.

The shuffle orders the selected rows by ``md5(shuffle:seed:id:k)``; ties (the same id
twice in the inputs) break on file name and row number, so the order is total and two
runs give the same rows in the same order. The sort itself is not DuckDB's: an ORDER BY
that carries the text ran out of memory at a 256 MB limit on 110 MB of input (DuckDB
2.0.1), so ``qurate.mixers.shuffle`` sorts in bounded memory instead. md5 is used rather
than DuckDB's ``hash`` because its value is fixed by a standard, not by a DuckDB version.
"""

from __future__ import annotations

import hashlib

import duckdb
import pyarrow as pa

from qurate.contract.schema import DOC_COLUMNS
from qurate.mixers.plan import DOMAIN_SQL, MixPlan, bucket_sql, values_sql

BUCKET_COL = "_qurate_bucket"
REPEAT_COL = "_qurate_repeat"
KEY_COL = "_qurate_key"
FILE_COL = "_qurate_file"
ROW_COL = "_qurate_row"
HELPER_COLUMNS = [BUCKET_COL, REPEAT_COL, KEY_COL, FILE_COL, ROW_COL]


def doc_hash(kind: str, seed: int, doc_id: str, repeat: int) -> int:
    """The 64-bit hash the queries use, in Python (for tests and for other tools)."""
    digest = hashlib.md5(f"{kind}:{seed}:{doc_id}:{repeat}".encode()).digest()
    return int.from_bytes(digest[8:], "little")  # = DuckDB md5_number_lower


def _hash_sql(kind: str, seed: int, repeat_sql: str) -> str:
    return f"md5_number_lower(concat_ws(':', '{kind}', '{int(seed)}', id, ({repeat_sql})::VARCHAR))"


PLAN_COLUMNS = [
    ("p_domain", "VARCHAR"),
    ("p_bucket", "INTEGER"),
    ("p_whole", "BIGINT"),  # whole repeats of every document
    ("p_quota", "DOUBLE"),  # tokens to draw for the fractional repeat
    ("p_min_q", "DOUBLE"),
    ("p_threshold", "UBIGINT"),  # largest pick-hash drawn in the fractional repeat
]


def plan_rows(plan: MixPlan, min_quality: dict[str, float | None]) -> list[tuple]:
    """The per-bucket plan as rows of ``PLAN_COLUMNS`` (threshold still unset)."""
    rows = []
    for b in plan.buckets:
        if b.rate > 0 and b.tokens > 0:
            whole = int(b.rate)
            rows.append(
                (
                    b.domain,
                    b.bucket,
                    whole,
                    (b.rate - whole) * b.tokens,
                    min_quality.get(b.domain),
                    None,
                )
            )
    return rows


def _eligible_join(rel: str, edges: list[float], plan_sql: str) -> str:
    return f"""
        FROM {rel} d JOIN {plan_sql} p
          ON p.p_domain = {DOMAIN_SQL} AND p.p_bucket = {bucket_sql(edges)}
        WHERE (p.p_min_q IS NULL OR coalesce(d.quality, '-inf'::DOUBLE) >= p.p_min_q)
    """


def fractional_thresholds(
    con: duckdb.DuckDBPyConnection, rel: str, plan: MixPlan, rows: list[tuple]
) -> list[tuple]:
    """``rows`` with, per bucket, the largest pick-hash to take in the fractional repeat.

    The cut is placed at whichever document boundary is nearest to the quota; a bucket
    whose quota is below half its first document draws none (threshold null).
    """
    todo = [r for r in rows if r[3] > 0]
    if not todo:
        return rows
    sql = f"""
        WITH x AS (
            SELECT p.p_domain, p.p_bucket, p.p_quota AS quota,
                   {_hash_sql("pick", plan.seed, "p.p_whole")} AS h, d.n_tokens,
                   d.filename AS fn, d.file_row_number AS rn
            {_eligible_join(rel, plan.edges, values_sql(PLAN_COLUMNS, todo))}
        ), c AS (
            SELECT *, sum(n_tokens) OVER (
                PARTITION BY p_domain, p_bucket ORDER BY h, fn, rn
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum
            FROM x
        )
        SELECT p_domain, p_bucket, coalesce(
            max(h) FILTER (WHERE cum - n_tokens < quota AND quota <= cum
                           AND cum - quota <= quota - (cum - n_tokens)),
            max(h) FILTER (WHERE cum < quota)) AS p_threshold
        FROM c GROUP BY ALL
    """
    cuts = {(d, b): t for d, b, t in con.sql(sql).fetchall()}
    return [(*r[:5], cuts.get((r[0], r[1]))) for r in rows]


SORT_KEYS = [(KEY_COL, "ascending"), ("id", "ascending"), (REPEAT_COL, "ascending"),
             (FILE_COL, "ascending"), (ROW_COL, "ascending")]  # fmt: skip


def selection_reader(
    con: duckdb.DuckDBPyConnection, rel: str, plan: MixPlan, rows: list[tuple], batch_rows: int
) -> pa.RecordBatchReader:
    """The sampled rows (with repeats), unordered, streamed in record batches.

    Adds the quality bucket and the repeat index (for the manifest's tallies) and the
    shuffle key with its tie-breakers (file name, row number): ``SORT_KEYS`` is a total
    order, which ``qurate.mixers.shuffle`` sorts by in bounded memory.
    """
    cols = ", ".join(f"d.{c}" for c in DOC_COLUMNS)
    sql = f"""
        WITH r AS (
            SELECT {cols}, d.filename AS {FILE_COL}, d.file_row_number AS {ROW_COL},
                   p.p_bucket AS {BUCKET_COL}, p.p_whole, p.p_threshold,
                   unnest(range(p.p_whole + (p.p_threshold IS NOT NULL)::INT)) AS {REPEAT_COL}
            {_eligible_join(rel, plan.edges, values_sql(PLAN_COLUMNS, rows))}
        )
        SELECT * EXCLUDE (p_whole, p_threshold),
               {_hash_sql("shuffle", plan.seed, REPEAT_COL)} AS {KEY_COL}
        FROM r
        WHERE CASE WHEN {REPEAT_COL} < p_whole THEN true
                   ELSE {_hash_sql("pick", plan.seed, REPEAT_COL)} <= p_threshold END
    """
    return con.sql(sql).to_arrow_reader(batch_rows)
