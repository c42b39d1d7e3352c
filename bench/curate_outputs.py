"""Fingerprint what ``qurate curate`` decides, to prove a speed change changes nothing.

Runs ``qurate curate`` (default config, ``--tasks``/``--workers`` as given) on each input and
writes one line per document, sorted by id: kept or rejected, reason, detail, and a hash of
every output column (text, language and score, token count, meta with the web lines cut).
Two fingerprints from before and after a change must be identical (``diff`` them, or pass
``--compare OLD.tsv``: exit status 1 and the first differing lines when they differ).

    PYTHONPATH=. python bench/curate_outputs.py bench/data/bench50 -o /tmp/bench50.tsv
    PYTHONPATH=. python bench/curate_outputs.py bench/data/web/test/pages.warc.gz \\
        -o /tmp/webtest.tsv --compare /tmp/webtest-before.tsv
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

from qurate.contract.executors import ExecutorConfig
from qurate.curate.config import CurateConfig
from qurate.curate.pipeline import curate


def fingerprint(out: Path) -> list[str]:
    rows: list[str] = []
    for path in sorted(out.glob("part-*.parquet")) + sorted(out.glob("rejects/part-*.parquet")):
        for row in pq.read_table(path).to_pylist():
            digest = hashlib.sha1(json.dumps(row, sort_keys=True, default=str).encode())
            status = row.get("reject_reason") or "kept"
            detail = row.get("reject_detail") or ""
            rows.append(f"{row['id']}\t{status}\t{detail}\t{digest.hexdigest()[:16]}")
    return sorted(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("-o", "--output", required=True, help="fingerprint file (TSV) to write")
    ap.add_argument("--compare", help="an earlier fingerprint: exit 1 if this one differs")
    ap.add_argument("--tasks", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="curate-outputs-"))
    try:
        res = curate(
            [args.input],
            work / "out",
            CurateConfig(),
            executor=ExecutorConfig(tasks=args.tasks, workers=args.workers),
            progress=False,
        )
        rows = fingerprint(work / "out")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    Path(args.output).write_text("".join(r + "\n" for r in rows))
    counts = res.manifest["counts"]
    print(f"{len(rows)} docs: kept {counts['kept']}, rejected {counts['rejected']}")
    if args.compare:
        old = Path(args.compare).read_text().splitlines()
        if old != rows:
            diff = [f"- {a}\n+ {b}" for a, b in zip(old, rows, strict=False) if a != b]
            print(f"DIFFERENT: {len(old)} vs {len(rows)} rows; first differences:")
            print("\n".join(diff[:10]))
            sys.exit(1)
        print("identical")


if __name__ == "__main__":
    main()
