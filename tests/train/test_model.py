"""The model is a real Qwen2: same logits as transformers, document masking, presets."""

from __future__ import annotations

import pytest
import torch

from qurate.errors import BadInputError, ConfigError
from qurate.train.model import (
    PRESETS,
    ModelConfig,
    Qwen2,
    config_from_hf,
    config_to_hf,
    doc_positions,
)

transformers = pytest.importorskip("transformers")


def _hf_pair(tie: bool) -> tuple[torch.nn.Module, Qwen2]:
    cfg = ModelConfig(
        vocab_size=320,
        hidden_size=64,
        intermediate_size=160,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        rope_theta=1_000_000.0,
        tie_word_embeddings=tie,
    )
    torch.manual_seed(0)
    hf = transformers.Qwen2ForCausalLM(transformers.Qwen2Config(**config_to_hf(cfg))).eval()
    with torch.no_grad():  # non-trivial norms and biases, so a missed one would show
        for name, p in hf.named_parameters():
            if "norm" in name or "bias" in name:
                p.add_(torch.randn_like(p) * 0.1)
    ours = Qwen2(config_from_hf(hf.config.to_dict())).eval()
    ours.load_hf_state_dict(hf.state_dict())
    return hf, ours


@pytest.mark.parametrize("tie", [True, False])
def test_logits_match_transformers_qwen2(tie: bool) -> None:
    hf, ours = _hf_pair(tie)
    ids = torch.randint(0, 320, (2, 40))
    with torch.no_grad():
        torch.testing.assert_close(ours(ids), hf(ids).logits, rtol=1e-5, atol=1e-5)
    assert set(ours.state_dict()) == set(hf.state_dict())


def test_packed_documents_do_not_see_each_other() -> None:
    """Two documents packed in one row give the logits of each document run alone."""
    _, m = _hf_pair(True)
    a, b = torch.randint(0, 320, (1, 11)), torch.randint(0, 320, (1, 17))
    packed = torch.cat([a, b], dim=1)
    docs = torch.tensor([[0] * 11 + [1] * 17])
    with torch.no_grad():
        out = m(packed, doc_ids=docs)
        torch.testing.assert_close(out[:, :11], m(a), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(out[:, 11:], m(b), rtol=1e-5, atol=1e-5)
        # without the document mask the second document would see the first
        assert not torch.allclose(m(packed)[:, 11:], m(b), atol=1e-4)


def test_positions_restart_per_document() -> None:
    docs = torch.tensor([[3, 3, 3, 4, 4, 7, 7, 7, 7]])
    assert doc_positions(docs).tolist() == [[0, 1, 2, 0, 1, 0, 1, 2, 3]]


def test_presets_have_the_qwen25_sizes() -> None:
    # total parameters of the released checkpoints (billions), from their model cards
    expected = {
        "0.5B": 0.49,
        "1.5B": 1.54,
        "3B": 3.09,
        "7B": 7.62,
        "14B": 14.7,
        "32B": 32.5,
        "72B": 72.7,
    }
    for name, billions in expected.items():
        assert PRESETS[name].num_params() / 1e9 == pytest.approx(billions, rel=0.01), name
    assert PRESETS["0.5B"].tie_word_embeddings and not PRESETS["7B"].tie_word_embeddings
    assert PRESETS["tiny"].num_params() < 1_000_000


def test_seq_len_beyond_rope_or_positions_is_refused() -> None:
    cfg = ModelConfig(
        hidden_size=64, num_attention_heads=4, max_position_embeddings=10**7, rope_theta=100.0
    )
    with pytest.raises(ConfigError, match="rope_theta"):
        cfg.check_seq_len(4096)
    cfg.replace(rope_theta=1e6).check_seq_len(4096)
    with pytest.raises(ConfigError, match="max_position_embeddings"):
        PRESETS["tiny"].check_seq_len(8192)


def test_non_qwen2_config_is_refused() -> None:
    with pytest.raises(BadInputError, match="not a Qwen2"):
        config_from_hf({"model_type": "llama"})


def test_rope_theta_change_changes_outputs() -> None:
    _, m = _hf_pair(True)
    ids = torch.randint(0, 320, (1, 30))
    with torch.no_grad():
        before = m(ids)
        m.set_rope_theta(10_000.0)
        assert m.config.rope_theta == 10_000.0
        assert not torch.allclose(before, m(ids))
