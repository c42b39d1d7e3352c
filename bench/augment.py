"""Recall quality on the dev pool (tuned on), and recall scoring throughput vs bare fastText.

Usage (after ``bash bench/setup-eval.sh``, which installs the Debian packages the text
comes from; ``ln -s /work/main/bench/data bench/data`` in a worktree):

    .venv/bin/python bench/augment.py [--rounds 3] [--rebuild] [--repeat 5] [--wide-seeds]
        [--domain math] [--set key=JSON ...] [--no-throughput] [--train-cost] [--prior-cost]

1. **Dev pool** (cached in ``bench/data/augment/pool.jsonl``; the recall defaults were tuned
   on it, so its figures flatter them: ``bench/augment_untuned.py`` has the pool reported
   once): real text from the ``eval`` side of ``corpus_sources.split_of``. Math: docstrings
   with LaTeX from sympy, mpmath, numpy, networkx, torch, pandas; code: source files in 8
   languages; other: Python docs, Debian Reference in 4 languages, man pages in 15
   languages (120 English, 30 each other), the KJV Bible, fortunes. Every document carries
   its ``lang`` (code: ``code``), as curate's language ID would set it, so the negatives
   cover every language.
2. **Seeds**: the bundled ``qurate/data/sample/seeds/{math,code}.jsonl`` (60 sympy
   docstrings, 21 code files: the narrow seeds of issue 15). With ``--wide-seeds``, the
   same kinds of text as the pool from the ``sample`` side (cached in
   ``bench/data/augment/seeds-{math,code}.jsonl``), so no seed shares a source text with it.
3. **Quality**: ``qurate augment recall`` (the library call, default config plus ``--set``
   overrides, no judge); every round's true recall and precision at its cut and at other
   cuts (from the round's kept scores) next to its held-out figures, then the final
   figures, recall by source and the false positives by label, language and source.
4. **Throughput**: a recall classifier's ``score(texts)`` (our input preparation, math
   features and predict) against bare ``model.predict`` of the same model on the same texts
   cut to the same ``max_chars`` (with the newline replacement fastText needs), best of
   ``--repeat`` alternating runs. The last line is ``ratio=<qurate/baseline>`` (docs/s).
   ``--train-cost`` instead times one round-1 model trained deterministically (one seeded
   thread, the default) against hogwild (12 threads): ``ratio=<deterministic/hogwild>``.
   ``--prior-cost`` times the math prior's pass over the pool (``augment/prior.py``, once
   per run) against one scoring pass: ``ratio=<prior/scoring>`` (``--prior-pool FILE``: on
   another labelled pool, e.g. a non-ASCII one, where the prior's folded path runs).
"""

from __future__ import annotations

