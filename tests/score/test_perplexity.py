"""Perplexity under a local causal LM (a tiny Qwen2 trained for a few steps in-test)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from qurate.llm.testing import build_tiny_chat_model  # noqa: E402
from qurate.score.perplexity import PerplexityConfig, PerplexityScorer, quality_from_perplexity  # noqa: E402

REFERENCE = "the cat sat on the mat. the dog sat on the log. "


def test_text_like_the_reference_has_lower_perplexity(tmp_path):
    d = build_tiny_chat_model(tmp_path / "lm")
    scorer = PerplexityScorer(PerplexityConfig(model=str(d), device="cpu", max_tokens=64))
    # Fit the reference LM to reference-quality text for a few steps (CCNet's premise).
    model, tok = scorer.engine.model, scorer.engine.tokenizer
    ids = torch.tensor([tok.encode(REFERENCE * 3)])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(40):
        loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    ppl = scorer.perplexity([REFERENCE, "zq xv kj wp qq zz jx vk", ""])
    assert ppl[0] < ppl[1] and np.isnan(ppl[2])
    q = scorer.quality(ppl[:2])
    assert q[0] > q[1] and np.all((q >= 0) & (q <= 1))


def test_quality_mapping_is_monotone_with_half_at_the_pivot():
    q = quality_from_perplexity(np.array([5.0, 20.0, 200.0]), pivot=20.0, scale=0.5)
    assert q[0] > q[1] > q[2] and q[1] == pytest.approx(0.5)


def test_perplexity_after_the_judge_reuses_its_loaded_weights_until_the_files_change(tmp_path):
    """score apply loads the reference LM right after annotate loaded the same model as the
    judge (the embedded SmolLM2 takes 20-60 s to dequantise): the second load is free, and a
    checkpoint rewritten in place is read again."""
    import os

    from qurate.llm import EngineConfig, load_engine

    d = build_tiny_chat_model(tmp_path / "lm")
    judge = load_engine(EngineConfig(kind="transformers", model=str(d), device="cpu"))
    scorer = PerplexityScorer(PerplexityConfig(model=str(d), device="cpu"))
    assert scorer.engine.model is judge.model  # type: ignore[attr-defined]
    before = scorer.perplexity(["the cat sat on the mat."])
    weights = next(p for p in d.iterdir() if p.suffix == ".safetensors")
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    again = PerplexityScorer(PerplexityConfig(model=str(d), device="cpu"))
    assert again.engine.model is not scorer.engine.model
    np.testing.assert_allclose(again.perplexity(["the cat sat on the mat."]), before, rtol=1e-5)


def test_bf16_perplexity_ranks_documents_like_fp32(tmp_path):
    """score.perplexity.dtype: bfloat16 (1.5x faster on an AVX512-BF16 CPU) changes the
    numbers a little and the ranking, which is all the per-language percentiles use, not at
    all on these documents."""
    d = build_tiny_chat_model(tmp_path / "lm")
    texts = [REFERENCE, "zq xv kj wp qq zz jx vk", "the dog sat on the cat."]  # ~30% apart
    runs = {}
    for dtype in ("float32", "bfloat16"):
        scorer = PerplexityScorer(PerplexityConfig(model=str(d), device="cpu", dtype=dtype))
        assert scorer.engine.model.dtype == getattr(torch, dtype)
        runs[dtype] = scorer.perplexity(texts)
    np.testing.assert_allclose(runs["bfloat16"], runs["float32"], rtol=0.05)
    assert (np.argsort(runs["bfloat16"]) == np.argsort(runs["float32"])).all()
