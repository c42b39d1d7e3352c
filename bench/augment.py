"""Recall quality on a held-out pool, and recall scoring throughput vs bare fastText predict.

Usage (after ``bash bench/setup-eval.sh``, which installs the Debian packages the text
comes from):

    .venv/bin/python bench/augment.py [--rounds 3] [--rebuild] [--repeat 5] [--bundled-seeds]

1. **Held-out pool** (cached in ``bench/data/augment/pool.jsonl``): real text from the
   ``eval`` side of ``corpus_sources.split_of``. Math: docstrings with LaTeX from sympy,
   mpmath, numpy, networkx, torch, pandas; code: source files in 8 languages; other: Python
   docs, Debian Reference in 4 languages, English man pages, the KJV Bible, fortunes.
2. **Seeds** (cached in ``bench/data/augment/seeds-{math,code}.jsonl``): the same kinds of
   text from the ``sample`` side, so no seed shares a source text with the pool. With
   ``--bundled-seeds`` the bundled ``qurate/data/sample/seeds/{math,code}.jsonl`` are used
   instead (sympy-only math seeds and 21 code files: narrower, and the recall shows it).
3. **Quality**: ``qurate augment recall`` (the library call, default config, no judge) for
   math and for code; recall and precision of the kept documents against the labels, plus
   the per-round report.
4. **Throughput**: a recall classifier's ``score(texts)`` (our input preparation, math
   features and predict) against bare ``model.predict`` of the same model on the same texts
   cut to the same ``max_chars`` (with the newline replacement fastText needs), best of
   ``--repeat`` alternating runs. The last line is ``ratio=<qurate/baseline>`` (docs/s).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

POOL = HERE / "data" / "augment" / "pool.jsonl"
SEEDS = ROOT / "qurate" / "data" / "sample" / "seeds"
MATH_PACKAGES = ("sympy", "mpmath", "numpy", "networkx", "torch", "pandas")


def build_pool(path: Path) -> None:
    import corpus_sources as cs

    site = (
        Path(sys.prefix)
        / "lib"
        / f"python{sys.version_info.major}.{sys.version_info.minor}"
        / "site-packages"
    )
    split = "eval"
    docs: list[tuple[str, cs.Doc]] = []
    for pkg in MATH_PACKAGES:
        docs += [
            ("math", d)
            for d in cs.math_docstrings(site / pkg, pkg, 100_000)
            if cs.split_of(d.key) == split
        ]
    docs += [("code", d) for d in cs.code_docs(split, 40)]
    other = cs.pydoc_docs(split) + cs.kjv_docs(split, 150) + list(cs.man_docs("en", split, 120))
    for lang in ("en", "de", "fr", "zh"):
        other += cs.debref_docs(lang, split)
    other += cs.fortune_docs("en", split)
    docs += [("other", d) for d in other]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for i, (label, d) in enumerate(docs):
            f.write(
                json.dumps(
                    {"id": f"pool-{i:05d}", "text": d.text, "label": label, "source": d.source}
                )
                + "\n"
            )


def build_seeds(directory: Path) -> None:
    import corpus_sources as cs

    site = (
        Path(sys.prefix)
        / "lib"
        / f"python{sys.version_info.major}.{sys.version_info.minor}"
        / "site-packages"
    )
    math = [
        d
        for pkg in MATH_PACKAGES
        for d in cs.math_docstrings(site / pkg, pkg, 100_000)
        if cs.split_of(d.key) == "sample"
    ]
    code = cs.code_docs("sample", 15)
    for domain, docs in (("math", math), ("code", code)):
        with open(directory / f"seeds-{domain}.jsonl", "w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps({"text": d.text, "source": d.source}) + "\n")


def load_pool(rebuild: bool) -> list[dict]:
    if rebuild or not POOL.exists():
        t = time.time()
        print(
            f"building the held-out pool in {POOL} (a few minutes: man pages are rendered) ...",
            flush=True,
        )
        build_pool(POOL)
        print(f"  built in {time.time() - t:.0f} s", flush=True)
    if rebuild or not (POOL.parent / "seeds-code.jsonl").exists():
        build_seeds(POOL.parent)
    return [json.loads(line) for line in POOL.read_text(encoding="utf-8").splitlines()]


def write_stage(rows: list[dict], directory: Path) -> None:
    from qurate.contract.shards import ShardWriter, write_manifest

    with ShardWriter(directory, rows_per_shard=500) as w:
        for r in rows:
            w.write(
                {
                    "id": r["id"],
                    "text": r["text"],
                    "source": r["source"],
                    "n_chars": len(r["text"]),
                    "n_tokens": len(r["text"]) // 4,
                }
            )
    write_manifest(
        directory,
        stage="bench-pool",
        config_hash="-",
        inputs=[str(POOL)],
        n_in=len(rows),
        n_kept=len(rows),
        rejected_by_reason={},
    )


def quality(
    rows: list[dict], pool_dir: Path, rounds: int, work: Path, seeds: Path
) -> dict[str, tuple[float, float]]:
    from qurate.augment.classifier import RecallConfig
    from qurate.augment.recall import recall
    from qurate.contract.shards import iter_rows

    labels = {r["id"]: r["label"] for r in rows}
    out: dict[str, tuple[float, float]] = {}
    prefix = "" if seeds == SEEDS else "seeds-"
    for domain in ("math", "code"):
        t = time.perf_counter()
        manifest = recall(
            pool_dir,
            work / domain,
            seeds / f"{prefix}{domain}.jsonl",
            domain,
            RecallConfig(rounds=rounds),
        )
        kept = {r["id"] for r in iter_rows(work / domain, columns=["id"])}
        truth = {i for i, lab in labels.items() if lab == domain}
        tp = len(kept & truth)
        rec, prec = tp / len(truth), tp / max(len(kept), 1)
        out[domain] = (rec, prec)
        print(
            f"\n{domain}: {manifest['n_seeds']} seeds, pool {len(rows)} docs ({len(truth)} {domain}), "
            f"{time.perf_counter() - t:.1f} s"
        )
        for rep in manifest["rounds"]:
            print(
                f"  round {rep['round']}: positives {rep['positives']} (pseudo {rep['pseudo_positives']}), "
                f"negatives {rep['negatives']}, recalled {rep['recalled_docs']} docs / "
                f"{rep['recalled_tokens']} tokens at P>={rep['threshold']:.3f}"
            )
        print(
            f"  final: recall {rec:.3f}  precision {prec:.3f}  (kept {len(kept)}, true positives {tp})"
        )
    return out


def throughput(rows: list[dict], repeat: int) -> float:
    from qurate.augment.classifier import RecallClassifier, RecallConfig
    from qurate.augment.recall import load_seeds

    cfg = RecallConfig()
    texts = [r["text"] for r in rows] * 4
    seeds = load_seeds(SEEDS / "math.jsonl")
    negs = [r["text"] for r in rows[:: max(1, len(rows) // (4 * len(seeds)))]]
    clf = RecallClassifier.train(seeds * 4, negs, cfg)
    model = clf.model
    cut = [t[: cfg.max_chars] for t in texts]

    def baseline() -> None:
        model.predict([t.replace("\n", " ") for t in cut], k=2)

    def ours() -> None:
        clf.score(texts)

    best = {"baseline": float("inf"), "qurate": float("inf")}
    for _ in range(repeat):
        for name, fn in (("baseline", baseline), ("qurate", ours)):
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    n = len(texts)
    mb = sum(len(t.encode()) for t in cut) / 1e6
    print(
        f"\nthroughput on {n} docs ({mb:.1f} MB after the {cfg.max_chars}-char cut), best of {repeat}:"
    )
    for name in ("baseline", "qurate"):
        print(f"  {name:9s} {n / best[name]:10,.0f} docs/s  {mb / best[name]:6.2f} MB/s")
    return best["baseline"] / best["qurate"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--rebuild", action="store_true", help="rebuild the cached held-out pool and seeds"
    )
    ap.add_argument("--bundled-seeds", action="store_true", help="use qurate/data/sample/seeds/")
    args = ap.parse_args()
    rows = load_pool(args.rebuild)
    counts = {lab: sum(r["label"] == lab for r in rows) for lab in ("math", "code", "other")}
    print(f"held-out pool: {len(rows)} docs {counts}")
    with tempfile.TemporaryDirectory(prefix="qurate-bench-augment-") as tmp:
        pool_dir = Path(tmp) / "pool"
        write_stage(rows, pool_dir)
        seeds = SEEDS if args.bundled_seeds else POOL.parent
        print(f"seeds: {seeds}")
        q = quality(rows, pool_dir, args.rounds, Path(tmp), seeds)
    ok = all(r >= 0.9 and p >= 0.9 for r, p in q.values())
    print(
        "\nquality bar (recall >= 0.9 at precision >= 0.9): "
        + ("met" if ok else "NOT met")
        + " -- "
        + ", ".join(f"{d} R={r:.3f} P={p:.3f}" for d, (r, p) in q.items())
    )
    ratio = throughput(rows, args.repeat)
    print(f"ratio={ratio:.3f}")


if __name__ == "__main__":
    main()
