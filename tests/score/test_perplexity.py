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
