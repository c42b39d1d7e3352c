"""Benchmark: qurate's curate pipeline against stock datatrove with the same steps.

Each runs in a fresh Python process of its own (as a user's ``qurate curate`` does; the
forkserver that starts every local pool worker belongs to that process), on the same input
folder of JSONL files, with the same number of tasks and workers, timed around the pipeline
call (imports in the main process are not counted, for either):

- baseline: datatrove's JsonlReader -> LanguageFilter (fastText lid.176) -> Gopher
  repetition -> Gopher quality -> C4 -> FineWeb quality -> MinHash signatures, buckets,
  clusters, filter -> ParquetWriter (the FineWeb recipe, stock settings);
- qurate: `qurate curate` with its default config (which does more: normalisation, exact
  dedup, token counting, rejects written out).

Prints docs/s and MB/s per core for each; the last line is ``ratio=<qurate/baseline>``.

Usage: python bench/curate.py [INPUT_DIR] [--tasks N] [--workers N]
The default input is bench/data/bench50 (build it with `python bench/evalset.py --big 50`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from datatrove.utils.lid import FT176LID

LID_MODEL = Path(__file__).resolve().parent.parent / "qurate" / "data" / "lid.176.ftz"


class BundledFT176(FT176LID):
    """datatrove's lid.176 backend, loading the bundled model instead of downloading it."""

    @property
    def model(self):
        if self._model is None:
            from fasttext.FastText import _FastText

            self._model = _FastText(str(LID_MODEL))
        return self._model


def run_baseline(inp: Path, work: Path, tasks: int, workers: int) -> int:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupBuckets
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
    )
    from datatrove.pipeline.readers import JsonlReader, ParquetReader
    from datatrove.pipeline.writers import ParquetWriter

    from qurate.contract.executors import QuietLogs  # same console logging as ours, for fairness

    lang = LanguageFilter()
    lang.model = BundledFT176(None)
    mh = MinhashConfig()
    stage1 = LocalPipelineExecutor(
        [
            QuietLogs(),
            JsonlReader(str(inp)),
            lang,
            GopherRepetitionFilter(),
            GopherQualityFilter(),
            C4QualityFilter(),
            FineWebQualityFilter(),
            ParquetWriter(str(work / "filtered")),
        ],
        tasks=tasks,
        workers=workers,
        logging_dir=str(work / "logs1"),
    )
    sig = LocalPipelineExecutor(
        [
            QuietLogs(),
            ParquetReader(str(work / "filtered")),
            MinhashDedupSignature(str(work / "sigs"), config=mh),
        ],
        tasks=tasks,
        workers=workers,
        logging_dir=str(work / "logs2"),
    )
    buckets = LocalPipelineExecutor(
        [QuietLogs(), MinhashDedupBuckets(str(work / "sigs"), str(work / "buckets"), config=mh)],
        tasks=mh.num_buckets,
        workers=workers,
        logging_dir=str(work / "logs3"),
    )
    cluster = LocalPipelineExecutor(
        [QuietLogs(), MinhashDedupCluster(str(work / "buckets"), str(work / "remove"), config=mh)],
        tasks=1,
        logging_dir=str(work / "logs4"),
    )
    final = LocalPipelineExecutor(
        [
            QuietLogs(),
            ParquetReader(str(work / "filtered")),
            MinhashDedupFilter(str(work / "remove")),
            ParquetWriter(str(work / "out")),
        ],
        tasks=tasks,
        workers=workers,
        logging_dir=str(work / "logs5"),
    )
    stats = stage1.run()
    for ex in (sig, buckets, cluster, final):
        ex.run()
    return int(stats.stats[0].stats["documents"].total)


def run_qurate(inp: Path, work: Path, tasks: int, workers: int) -> int:
    from qurate.contract.executors import ExecutorConfig
    from qurate.curate.config import CurateConfig
    from qurate.curate.pipeline import curate

    result = curate(
        [inp],
        work / "qurate-out",
        CurateConfig(),
        executor=ExecutorConfig(tasks=tasks, workers=workers),
        progress=False,
    )
    return int(result.manifest["counts"]["in"])


def split_input(inp: Path, parts: int, work: Path) -> Path:
    """Both pipelines split work across tasks by file: give them ``parts`` files."""
    files = sorted(p for p in inp.rglob("*.jsonl") if p.is_file())
    if len(files) >= parts:
        return inp
    out = work / "split"
    out.mkdir(parents=True)
    sinks = [open(out / f"part-{i:03d}.jsonl", "w") for i in range(parts)]
    n = 0
    for f in files:
        with open(f) as fh:
            for line in fh:
                sinks[n % parts].write(line)
                n += 1
    for s in sinks:
        s.close()
    return out


def run_side(name: str, inp: Path, tasks: int, workers: int) -> tuple[int, float]:
    """(documents, seconds) of one side, run in a child process."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            str(inp),
            "--tasks",
            str(tasks),
            "--workers",
            str(workers),
            "--side",
            name,
        ],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    docs, dt = out.strip().splitlines()[-1].split()
    return int(docs), float(dt)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default=str(Path(__file__).parent / "data" / "bench50"))
    ap.add_argument("--tasks", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--side", choices=("datatrove", "qurate"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    inp = Path(args.input)
    if args.side:  # a child: run one side, print "docs seconds"
        fn = run_baseline if args.side == "datatrove" else run_qurate
        work = Path(tempfile.mkdtemp(prefix=f"bench-{args.side}-"))
        try:
            t0 = time.perf_counter()
            docs = fn(inp, work, args.tasks, args.workers)
            dt = time.perf_counter() - t0
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(docs, dt)
        return
    if not inp.is_dir():
        raise SystemExit(
            f"{inp}: no input folder; build it with `python bench/evalset.py --big 50`"
        )
    scratch = Path(tempfile.mkdtemp(prefix="bench-input-"))
    inp = split_input(inp, args.tasks, scratch)
    mb = sum(p.stat().st_size for p in inp.rglob("*") if p.is_file()) / 1e6
    print(f"input: {inp} ({mb:.1f} MB), tasks={args.tasks}, workers={args.workers}")
    results = {}
    try:
        for name in ("datatrove", "qurate"):
            docs, dt = run_side(name, inp, args.tasks, args.workers)
            results[name] = docs / dt
            print(
                f"{name:10s} {docs:>9,} docs in {dt:7.1f} s  {docs / dt:9,.0f} docs/s  "
                f"{mb / dt / args.workers:6.2f} MB/s per core",
                flush=True,
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"ratio={results['qurate'] / results['datatrove']:.2f}")


if __name__ == "__main__":
    main()
