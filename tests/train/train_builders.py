"""The small training config the train tests share (a tiny model, a few steps of 128 tokens)."""

from __future__ import annotations

from pathlib import Path

from qurate.train.config import load_config


def small_cfg(data: Path, out: Path, tok: Path, **kw):
    """A tiny run on ``data`` into ``out``: 6 steps, eval and checkpoint every 3; ``kw`` on top."""
    base = dict(
        data=str(data),
        out=str(out),
        tokenizer=str(tok),
        preset="tiny",
        seq_len=32,
        micro_batch_size=2,
        batch_tokens=128,
        lr=3e-3,
        max_steps=6,
        eval_every=3,
        eval_batches=1,
        save_every=3,
    )
    return load_config(None, **{**base, **kw})
