"""Reading ``scores``: schema v2 shards as written vs v1 shards upgraded on read.

v2 stores ``scores`` as ``list<struct<name, value>>``; a v1 shard (``map<string, float>``) is
relabelled to that type batch by batch as it is read (``qurate.contract.schema.upgrade_scores``).
The baseline is reading v2 shards; the ratio is v1-with-upgrade time / v2 time, so ~1.0 means
the reader for old shards costs nothing. Run: ``python bench/scores_v2.py [--rows 400000]``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from qurate.contract.schema import SCHEMA_VERSION_KEY, rows_to_table
from qurate.contract.shards import iter_batches, write_manifest

DIMS = ["educational_value", "writing_quality", "knowledge_density", "reasoning_depth"]


def _write(d: Path, rows: list[dict], v1: bool, shards: int) -> None:
    d.mkdir(parents=True)
    per = len(rows) // shards
    for s in range(shards):
        t = rows_to_table(rows[s * per : (s + 1) * per])
        if v1:
            scores = pa.array(
                [list(r["scores"].items()) for r in rows[s * per : (s + 1) * per]],
                pa.map_(pa.string(), pa.float32()),
            )
            i = t.schema.get_field_index("scores")
            t = t.set_column(i, pa.field("scores", scores.type), scores)
            t = t.replace_schema_metadata({SCHEMA_VERSION_KEY: b"1"})
        pq.write_table(t, d / f"part-{s:05d}.parquet", compression="zstd")
    n = per * shards
    write_manifest(d, stage="bench", config_hash="b", inputs=[], n_in=n, n_kept=n,
                   rejected_by_reason={})  # fmt: skip


def _read(d: Path) -> float:
    t0 = time.perf_counter()
    n = 0
    for batch in iter_batches(d, columns=["id", "scores"], batch_size=8192):
        n += len(batch.column(1).flatten())
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(0)
    rows = [
        {"id": f"d{i}", "text": "x", "scores": {k: rng.random() * 5 for k in DIMS}}
        for i in range(args.rows)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        v2, v1 = Path(tmp) / "v2", Path(tmp) / "v1"
        _write(v2, rows, v1=False, shards=8)
        _write(v1, rows, v1=True, shards=8)
        t2 = min(_read(v2) for _ in range(args.repeats))  # baseline first
        t1 = min(_read(v1) for _ in range(args.repeats))
    print(f"rows={args.rows} dims={len(DIMS)}")
    print(f"v2 (as written): {t2:.3f} s  ({args.rows / t2:,.0f} rows/s)")
    print(f"v1 (upgraded on read): {t1:.3f} s  ({args.rows / t1:,.0f} rows/s)")
    print(f"ratio={t1 / t2:.2f}")


if __name__ == "__main__":
    main()