import argparse
import json
import random
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
MAN_LANGS = (
    "en",
    "de",
    "fr",
    "es",
    "ru",
    "ja",
    "zh",
    "it",
    "pl",
    "nl",
    "pt",
    "sv",
    "uk",
    "tr",
    "cs",
)


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
    for lang in MAN_LANGS[1:]:  # man pages in 15 languages, as in issue 15's pool
        other += list(cs.man_docs(lang, split, 30))
    for lang in ("en", "de", "fr", "zh"):
        other += cs.debref_docs(lang, split)
    other += cs.fortune_docs("en", split)
    docs += [("other", d) for d in other]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for i, (label, d) in enumerate(docs):
            f.write(
                json.dumps(
                    {
                        "id": f"pool-{i:05d}",
                        "text": d.text,
                        "label": label,
                        "source": d.source,
                        "lang": d.lang,
                    }
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
                    "lang": r.get("lang") or "?",  # what curate's language ID would set
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


def recall_once(
    rows: list[dict], pool_dir: Path, out: Path, seeds: Path, domain: str, cfg
) -> tuple[float, float, dict]:
    """One ``qurate augment recall`` (library call, no judge): (recall, precision, manifest)
    against the labels, printing every round's true recall and precision at its cut (read
    from the round's kept scores) next to its held-out figures."""
    import numpy as np

    from qurate.augment.checkpoint import SCRATCH
    from qurate.augment.recall import recall
    from qurate.contract.shards import iter_rows

    ids = [r["id"] for r in iter_rows(pool_dir, columns=["id"])]
    labels = {r["id"]: r["label"] for r in rows}
    is_pos = np.array([labels[i] == domain for i in ids])
    t = time.perf_counter()

    def on_round(rep) -> None:
        sc = np.load(out / SCRATCH / f"round-{rep.round}.npy")
        got = sc >= rep.threshold
        tp = int((got & is_pos).sum())
        held = (
            f"held-out R {rep.holdout_recall:.3f} P {rep.holdout_precision:.3f}"
            if rep.holdout_recall is not None
            else "no held-out split"
        )
        print(
            f"  round {rep.round}: positives {rep.positives} (pseudo {rep.pseudo_positives}), "
            f"negatives {rep.negatives}, cut {rep.threshold:.3f}, recalled {int(got.sum())}: "
            f"true R {tp / is_pos.sum():.3f} P {tp / max(int(got.sum()), 1):.3f}; {held}"
            f"{'' if rep.used else ' (drift: not used)'} [{rep.seconds:.1f} s]",
            flush=True,
        )
        curve = []
        for c in (0.1, 0.2, 0.3, 0.5, 0.7, 0.9):
            g = sc >= c
            t = int((g & is_pos).sum())
            curve.append(f"{c}: R {t / is_pos.sum():.2f} P {t / max(int(g.sum()), 1):.2f}")
        print("    true R/P at other cuts: " + "; ".join(curve), flush=True)

    manifest = recall(pool_dir, out, seeds, domain, cfg, on_round=on_round)
    kept = {r["id"] for r in iter_rows(out, columns=["id"])}
    truth = {i for i in ids if labels[i] == domain}
    tp = len(kept & truth)
    rec, prec = tp / len(truth), tp / max(len(kept), 1)
    wrong: dict[str, int] = {}
    for i in kept - truth:
        row = next(r for r in rows if r["id"] == i)
        key = f"{labels[i]}:{row['lang']}:{row['source'].split(':')[0]}"
        wrong[key] = wrong.get(key, 0) + 1
    per_source: dict[str, list[int]] = {}
    for r in rows:
        if r["label"] == domain:
            hit = per_source.setdefault(r["source"].split(":")[0].split("/")[0], [0, 0])
            hit[0] += r["id"] in kept
            hit[1] += 1
    print("  recall by source: " + ", ".join(f"{k} {a}/{b}" for k, (a, b) in per_source.items()))
    print(
        f"  final (round {manifest['holdout'].get('used_round')}): recall {rec:.3f}  precision "
        f"{prec:.3f}  (kept {len(kept)}, true positives {tp} of {len(truth)}), "
        f"{time.perf_counter() - t:.1f} s; false positives by label:lang:source {wrong}",
        flush=True,
    )
    return rec, prec, manifest


def config(rounds: int, overrides: list[str]):
    """The default RecallConfig with ``--rounds`` and ``key=value`` overrides (JSON values)."""
    from qurate.augment.classifier import RecallConfig

    kw: dict = {"rounds": rounds}
    for item in overrides:
        key, _, value = item.partition("=")
        kw[key] = json.loads(value)
    return RecallConfig(**kw)


def write_pool(path: Path, math: list[tuple], other: list[tuple], id_prefix: str) -> None:
    """A labelled pool file: ``(source, text, lang)`` documents of each side as JSONL rows
    ``{id, text, label, source, lang}`` (math first), ids ``<id_prefix>-00000``..."""
    rows = [("math", *d) for d in math] + [("other", *d) for d in other]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for i, (label, source, text, lang) in enumerate(rows):
            row = {"id": f"{id_prefix}-{i:05d}", "text": text, "label": label, "source": source}
            f.write(json.dumps({**row, "lang": lang}) + "\n")


def pool_main(name: str, pool: Path, build, doc: str) -> None:
    """The command line of a labelled recall pool's bench (``bench/augment_untuned.py`` and
    ``augment_fresh/fourth/fifth/sixth.py``): build the pool once (``build(pool)``), print its make-up by
    label and source, then ``report_math_pool``."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--build-only", action="store_true", help="build the pool, run nothing")
    ap.add_argument("--set", action="append", default=[], help="RecallConfig key=JSON value")
    ap.add_argument(
        "--thin",
        type=float,
        default=0.0,
        help="keep only this share of math (e.g. 0.03: a web pool's kind of prevalence), "
        "math documents drawn at random with --thin-seed; the other documents all stay",
    )
    ap.add_argument("--thin-seed", type=int, default=0)
    args = ap.parse_args()
    if args.rebuild or not pool.exists():
        t = time.time()
        print(f"building the {name} pool in {pool} ...", flush=True)
        build(pool)
        print(f"  built in {time.time() - t:.0f} s", flush=True)
    rows = [json.loads(line) for line in pool.read_text(encoding="utf-8").splitlines()]
    if args.thin:
        rows = thin(rows, args.thin, args.thin_seed)
    by: dict[str, int] = {}
    for r in rows:
        key = f"{r['label']}:{r['source'].split(':')[0]}"
        by[key] = by.get(key, 0) + 1
    print(f"{name} pool: {len(rows)} docs {by}; languages {sorted({r['lang'] for r in rows})}")
    if not args.build_only:
        report_math_pool(rows, name, args.rounds, args.set)


def thin(rows: list[dict], share: float, seed: int) -> list[dict]:
    """``rows`` with the math documents drawn down to ``share`` of the pool (at least 5),
    the non-math ones all kept ("neither" rows are not in the pools), in a shuffled order:
    the bench pools are 20-45% math, a web pool 1-5%, and precision at a given false
    positive rate falls with the share (bench/RESULTS.md)."""
    if not 0 < share < 1:
        raise SystemExit(f"--thin {share}: expected a share between 0 and 1")
    rng = random.Random(seed)
    math_rows = [r for r in rows if r["label"] == "math"]
    rest = [r for r in rows if r["label"] != "math"]
    k = min(len(math_rows), max(5, round(share * len(rest) / (1 - share))))
    out = rng.sample(math_rows, k) + rest
    rng.shuffle(out)
    return out


def report_math_pool(rows: list[dict], name: str, rounds: int, overrides: list[str]) -> None:
    """Math recall from the bundled seeds, once, over a labelled pool (the bench pools that
    measure issue 15's target); prints the round figures, the target line and, last,
    ``ratio=<precision/0.9>``."""
    cfg = config(rounds, overrides)
    print(f"config: {cfg.model_dump(mode='json', exclude={'fasttext'})}")
    with tempfile.TemporaryDirectory(prefix=f"qurate-bench-{name}-") as tmp:
        pool_dir = Path(tmp) / "pool"
        write_stage(rows, pool_dir)
        rec, prec, _ = recall_once(
            rows, pool_dir, Path(tmp) / "math", SEEDS / "math.jsonl", "math", cfg
        )
    met = rec >= 0.9 and prec >= 0.9
    print(f"\ntarget (precision >= 0.9 at recall >= 0.9): {'met' if met else 'NOT met'}")
    print(f"ratio={prec / 0.9:.3f}")


def quality(
    rows: list[dict], pool_dir: Path, work: Path, seeds: Path, cfg, domains=("math", "code")
) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    prefix = "" if seeds == SEEDS else "seeds-"
    for domain in domains:
        n = sum(r["label"] == domain for r in rows)
        print(f"\n{domain}: pool {len(rows)} docs ({n} {domain}), seeds {seeds}", flush=True)
        rec, prec, _ = recall_once(
            rows, pool_dir, work / domain, seeds / f"{prefix}{domain}.jsonl", domain, cfg
        )
        out[domain] = (rec, prec)
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


def train_cost(rows: list[dict], repeat: int) -> float:
    """Seconds to train one round-1 recall model on the dev pool: deterministic (one seeded
    thread, the default) against hogwild (``fasttext.thread`` = 12), alternating, best of
    ``repeat``. Returns deterministic / hogwild."""
    from qurate.augment.classifier import RecallClassifier, RecallConfig
    from qurate.augment.recall import load_seeds

    seeds = load_seeds(SEEDS / "math.jsonl")
    negs = [r["text"] for r in rows if r["label"] != "math"][:: max(1, len(rows) // 600)]
    pos = seeds * max(1, round(len(negs) / len(seeds)))
    best = {True: float("inf"), False: float("inf")}
    for _ in range(repeat):
        for det in (False, True):
            t = time.perf_counter()
            RecallClassifier.train(pos, negs, RecallConfig(deterministic=det))
            best[det] = min(best[det], time.perf_counter() - t)
    print(
        f"\ntraining one model ({len(pos)} positive + {len(negs)} negative lines), best of "
        f"{repeat}: hogwild {best[False]:.2f} s, deterministic {best[True]:.2f} s"
    )
    return best[True] / best[False]


def prior_cost(rows: list[dict], repeat: int) -> float:
    """The math prior's pass over the pool (``augment/prior.py``, once per run) against one
    round's scoring pass of the same texts (our ``score``), best of ``repeat`` alternating.
    Returns prior / scoring."""
    from qurate.augment.classifier import RecallClassifier, RecallConfig
    from qurate.augment.prior import math_priors
    from qurate.augment.recall import load_seeds

    cfg = RecallConfig()
    texts = [r["text"] for r in rows]
    seeds = load_seeds(SEEDS / "math.jsonl")
    clf = RecallClassifier.train(seeds * 4, texts[:: max(1, len(texts) // 240)], cfg)
    best = {"score": float("inf"), "prior": float("inf")}
    for _ in range(repeat):
        for name, fn in (("score", clf.score), ("prior", math_priors)):
            t = time.perf_counter()
            fn(texts)
            best[name] = min(best[name], time.perf_counter() - t)
    n = len(texts)
    print(
        f"\n{n} docs, best of {repeat}: scoring {n / best['score']:,.0f} docs/s, "
        f"math prior {n / best['prior']:,.0f} docs/s"
    )
    return best["prior"] / best["score"]


def embed_cost(rows: list[dict], repeat: int) -> float:
    """One round's scoring pass of the pool with the default scorer (fastText and the
    embedding probe, ``augment/embed.py``) against fastText alone, one thread, best of
    ``repeat`` alternating; prints docs/s and the core-hours one pass over 18T tokens would
    take at the pool's mean tokens per document. Returns fastText / both (time)."""
    import os

    from qurate.augment.classifier import ProbedClassifier, RecallClassifier, RecallConfig
    from qurate.augment.embed import load_embedder
    from qurate.augment.recall import load_seeds

    os.environ.setdefault("RAYON_NUM_THREADS", "1")  # the tokenizer's batch threads: one core
    cfg = RecallConfig()
    texts = [r["text"] for r in rows]
    seeds = load_seeds(SEEDS / "math.jsonl")
    negs = texts[:: max(1, len(texts) // 240)]
    ft = RecallClassifier.train(seeds * 4, negs, cfg)
    t = time.perf_counter()
    emb = load_embedder("default", cfg.embed_tokens)
    load_s = time.perf_counter() - t
    both = ProbedClassifier.train(ft, emb, seeds, negs, cfg)
    best = {"fastText": float("inf"), "fastText+probe": float("inf")}
    for _ in range(repeat):
        for name, clf in (("fastText", ft), ("fastText+probe", both)):
            t = time.perf_counter()
            clf.score(texts)
            best[name] = min(best[name], time.perf_counter() - t)
    n = len(texts)
    tokens = sum(len(x) for x in texts) / 4 / n  # ~4 characters a token
    print(
        f"\n{n} docs (~{tokens:,.0f} tokens each), best of {repeat}; embedder load {load_s:.1f} s"
    )
    for name, sec in best.items():
        rate = n / sec
        hours = 18e12 / tokens / rate / 3600
        print(
            f"  {name:15s} {rate:8,.0f} docs/s/core  ->  {hours:10,.0f} core-hours per pass over 18T tokens"
        )
    return best["fastText"] / best["fastText+probe"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--rebuild", action="store_true", help="rebuild the cached held-out pool and seeds"
    )
    ap.add_argument(
        "--wide-seeds",
        action="store_true",
        help="seeds from the sample side of the same sources (6 packages), not the bundled "
        "60 sympy docstrings",
    )
    ap.add_argument("--domain", action="append", help="math and/or code (default: both)")
    ap.add_argument("--set", action="append", default=[], help="RecallConfig key=JSON value")
    ap.add_argument("--no-throughput", action="store_true")
    ap.add_argument(
        "--train-cost",
        action="store_true",
        help="only time deterministic vs hogwild training (ratio = deterministic / hogwild)",
    )
    ap.add_argument(
        "--prior-cost",
        action="store_true",
        help="only time the math prior's pass against a scoring pass (ratio = prior / score)",
    )
    ap.add_argument(
        "--embed-cost",
        action="store_true",
        help="only time a scoring pass with the embedding probe against fastText alone "
        "(ratio = fastText / both)",
    )
    ap.add_argument(
        "--prior-pool",
        type=Path,
        help="with --prior-cost: time on this labelled pool file (e.g. the fourth pool, half "
        "Greek) instead of the dev pool",
    )
    args = ap.parse_args()
    rows = load_pool(args.rebuild)
    if args.prior_pool:
        rows = [
            json.loads(line) for line in args.prior_pool.read_text(encoding="utf-8").splitlines()
        ]
    if args.prior_cost:
        print(f"ratio={prior_cost(rows, args.repeat):.3f}")
        return
    if args.train_cost:
        print(f"ratio={train_cost(rows, args.repeat):.3f}")
        return
    if args.embed_cost:
        print(f"ratio={embed_cost(rows, args.repeat):.3f}")
        return
    counts = {lab: sum(r["label"] == lab for r in rows) for lab in ("math", "code", "other")}
    print(f"dev pool (tuned on): {len(rows)} docs {counts}")
    cfg = config(args.rounds, args.set)
    print(f"config: {cfg.model_dump(mode='json', exclude={'fasttext'})}")
    with tempfile.TemporaryDirectory(prefix="qurate-bench-augment-") as tmp:
        pool_dir = Path(tmp) / "pool"
        write_stage(rows, pool_dir)
        seeds = POOL.parent if args.wide_seeds else SEEDS
        q = quality(rows, pool_dir, Path(tmp), seeds, cfg, tuple(args.domain or ("math", "code")))
    ok = all(r >= 0.9 and p >= 0.9 for r, p in q.values())
    print(
        "\nquality bar (recall >= 0.9 at precision >= 0.9): "
        + ("met" if ok else "NOT met")
        + " -- "
        + ", ".join(f"{d} R={r:.3f} P={p:.3f}" for d, (r, p) in q.items())
    )
    if not args.no_throughput:
        ratio = throughput(rows, args.repeat)
        print(f"ratio={ratio:.3f}")


if __name__ == "__main__":
    main()
