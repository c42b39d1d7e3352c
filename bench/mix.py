"""Benchmark `qurate mix` against a plain pyarrow read + write of the same data.

Builds a synthetic scored corpus (pinned schema, several shards, four domains), then, each
in a fresh subprocess so that peak memory (ru_maxrss) is its own:

- baseline: read every shard with pyarrow in batches and write it back (zstd), the
  least any tool that rewrites the corpus must do;
- qurate: `mix` with a budget equal to the corpus's tokens and multipliers that move the
  shares (so whole repeats, fractional draws and the global shuffle all run).

Both move the same number of tokens. It prints throughput (input MB/s) for both at each
input size, peak memory against input size, and as its last line
``ratio=<qurate throughput / baseline throughput>`` at the largest size.

    .venv/bin/python bench/mix.py [--docs 40000] [--scales 1,4] [--memory-limit 256MB]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import queue
import resource
import shutil
import tempfile
import time
from pathlib import Path


def build_corpus(directory: Path, n_docs: int, seed: int = 0) -> None:
    """Write ``n_docs`` documents (~1.5 KB each) as pinned-schema shards of 10k rows.

    Words come from a 20k-word vocabulary with a Zipf draw, so the text compresses about
    like real text under zstd.
    """
    import numpy as np

    from qurate.contract.schema import rows_to_table
    from qurate.contract.shards import write_table

    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, size=rng.integers(2, 11))) for _ in range(20_000)]
    p = 1 / np.arange(1, len(vocab) + 1)
    p /= p.sum()
    domains = np.array(["ecommerce", "entertainment", "science", "technology"])
    dp = np.array([5, 3, 1.5, 1]) / 10.5
    for shard, start in enumerate(range(0, n_docs, 10_000)):
        rows = []
        stop = min(start + 10_000, n_docs)
        lengths = rng.integers(100, 401, size=stop - start)
        words = np.asarray(vocab, dtype=object)[
            rng.choice(len(vocab), size=int(lengths.sum()), p=p)
        ]
        ends = np.cumsum(lengths)
        for i, k, end in zip(range(start, stop), lengths.tolist(), ends.tolist(), strict=True):
            text = " ".join(words[end - k : end])
            q = float(rng.random())
            rows.append(
                {
                    "id": f"doc{i:09d}",
                    "text": text,
                    "source": "bench",
                    "lang": "en",
                    "domain": str(rng.choice(domains, p=dp)),
                    "quality": q,
                    "scores": {"educational_value": q},
                    "n_chars": len(text),
                    "n_tokens": k,
                }
            )
        write_table(directory / f"part-{shard:05d}.parquet", rows_to_table(rows))


def _baseline(src: str, dst: str, q: mp.Queue) -> None:
    import pyarrow.parquet as pq

    from qurate.contract.shards import shard_paths

    t = time.perf_counter()
    Path(dst).mkdir(parents=True)
    for p in shard_paths(src):
        pf = pq.ParquetFile(p)
        with pq.ParquetWriter(Path(dst) / p.name, pf.schema_arrow, compression="zstd") as w:
            for batch in pf.iter_batches(batch_size=2048):
                w.write_batch(batch)
    q.put((time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _qurate(src: str, dst: str, memory_limit: str, q: mp.Queue) -> None:
    from qurate.mixers import mix, parse_mix_config, plan_mix

    probe = parse_mix_config({"budget_tokens": 1})  # size the budget (not timed)
    supply = sum(d.available_tokens for d in plan_mix([Path(src)], probe).domains.values())
    cfg = parse_mix_config(
        {
            "budget_tokens": supply,
            "memory_limit": memory_limit,
            "shard_tokens": 5_000_000,
            "domains": {
                "ecommerce": {"multiplier": 0.6},
                "science": {"multiplier": 1.8},
                "technology": {"multiplier": 2.2},
            },
        }
    )
    t = time.perf_counter()
    m = mix([Path(src)], Path(dst), cfg)
    q.put((time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, m["mix"]))


def _run(target, *args) -> tuple:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    while True:
        try:
            out = q.get(timeout=5)
            break
        except queue.Empty:
            if not p.is_alive():
                raise SystemExit(f"{target.__name__} failed (exit code {p.exitcode})") from None
    p.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=40_000, help="documents at scale 1")
    ap.add_argument("--scales", default="1,4", help="input sizes as multiples of --docs")
    ap.add_argument("--memory-limit", default="256MB", help="DuckDB memory limit for the mix")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="qurate-bench-mix-"))
    ratio = 0.0
    try:
        print(f"{'docs':>9} {'input MB':>9} {'base MB/s':>10} {'mix MB/s':>9} {'ratio':>6} "
              f"{'base peak MB':>12} {'mix peak MB':>11} {'max share err':>13}")  # fmt: skip
        for scale in (int(s) for s in args.scales.split(",")):
            n = args.docs * scale
            src = root / f"in-{scale}"
            build_corpus(src, n)
            mb = sum(p.stat().st_size for p in src.glob("*.parquet")) / 1e6
            t_base, rss_base = _run(_baseline, str(src), str(root / f"base-{scale}"))
            t_mix, rss_mix, summary = _run(
                _qurate, str(src), str(root / f"mix-{scale}"), args.memory_limit
            )
            err = max(
                abs(v["achieved_share"] - v["target_share"]) for v in summary["domains"].values()
            )
            ratio = (mb / t_mix) / (mb / t_base)
            print(f"{n:>9,} {mb:>9.1f} {mb / t_base:>10.1f} {mb / t_mix:>9.1f} {ratio:>6.2f} "
                  f"{rss_base / 1024:>12.0f} {rss_mix / 1024:>11.0f} {err:>13.4%}")  # fmt: skip
            for d in ("base", "mix", "in"):
                shutil.rmtree(root / f"{d}-{scale}", ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
