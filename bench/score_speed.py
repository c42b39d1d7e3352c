"""Documents per second per core of each default scoring signal, and the core-hours for 18T tokens.

Usage: ``.venv/bin/python bench/score_speed.py --stage DIR [--docs 400] [--ppl-docs 24]
[--variants]``

On one thread (``torch.set_num_threads(1)``; fastText's batched predict is single-threaded),
over the same documents of a curated stage directory (default: the curate eval corpus after
``qurate curate``, or the bundled sample): the shipped domain classifier (the baseline: one
fastText predict), the reference classifier, four fastText raters (one model per judged
dimension: four predicts), and perplexity under the embedded SmolLM2-135M over the default
256 tokens (on ``--ppl-docs`` documents: it is ~1000x slower). Core-hours for 18T tokens use
the stage's mean tokens per document. ``--variants`` also times cheaper ways to run the same
LM (64- and 128-token windows, bf16, int8 dynamic quantisation) against fp32 in the same run,
with the Spearman correlation of their perplexities to fp32's. The last line is
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
    ap.add_argument(
        "--variants",
        action="store_true",
        help="also time perplexity over 64/128 tokens, in bf16 and int8 (dynamic) against fp32",
    )
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
    ppl_texts = texts[: args.ppl_docs]
    figures["perplexity, SmolLM2-135M, 256 tokens"] = rate(scorer.perplexity, ppl_texts)
    print(f"{len(texts)} documents, mean {mean_tokens:.0f} tokens; 1 thread")
    print(f"{'signal':<40} {'docs/s/core':>12} {'core-hours for 18T tokens':>26}")
    for name, r in figures.items():
        core_h = TOKENS / mean_tokens / r / 3600
        print(f"{name:<40} {r:12.1f} {core_h:26,.0f}")
    ppl = figures["perplexity, SmolLM2-135M, 256 tokens"]
    if args.variants:
        variants(scorer, ppl_texts, mean_tokens)
    print(f"ratio={ppl / base:.5f}")


def variants(scorer, texts: list[str], mean_tokens: float) -> None:
    """Cheaper ways to run the same 135M model on a CPU, each against fp32 over 256 tokens in
    this run: tokens/s/core, the speed ratio, and how well the variant keeps the ranking of
    the documents (Spearman of -log perplexity against fp32, 256 tokens), which is all that
    per-language percentiles use. 18T core-hours count min(256 or the window, mean tokens)
    tokens a document, as perplexity reads only the window."""
    import copy

    import torch

    from qurate.score.metrics import spearman

    def timed(fn) -> tuple[float, np.ndarray]:
        t0 = time.perf_counter()
        out = fn(texts)
        return len(texts) / (time.perf_counter() - t0), np.log(out)

    model = scorer.engine.model
    base_rate, base = timed(scorer.perplexity)
    rows = [("fp32, 256 tokens (baseline)", 256, base_rate, base)]
    scorer.config.max_tokens = 64
    rows.append(("fp32, 64 tokens", 64, *timed(scorer.perplexity)))
    scorer.config.max_tokens = 128
    rows.append(("fp32, 128 tokens", 128, *timed(scorer.perplexity)))
    scorer.config.max_tokens = 256
    scorer.engine.model = copy.deepcopy(model).to(torch.bfloat16)
    scorer.perplexity(texts[:2])
    rows.append(("bf16, 256 tokens", 256, *timed(scorer.perplexity)))
    scorer.engine.model = torch.ao.quantization.quantize_dynamic(
        model, {torch.nn.Linear}, dtype=torch.qint8, inplace=False
    )
    scorer.perplexity(texts[:2])
    rows.append(("int8 dynamic (Linear), 256 tokens", 256, *timed(scorer.perplexity)))
    scorer.engine.model = model
    # the baseline again: how far the machine's load moved the figures during the run
    rows.append(("fp32, 256 tokens (baseline again)", 256, *timed(scorer.perplexity)))
    print(f"perplexity variants on {len(texts)} documents, 1 thread")
    print(f"{'variant':<36} {'tok/s/core':>10} {'x fp32':>7} {'spearman':>9} {'18T core-h':>14}")
    for name, window, r, lp in rows:
        tok_s = r * min(window, mean_tokens)
        core_h = TOKENS / mean_tokens / r / 3600
        rho = spearman(base, lp)
        print(f"{name:<36} {tok_s:10.0f} {r / base_rate:7.2f} {rho:9.3f} {core_h:14,.0f}")


if __name__ == "__main__":
    main()
