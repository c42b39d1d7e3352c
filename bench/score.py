"""Benchmarks of the scoring lever, each against a baseline in the same process.

    .venv/bin/python bench/score.py [--docs 20000] [--judge-docs 4] [--judge-model default]

(a) ``score apply`` with fastText raters (Parquet in -> scores -> Parquet out) against bare
    ``fasttext`` predict of the same models over the same texts held in memory. Headline;
    the last line is ``ratio=<qurate docs/s / bare docs/s>``. Also MB/s per core.
(b) judge overhead: ``Judge.judge`` (one prefill per document, suffixes on cached keys and
    values) against bare transformers forward passes of the same prompts, one per question.
(c) all dimensions (4 rubrics + domain) against one dimension (1 rubric + domain).
(d) ``score apply`` split among ``--tasks`` tasks (local executor, one process each) against
    the same apply in one task, on the same 8 shards: the scaling of (a) over cores.
Cost estimate: CPU core-hours to rate 18T tokens at (a)'s single-core rate, and GPU-hours to
annotate 500k documents (from an assumed vLLM prefill rate: no GPU was measured here).

The quality bar (ROC-AUC of ``quality`` on labelled junk) is bench/score_quality.py.

Texts are real: the labelled eval corpus and the bundled sample, repeated to ``--docs``.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def real_texts(n: int) -> list[str]:
    texts: list[str] = []
    for p in [
        ROOT / "bench/data/eval/corpus.jsonl",
        *sorted((ROOT / "qurate/data/sample").glob("*.jsonl")),
    ]:
        if p.is_file():
            texts += [json.loads(line)["text"] for line in p.open() if line.strip()]
    if not texts:
        raise SystemExit("no real text found (bench/data/eval or qurate/data/sample)")
    return [texts[i % len(texts)] for i in range(n)]


def bench_raters(n_docs: int, work: Path, tasks: int) -> dict[str, float]:
    import fasttext

    from qurate.contract.shards import ShardWriter, write_manifest
    from qurate.llm.fasttext import RaterTrainConfig, clean, train_classifier
    from qurate.score.apply import apply
    from qurate.score.config import ScoreConfig
    from qurate.score.judge import DEFAULT_DIMENSIONS, DEFAULT_TAXONOMY
    from qurate.score.raters import write_raters_meta

    texts = real_texts(n_docs)
    rng = random.Random(0)
    # Raters trained on arbitrary labels: speed does not depend on what they learned.
    train = texts[:2000]
    cfg = RaterTrainConfig()
    models = work / "raters"
    meta = {"max_chars": cfg.max_chars, "dimensions": {}, "domain": None}
    for dim in DEFAULT_DIMENSIONS:
        p = train_classifier(train, [str(rng.randint(0, 5)) for _ in train], models, dim, cfg)
        meta["dimensions"][dim] = {"file": p.name}
    p = train_classifier(
        train, [rng.choice(DEFAULT_TAXONOMY) for _ in train], models, "domain", cfg
    )
    meta["domain"] = {"file": p.name}
    write_raters_meta(models, meta)
    stage = work / "in"
    with ShardWriter(stage, rows_per_shard=-(-len(texts) // 8)) as w:  # 8 shards for (d)
        for i, t in enumerate(texts):
            w.write({"id": f"b{i}", "text": t})
    write_manifest(
        stage,
        stage="bench",
        config_hash="-",
        inputs=[],
        n_in=len(texts),
        n_kept=len(texts),
        rejected_by_reason={},
    )
    n_bytes = sum(len(t.encode()) for t in texts)

    # Baseline: bare fastText predict of the same five models over the same texts in memory
    # (newlines removed, as fastText requires; no Parquet, no aggregation).
    bare_models = [
        fasttext.load_model(str(models / m["file"]))
        for m in [*meta["dimensions"].values(), meta["domain"]]
    ]
    t0 = time.perf_counter()
    lines = [t.replace("\n", " ") for t in texts]
    for m in bare_models:
        m.predict(lines, k=-1)
    bare = time.perf_counter() - t0

    t0 = time.perf_counter()
    apply(stage, work / "out", models, ScoreConfig())
    ours = time.perf_counter() - t0
    _ = clean  # same preprocessing is inside apply

    split = ScoreConfig()
    split.apply.tasks = tasks
    t0 = time.perf_counter()
    apply(stage, work / "out-tasks", models, split)
    ours_tasks = time.perf_counter() - t0
    return {
        "tasks": tasks,
        "tasks_s": ours_tasks,
        "docs": len(texts),
        "mb": n_bytes / 1e6,
        "bare_s": bare,
        "apply_s": ours,
        "apply_mb_s_per_core": n_bytes / 1e6 / ours,
        "bare_mb_s_per_core": n_bytes / 1e6 / bare,
        "ratio": bare / ours,
    }


def bench_judge(n_docs: int, model: str) -> dict[str, float]:
    import torch

    from qurate.llm import EngineConfig, load_engine
    from qurate.score.judge import Judge, JudgeConfig

    engine = load_engine(EngineConfig(model=model, device="cpu"))
    texts = [t for t in real_texts(400) if len(t) > 1500][:n_docs]
    judge = Judge(engine, JudgeConfig(max_doc_tokens=192))
    judge.judge(texts[:1])  # warm up (and compute the shared system-prompt prefix)

    t0 = time.perf_counter()
    ours = judge.judge(texts)
    t_judge = time.perf_counter() - t0

    # Baseline: the same prompts through bare transformers, one forward pass per question.
    prompts = [p for t in texts for p in judge.prompts(t)[0]]
    tok, lm = engine.tokenizer, engine.model
    t0 = time.perf_counter()
    bare_scores = []
    with torch.inference_mode():
        for p in prompts:
            ids = tok.apply_chat_template(
                p, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )["input_ids"]
            probs = torch.softmax(lm(input_ids=ids, logits_to_keep=1).logits[0, -1].float(), -1)
            bare_scores.append(probs)
    t_bare = time.perf_counter() - t0
    # Same answers as the bare passes (first dimension of the first document).
    ids = engine.choice_ids(judge.choices[0])
    p0 = bare_scores[0][ids]
    bare_ev = float((p0 / p0.sum() * torch.arange(len(ids))).sum())
    assert abs(bare_ev - ours[0].scores[judge.dimensions[0]]) < 1e-3, (bare_ev, ours[0].scores)

    one = Judge(engine, JudgeConfig(rubrics=["educational_value"], max_doc_tokens=192))
    one.judge(texts[:1])
    t0 = time.perf_counter()
    one.judge(texts)
    t_one = time.perf_counter() - t0
    return {
        "docs": len(texts),
        "model": engine.model_id,
        "judge_s_per_doc": t_judge / len(texts),
        "bare_s_per_doc": t_bare / len(texts),
        "ratio_judge_vs_bare": t_bare / t_judge,
        "one_dim_s_per_doc": t_one / len(texts),
        "all_vs_one_cost": t_judge / t_one,
        "prompt_tokens_per_doc": float(
            np.mean([sum(len(engine.encode(p)) for p in judge.prompts(t)[0]) for t in texts])
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--judge-docs", type=int, default=4)
    ap.add_argument("--judge-model", default="default")
    ap.add_argument("--skip-judge", action="store_true")
    ap.add_argument("--tasks", type=int, default=2, help="tasks for (d)")
    ap.add_argument(
        "--gpu-prefill-tok-s",
        type=float,
        default=20000.0,
        help="assumed vLLM prefill rate of a 7B judge on one GPU",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        a = bench_raters(args.docs, Path(tmp), args.tasks)
    print(
        f"(a) raters: {a['docs']} docs, {a['mb']:.1f} MB: score apply {a['apply_s']:.2f}s "
        f"({a['apply_mb_s_per_core']:.2f} MB/s/core, Parquet in+out), bare fastText predict x5 "
        f"{a['bare_s']:.2f}s ({a['bare_mb_s_per_core']:.2f} MB/s/core)"
    )
    print(
        f"(d) score apply in {a['tasks']} tasks: {a['tasks_s']:.2f}s vs one task "
        f"{a['apply_s']:.2f}s: {a['apply_s'] / a['tasks_s']:.2f}x (process start and model "
        "loading included)"
    )
    # 18T tokens at ~4 bytes/token (web text, BPE) at the measured single-core rate.
    core_hours = 18e12 * 4 / (a["apply_mb_s_per_core"] * 1e6) / 3600
    print(f"cost: rating 18T tokens (~72 TB) with the raters: {core_hours:,.0f} CPU core-hours")
    if not args.skip_judge:
        b = bench_judge(args.judge_docs, args.judge_model)
        print(
            f"(b) judge ({b['model']}, CPU, 1 thread): {b['judge_s_per_doc']:.2f} s/doc vs bare transformers "
            f"{b['bare_s_per_doc']:.2f} s/doc on the same prompts: ratio {b['ratio_judge_vs_bare']:.2f}"
        )
        print(
            f"(c) all dimensions (4 + domain) vs one (1 + domain): {b['all_vs_one_cost']:.2f}x the time "
            f"({b['judge_s_per_doc']:.2f} vs {b['one_dim_s_per_doc']:.2f} s/doc)"
        )
        # With prefix caching a document's prompts cost about its unique tokens: the
        # document once plus each question; measured prompt tokens here are the upper bound.
        tokens_500k = 500_000 * (768 + 5 * 150)
        print(
            f"cost: annotating 500k docs (768-token docs + 5 questions, ~{tokens_500k / 1e9:.2f}B prefill "
            f"tokens) at an ASSUMED {args.gpu_prefill_tok_s:,.0f} tok/s per GPU (vLLM, 7B): "
            f"{tokens_500k / args.gpu_prefill_tok_s / 3600:.1f} GPU-hours (not measured: no GPU here)"
        )
    print(f"ratio={a['ratio']:.3f}")


if __name__ == "__main__":
    main()
