"""Training the MoE model: the balance loss in the objective and the metrics, resume, export,
and data parallelism when experts sit idle."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from torchrun_job import run_two_processes
from train_builders import small_cfg

from qurate.train.api import export, load_config, train_config
from qurate.train.checkpoint import latest_checkpoint, load_hf_model

transformers = pytest.importorskip("transformers")


def _cfg(data: Path, out: Path, tok: Path, **kw):
    return small_cfg(data, out, tok, **{"preset": "moe-tiny", **kw})


def _rows(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def test_moe_trains_and_logs_the_balance_loss(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    train_config(_cfg(shards, tmp_path / "r", tokenizer_dir))
    rows = _rows(tmp_path / "r")
    assert rows[-1]["loss"] < rows[0]["loss"] - 0.5
    for r in rows:
        assert r["aux_loss"] >= 1.0 - 1e-6  # E * sum f*P >= top_k * (1/top_k) ... >= 1
        assert len(r["expert_share"]) == 8 and abs(sum(r["expert_share"]) - 1) < 1e-3
        assert 1 / 8 <= r["expert_share_max"] <= 1 / 2  # top-2: one expert holds at most half


def test_aux_coefficient_zero_drops_the_term_but_still_logs_it(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    runs = {}
    for coef in (0.0, 0.001, 1.0):
        out = tmp_path / f"c{coef}"
        train_config(
            _cfg(shards, out, tokenizer_dir, max_steps=2, model={"router_aux_loss_coef": coef})
        )
        runs[coef] = _rows(out)
    # the first step's LM loss is the same (same init, same batch) and its aux is logged ...
    assert runs[0.0][0]["loss"] == runs[1.0][0]["loss"] and runs[0.0][0]["aux_loss"] > 0
    assert runs[0.0][0]["aux_coef"] == 0.0
    # ... but the gradient differs only where the coefficient is not 0
    assert runs[0.0][0]["grad_norm"] != runs[1.0][0]["grad_norm"]
    assert runs[0.0][1]["loss"] != runs[1.0][1]["loss"]


def test_moe_resume_gives_the_uninterrupted_loss_sequence(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    full, cut = tmp_path / "full", tmp_path / "cut"
    train_config(_cfg(shards, full, tokenizer_dir))
    train_config(_cfg(shards, cut, tokenizer_dir), stop_at=3)
    train_config(_cfg(shards, cut, tokenizer_dir), resume=True)
    keys = ("loss", "aux_loss", "expert_share", "grad_norm")
    assert [[r[k] for k in keys] for r in _rows(cut)] == [[r[k] for k in keys] for r in _rows(full)]
    a = load_hf_model(latest_checkpoint(full)).state_dict()  # type: ignore[arg-type]
    b = load_hf_model(latest_checkpoint(cut)).state_dict()  # type: ignore[arg-type]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_moe_export_loads_and_generates_in_transformers(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "r"
    train_config(_cfg(shards, run, tokenizer_dir, max_steps=3))
    hf_dir = export(run, tmp_path / "hf")
    cfg = json.loads((hf_dir / "config.json").read_text())
    assert cfg["model_type"] == "qwen2_moe" and cfg["num_experts"] == 8
    model = transformers.AutoModelForCausalLM.from_pretrained(hf_dir).eval()
    assert type(model).__name__ == "Qwen2MoeForCausalLM"
    ours = load_hf_model(latest_checkpoint(run)).eval()  # type: ignore[arg-type]
    tok = transformers.AutoTokenizer.from_pretrained(hf_dir)
    ids = tok("the cat sat on", return_tensors="pt").input_ids
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, ours(ids), rtol=1e-5, atol=1e-5)
        out = model.generate(ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == ids.shape[1] + 5
    # and the exported directory starts a new run (--init-from)
    res = train_config(
        _cfg(shards, tmp_path / "again", tokenizer_dir, max_steps=1, init_from=str(hf_dir))
    )
    assert res.steps == 1


@pytest.mark.slow
def test_two_processes_with_idle_experts_match_one(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    """16 experts, top-1, 8 tokens per micro-batch per process: in every layer of every
    forward at least 8 experts get no token. DDP and FSDP must still train, and match one
    process on the same global batch."""
    fields = dict(
        data=str(shards),
        tokenizer=str(tokenizer_dir),
        preset="moe-tiny",
        model={"num_experts": 16, "num_experts_per_tok": 1},
        seq_len=8,
        micro_batch_size=1,
        batch_tokens=32,
        lr=3e-3,
        max_steps=3,
        eval_every=0,
        save_every=3,
    )
    assert 1 * 8 * 1 < 16  # rows x seq x top-k < experts: idle experts are certain
    single = tmp_path / "single"
    train_config(load_config(None, **fields, out=str(single)))
    modes = ("ddp", "fsdp")
    runs = [{**fields, "parallel": m, "out": str(tmp_path / m)} for m in modes]
    run_two_processes(runs, tmp_path, 29500 + (os.getpid() + 7) % 1000)
    want = [r["loss"] for r in _rows(single)]
    a = load_hf_model(latest_checkpoint(single)).state_dict()  # type: ignore[arg-type]
    for mode in modes:
        got = _rows(tmp_path / mode)
        assert 0.0 in got[0]["expert_share"]  # idle experts in the global batch too
        torch.testing.assert_close([r["loss"] for r in got], want, rtol=1e-5, atol=1e-6)
        b = load_hf_model(latest_checkpoint(tmp_path / mode)).state_dict()  # type: ignore[arg-type]
        for k in a:
            torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-5, msg=k)
