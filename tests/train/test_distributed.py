"""Data parallelism: 2 processes on CPU (gloo, launched by torchrun) match one process
training on the same global batch, loss for loss and weight for weight."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from torchrun_job import run_two_processes

from qurate.train.api import load_config, train_config
from qurate.train.checkpoint import latest_checkpoint, load_hf_model


def _losses(run: Path) -> list[float]:
    return [json.loads(x)["loss"] for x in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_two_processes_match_one(shards: Path, tokenizer_dir: Path, tmp_path: Path) -> None:
    fields = dict(
        data=str(shards),
        tokenizer=str(tokenizer_dir),
        preset="tiny",
        seq_len=32,
        micro_batch_size=2,
        batch_tokens=128,
        lr=3e-3,
        max_steps=4,
        eval_every=2,
        eval_batches=1,
        save_every=4,
    )
    single = tmp_path / "single"
    train_config(load_config(None, **fields, out=str(single)))

    modes = ("ddp", "fsdp")
    runs = [{**fields, "parallel": m, "out": str(tmp_path / m)} for m in modes]
    run_two_processes(runs, tmp_path, 29500 + os.getpid() % 1000)

    a = load_hf_model(latest_checkpoint(single)).state_dict()  # type: ignore[arg-type]
    for mode in modes:
        multi = tmp_path / mode
        assert json.loads((multi / "plan.json").read_text())["world"] == 2
        torch.testing.assert_close(_losses(multi), _losses(single), rtol=1e-5, atol=1e-6)
        b = load_hf_model(latest_checkpoint(multi)).state_dict()  # type: ignore[arg-type]
        for k in a:
            if mode == "ddp":  # all-reduce of two summed halves: the very same numbers
                assert torch.equal(b[k], a[k]), k
            else:
                # FSDP reduce-scatters in another order; Adam scales the rounding noise up on
                # near-zero gradients (k_proj.bias): ~1e-6, against a step size of 3e-3
                torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-5, msg=k)
