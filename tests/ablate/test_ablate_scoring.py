"""Bits per byte is the hand computation: summed -log2 p(token) over the text's UTF-8 bytes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from qurate.ablate.scoring import IGNORE, head_nll, load_model, pack, token_nll
from qurate.ablate.tasks import bits_per_byte

TEXTS = [
    "the capital of france is paris.",
    "two plus two is four. the cat sat on the mat.",
    "Zürich – naïve café, 中文 文本 and data engineers.",
]


def hand_nats(lm, text: str, window: int | None = None) -> float:
    """-ln p of every token of ``text`` after EOS, one plain forward per window."""
    ids = [lm.eos, *lm.encode([text])[0].tolist()]
    total = 0.0
    step = window or len(ids)
    for w0 in range(0, len(ids) - 1, step):
        inp = ids[w0 : w0 + step]
        tgt = ids[w0 + 1 : w0 + step + 1]
        inp = inp[: len(tgt)]
        with torch.no_grad():
            logp = torch.log_softmax(lm.model(torch.tensor([inp]))[0].double(), dim=-1)
        total -= sum(float(logp[i, t]) for i, t in enumerate(tgt))
    return total


@pytest.mark.parametrize("seq_len", [512, 7])
def test_bits_per_byte_matches_a_hand_computation(fact_model, seq_len):
    lm = load_model(fact_model, device="cpu")
    nats, nbytes = bits_per_byte(lm, TEXTS, seq_len=seq_len, batch_size=2)
    window = None if seq_len == 512 else seq_len
    for text, got, nb in zip(TEXTS, nats, nbytes, strict=True):
        assert nb == len(text.encode("utf-8"))
        assert got == pytest.approx(hand_nats(lm, text, window), rel=1e-4)
    bpb = nats.sum() / math.log(2) / nbytes.sum()
    hand = sum(hand_nats(lm, t, window) for t in TEXTS) / math.log(2)
    assert bpb == pytest.approx(hand / sum(len(t.encode()) for t in TEXTS), rel=1e-4)
    # a trained model knows its facts better than mixed-script text it never saw
    per = nats / nbytes
    assert per[0] < per[2]


def test_pack_scores_every_token_once_and_respects_the_start():
    seqs = [(np.arange(1, 12), 1), (np.arange(20, 24), 3), (np.array([5]), 1)]
    p = pack(seqs, seq_len=4, pad=0)
    owners = p.owner[p.owner >= 0]
    assert (owners == 0).sum() == 10  # 11 tokens: every one after the first is a label
    assert (owners == 1).sum() == 1  # only positions >= 3 of a 4-token sequence
    assert (owners == 2).sum() == 0  # a lone token predicts nothing
    # labels are the next token of the same window; no window crosses a row
    for r in range(p.input_ids.shape[0]):
        for c in range(p.input_ids.shape[1] - 1):
            if p.owner[r, c] == 0 and p.segments[r, c] == p.segments[r, c + 1]:
                assert p.labels[r, c] == p.input_ids[r, c + 1]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_token_nll_is_the_cross_entropy_and_zero_where_ignored(dtype):
    g = torch.Generator().manual_seed(0)
    logits = (torch.randn(3, 5, 50, generator=g) * 4).to(dtype)
    labels = torch.randint(0, 50, (3, 5), generator=g)
    labels[0, :2] = IGNORE
    labels[2, 4] = IGNORE
    want = torch.nn.functional.cross_entropy(
        logits.reshape(-1, 50).float(), labels.reshape(-1), ignore_index=IGNORE, reduction="none"
    )
    kept = logits.clone()
    got = token_nll(logits, labels)
    assert got.dtype == torch.float32 and got.shape == (15,)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    assert (got[labels.reshape(-1) == IGNORE] == 0).all()
    assert (got[labels.reshape(-1) != IGNORE] > 0).all()
    if dtype == torch.bfloat16:  # the caller's logits are untouched when a copy is made
        assert torch.equal(logits, kept)


def test_head_nll_through_a_reused_buffer_is_the_forward_s_loss():
    from qurate.train.model import ModelConfig, Qwen2

    torch.manual_seed(0)
    model = Qwen2(ModelConfig(300, 32, 64, 2, 4, 2, 128, 10_000.0)).eval()
    ids = torch.randint(0, 300, (2, 16))
    seg = torch.tensor([[1] * 10 + [2] * 6, [3] * 16])
    labels = torch.randint(0, 300, (2, 16))
    labels[0, 9] = IGNORE
    with torch.inference_mode():
        want = token_nll(model(ids, doc_ids=seg), labels)
        buf = torch.full((40, 300), float("nan"))  # larger than needed, dirty
        got = head_nll(model, model.hidden_states(ids, doc_ids=seg), labels, buf)
        again = head_nll(model, model.hidden_states(ids, doc_ids=seg), labels, buf)
        plain = head_nll(model, model.hidden_states(ids, doc_ids=seg), labels, None)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    assert torch.equal(got, again) and torch.equal(plain, got)
    assert got[9] == 0 and (got[torch.arange(32) != 9] > 0).all()
