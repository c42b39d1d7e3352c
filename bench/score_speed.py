"""Documents per second per core of each default scoring signal, and the core-hours for 18T tokens.

Usage: ``.venv/bin/python bench/score_speed.py [--stage DIR] [--docs 400] [--ppl-docs 24]``

On one thread (``torch.set_num_threads(1)``; fastText's batched predict is single-threaded),
over the same documents of a curated stage directory (default: the curate eval corpus after
``qurate curate``, or the bundled sample): the shipped domain classifier (the baseline: one
fastText predict), the reference classifier, four fastText raters (one model per judged
dimension: four predicts), and perplexity under the embedded SmolLM2-135M over the default
256 tokens (on ``--ppl-docs`` documents: it is ~1000x slower). Core-hours for 18T tokens use
the stage's mean tokens per document. The last line is
``ratio=<perplexity docs/s / domain-classifier docs/s>``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TOKENS = 18e12


def rate(fn, texts: list[str], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def main() -> None:
    import torch

    from qurate.contract.shards import iter_rows
    from qurate.llm.fasttext import RaterTrainConfig
    from qurate.score.domains import DomainClassifier
    from qurate.score.perplexity import PerplexityConfig, PerplexityScorer
    from qurate.score.reference import ReferenceClassifier, load_reference, train_reference

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage", type=Path, required=True, help="a curated stage directory")
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--ppl-docs", type=int, default=24)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = list(iter_rows(args.stage, columns=["text", "n_tokens"]))[: args.docs]
    texts = [r["text"] or "" for r in rows]
    mean_tokens = float(np.mean([r["n_tokens"] or 0 for r in rows]))
    with tempfile.TemporaryDirectory() as tmp:
        ref, _ = load_reference(["default"])
        reference = ReferenceClassifier(train_reference(ref, texts, Path(tmp), RaterTrainConfig()))
        raters = [
            ReferenceClassifier(
                train_reference(ref, texts, Path(tmp) / f"r{i}", RaterTrainConfig())
            )
            for i in range(4)
        ]
        domains = DomainClassifier("default")
        base = rate(domains.predict, texts, 3)
        figures = {
            "domain classifier (baseline)": base,
            "reference classifier": rate(reference.predict, texts, 3),
            "4 rater stand-ins (4 binary fastText)": rate(
                lambda ts: [r.predict(ts) for r in raters], texts, 3
            ),
        }
    scorer = PerplexityScorer(PerplexityConfig(device="cpu"))
    scorer.perplexity(texts[:2])  # warm up
    figures["perplexity, SmolLM2-135M, 256 tokens"] = rate(
        scorer.perplexity, texts[: args.ppl_docs]
    )
    print(f"{len(texts)} documents, mean {mean_tokens:.0f} tokens; 1 thread")
    print(f"{'signal':<40} {'docs/s/core':>12} {'core-hours for 18T tokens':>26}")
    for name, r in figures.items():
        core_h = TOKENS / mean_tokens / r / 3600
        print(f"{name:<40} {r:12.1f} {core_h:26,.0f}")
    ppl = figures["perplexity, SmolLM2-135M, 256 tokens"]
    print(f"ratio={ppl / base:.5f}")


if __name__ == "__main__":
    main()
