"""``compile: true`` compiles the blocks when it can and falls back to eager, saying why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from train_builders import small_cfg

from qurate.train import compiled
from qurate.train.api import train_config
from qurate.train.model import ModelConfig, Qwen2


def test_no_cxx_compiler_falls_back_to_eager_with_the_reason(
    shards: Path, tokenizer_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no g++ / c++ on the PATH
    why = compiled.compile_unavailable(torch.device("cpu"))
    assert why is not None and "C++ compiler" in why and "g++" in why
    res = train_config(small_cfg(shards, tmp_path / "r", tokenizer_dir, compile=True, max_steps=2))
    assert res.steps == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert [line for line in err if line.startswith("compile:")] == [
        f"compile: {why}; running eager"
    ]
    plan = json.loads((tmp_path / "r" / "plan.json").read_text())
    assert plan["compile"] == f"eager: {why}"


@pytest.mark.skipif(shutil.which("g++") is None, reason="inductor on CPU needs g++")
def test_compiled_blocks_give_eager_loss_and_gradients() -> None:
    cfg = ModelConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
    )  # fmt: skip
    torch.manual_seed(0)
    eager, fast = Qwen2(cfg), Qwen2(cfg)
    fast.load_state_dict(eager.state_dict())
    assert compiled.compile_unavailable(torch.device("cpu")) is None
    assert compiled.compile_blocks(fast.model.layers) == 2
    assert list(fast.state_dict()) == list(eager.state_dict())  # HF names kept
    ids = torch.randint(0, 64, (2, 17))
    losses = []
    for m in (eager, fast):
        loss = m(ids[:, :-1], labels=ids[:, 1:])
        loss.backward()
        losses.append(loss)
    torch.testing.assert_close(losses[1], losses[0], rtol=1e-5, atol=1e-5)
    for (name, p), q in zip(eager.named_parameters(), fast.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-6, msg=name)
