"""Defaults that do what they say: the batch printed is the batch trained, and a checkpoint
with a short context trains at its own length."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qurate.errors import ConfigError
from qurate.train.api import export, load_config, train_config


def test_plan_batch_below_one_row_is_said_and_one_row_is_trained(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    cfg = load_config(
        None,
        data=str(shards),
        out=str(tmp_path / "r"),
        tokenizer=str(tokenizer_dir),
        seq_len=512,
        micro_batch_size=4,  # 4 x 512 would be far above the plan's batch for this tiny data
        max_steps=2,
        eval_every=0,
    )
    res = train_config(cfg)
    assert res.plan is not None and res.plan["batch_tokens"] < 512
    assert res.batch_tokens == 512 and res.tokens == 2 * 512  # one row per step, as printed
    assert res.note is not None and "below one 512-token row" in res.note
    assert json.loads((tmp_path / "r" / "plan.json").read_text())["note"] == res.note


def test_init_from_a_shorter_context_takes_its_length(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    base = dict(data=str(shards), tokenizer=str(tokenizer_dir), max_steps=1, eval_every=0)
    short = dict(model={"max_position_embeddings": 64}, seq_len=64, micro_batch_size=2)
    train_config(load_config(None, **base, **short, out=str(tmp_path / "a"), batch_tokens=128))
    hf = export(tmp_path / "a", tmp_path / "hf")
    # no --seq-len: the default (2048) is longer than the checkpoint's 64 positions
    res = train_config(
        load_config(None, **base, out=str(tmp_path / "b"), init_from=str(hf), batch_tokens=128)
    )
    rows = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert res.steps == 1 and rows[0]["seq_len"] == 64
    # an explicit seq_len beyond the checkpoint is still refused, with the reason
    with pytest.raises(ConfigError, match="max_position_embeddings"):
        train_config(
            load_config(None, **base, out=str(tmp_path / "c"), init_from=str(hf), seq_len=128)
        )


def test_tiny_preset_brings_its_rows_batch_and_schedule_only_when_none_is_chosen() -> None:
    from qurate.train.prepare import preset_train_defaults

    base = dict(data="d", out="o")
    cfg = preset_train_defaults(load_config(None, **base, lr=0.003))
    assert (cfg.seq_len, cfg.batch_tokens, cfg.micro_batch_size) == (128, 16384, 32)
    assert cfg.optim.schedule == "wsd" and cfg.optim.min_lr_ratio == 0 and cfg.optim.lr == 0.003
    assert cfg.optim.beta1 == 0.8 and cfg.model == {"initializer_range": 0.05}
    # model fields the user overrides stay theirs; the others still get the preset's init
    own = preset_train_defaults(load_config(None, **base, model={"initializer_range": 0.01}))
    assert own.model == {"initializer_range": 0.01}
    vocab = preset_train_defaults(load_config(None, **base, model={"vocab_size": 1024}))
    assert vocab.model == {"initializer_range": 0.05, "vocab_size": 1024}
    # a schedule field the user set stays theirs
    mine = preset_train_defaults(load_config(None, **base, **{"optim.schedule": "cosine"}))
    assert mine.optim.schedule == "cosine" and mine.optim.min_lr_ratio == 0
    assert (
        preset_train_defaults(load_config(None, **base, **{"optim.beta1": 0.9})).optim.beta1 == 0.9
    )
    # the demo and `qurate ablate` set seq_len: the generic defaults and the plan, unchanged
    for kept in (
        load_config(None, **base, seq_len=128, micro_batch_size=8),
        load_config(None, **base, batch_tokens=4096),
        load_config(None, **base, preset="mini"),
        load_config(None, **base, init_from="/some/checkpoint"),
    ):
        assert preset_train_defaults(kept) == kept
