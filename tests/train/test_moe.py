"""The MoE model is a real Qwen2-MoE: transformers' logits and aux loss, its files on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from qurate.errors import BadInputError, ConfigError
from qurate.train import model as model_module
from qurate.train.checkpoint import load_hf_model
from qurate.train.model import PRESETS, Qwen2, config_from_hf, config_to_hf

transformers = pytest.importorskip("transformers")


def _moe_cfg(**changes):
    base = dict(vocab_size=320, num_hidden_layers=3, tie_word_embeddings=False)
    return PRESETS["moe-tiny"].replace(**{**base, **changes})


def _hf_pair(**changes) -> tuple[torch.nn.Module, Qwen2]:
    cfg = _moe_cfg(**changes)
    torch.manual_seed(0)
    hf = transformers.Qwen2MoeForCausalLM(transformers.Qwen2MoeConfig(**config_to_hf(cfg))).eval()
    with torch.no_grad():  # non-trivial norms, biases and routers, so a missed one would show
        for name, p in hf.named_parameters():
            if "norm" in name or "bias" in name:
                p.add_(torch.randn_like(p) * 0.1)
            if name.endswith("mlp.gate.weight") or name.endswith("shared_expert_gate.weight"):
                p.normal_(0.0, 0.5)
    ours = Qwen2(config_from_hf(hf.config.to_dict())).eval()
    ours.load_hf_state_dict(hf.state_dict())
    return hf, ours


@pytest.mark.parametrize(
    "changes",
    [
        {},  # every layer sparse, Qwen1.5/Qwen2-MoE routing (top-k not renormalised)
        {"norm_topk_prob": True, "mlp_only_layers": [1]},  # Qwen3-MoE routing, a dense layer
        {"decoder_sparse_step": 2, "tie_word_embeddings": True},  # only layer 1 sparse
        {"loop": True},  # the per-expert loop (where torch's grouped GEMM does not run)
    ],
)
def test_logits_and_aux_loss_match_transformers_qwen2_moe(changes: dict, monkeypatch) -> None:
    changes = dict(changes)
    if changes.pop("loop", False):
        monkeypatch.setattr(model_module, "_grouped_mm_ok", lambda x, w: False)
    hf, ours = _hf_pair(**changes)
    sparse = [i for i, layer in enumerate(hf.model.layers) if hasattr(layer.mlp, "experts")]
    assert sparse == [i for i in range(3) if ours.config.is_sparse_layer(i)] and sparse
    ids = torch.randint(0, 320, (2, 40))
    with torch.no_grad():
        out = hf(ids, output_router_logits=True)
        torch.testing.assert_close(ours(ids), out.logits, rtol=1e-5, atol=1e-5)
    stats = ours.router_stats
    assert stats is not None
    torch.testing.assert_close(stats.aux_loss, out.aux_loss, rtol=1e-6, atol=1e-6)
    assert stats.expert_share.shape == (len(sparse), 8)
    torch.testing.assert_close(stats.expert_share.sum(1), torch.ones(len(sparse)))
    assert set(ours.state_dict()) == set(hf.state_dict())


def test_disk_names_are_transformers_per_expert_names(tmp_path: Path) -> None:
    hf, ours = _hf_pair()
    hf.save_pretrained(tmp_path)
    on_disk = load_file(str(tmp_path / "model.safetensors"))
    ours_disk = ours.hf_state_dict()
    assert set(ours_disk) == set(on_disk)
    assert "model.layers.0.mlp.experts.7.down_proj.weight" in ours_disk
    for k, v in on_disk.items():
        assert torch.equal(ours_disk[k], v), k
    # and transformers' own directory loads as ours (what --init-from does)
    loaded = load_hf_model(tmp_path).eval()
    ids = torch.randint(0, 320, (1, 16))
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids), hf(ids).logits, rtol=1e-5, atol=1e-5)


def test_missing_expert_tensor_is_named(tmp_path: Path) -> None:
    hf, _ = _hf_pair()
    hf.save_pretrained(tmp_path)
    sd = load_file(str(tmp_path / "model.safetensors"))
    del sd["model.layers.1.mlp.experts.5.up_proj.weight"]
    save_file(sd, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(BadInputError, match=r"model\.layers\.1\.mlp\.experts\.5\.up_proj\.weight"):
        load_hf_model(tmp_path)


def test_top_k_beyond_the_experts_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"num_experts_per_tok \(9\).*num_experts \(8\)"):
        _moe_cfg(num_experts_per_tok=9).validate()
    hf_cfg = config_to_hf(_moe_cfg())
    hf_cfg["num_experts_per_tok"] = 9
    with pytest.raises(ConfigError, match="num_experts_per_tok"):
        config_from_hf(hf_cfg)


def test_dispatch_handles_idle_experts_and_gives_every_expert_a_gradient() -> None:
    """One token, 8 experts, top-2: six experts get nothing, yet the forward is right and
    every parameter has a gradient (what DDP needs)."""
    hf, ours = _hf_pair()
    ours.train()
    ids = torch.randint(0, 320, (1, 1))
    with torch.no_grad():
        torch.testing.assert_close(ours(ids), hf(ids).logits, rtol=1e-5, atol=1e-5)
    loss = ours(ids, labels=ids) + ours.router_stats.aux_loss  # type: ignore[union-attr]
    loss.backward()
    assert all(p.grad is not None for p in ours.parameters())
    grads = ours.model.layers[0].mlp.experts.down_proj.grad
    assert int((grads.flatten(1).abs().sum(1) > 0).sum()) == 2  # only the two routed experts


def test_moe_presets_have_the_released_sizes() -> None:
    # total and activated parameters from the model cards (billions)
    for name, total, active in (("moe-A2.7B", 14.3, 2.7), ("moe-57B-A14B", 57.4, 14.2)):
        cfg = PRESETS[name]
        assert cfg.num_params() / 1e9 == pytest.approx(total, rel=0.02), name
        assert cfg.num_params(active=True) / 1e9 == pytest.approx(active, rel=0.05), name
        assert cfg.flops_per_token(4096) < 0.3 * PRESETS[name].replace(
            num_experts_per_tok=cfg.num_experts
        ).flops_per_token(4096)
    dense = PRESETS["0.5B"]
    assert dense.num_params(active=True) == dense.num_params()


def test_config_json_round_trip() -> None:
    cfg = _moe_cfg(mlp_only_layers=[0], norm_topk_prob=True, router_aux_loss_coef=0.01)
    hf = config_to_hf(cfg)
    assert hf["model_type"] == "qwen2_moe" and hf["architectures"] == ["Qwen2MoeForCausalLM"]
    assert config_from_hf(json.loads(json.dumps(hf))) == cfg
    dense = config_to_hf(PRESETS["tiny"])
    assert dense["model_type"] == "qwen2" and "num_experts" not in dense
