"""The fused head + loss gives cross-entropy's value and gradients, chunk by chunk."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from qurate.train import loss as lossmod


def test_fused_loss_matches_cross_entropy(monkeypatch) -> None:
    monkeypatch.setattr(lossmod, "_chunk_rows", lambda vocab: 7)  # several uneven chunks
    torch.manual_seed(0)
    h = torch.randn(40, 16, requires_grad=True)
    w = (torch.randn(50, 16) * 0.3).requires_grad_()
    labels = torch.randint(0, 50, (40,))
    labels[::5] = lossmod.IGNORE_INDEX
    fused = lossmod.lm_loss(h, w, labels) * 0.5  # a scale, to check grad_out is applied
    fused.backward()
    gh, gw = h.grad.clone(), w.grad.clone()
    h.grad = w.grad = None
    plain = F.cross_entropy(h @ w.t(), labels, ignore_index=-100, reduction="sum") * 0.5
    plain.backward()
    torch.testing.assert_close(fused, plain)
    torch.testing.assert_close(gh, h.grad)
    torch.testing.assert_close(gw, w.grad)
    with torch.no_grad():  # the evaluation path: same value, no gradient work
        torch.testing.assert_close(lossmod.lm_loss(h, w, labels) * 0.5, plain)


def test_fused_loss_is_exact_when_the_target_probability_underflows() -> None:
    # logits 300 apart: the targets' softmax probabilities are 0 in fp32, so a loss read
    # back from them would be inf; the log-sum-exp is taken at the largest logit instead
    torch.manual_seed(1)
    h = torch.randn(12, 8, requires_grad=True)
    w = torch.randn(30, 8) * 40
    w.requires_grad_()
    labels = (h.detach() @ w.detach().t()).argmin(dim=1)  # the least likely token of each row
    fused = lossmod.lm_loss(h, w, labels)
    fused.backward()
    gh, gw = h.grad.clone(), w.grad.clone()
    h.grad = w.grad = None
    plain = F.cross_entropy(h @ w.t(), labels, reduction="sum")
    plain.backward()
    assert torch.isfinite(fused) and float(fused) > 12 * 100
    torch.testing.assert_close(fused, plain)
    torch.testing.assert_close(gh, h.grad)
    torch.testing.assert_close(gw, w.grad)
