"""The library entry points of the trainer (what ``qurate train`` and ``qurate run`` call).

- ``train(data_dir, out_dir, preset=..., max_steps=..., **fields) -> TrainResult``
- ``train_config(cfg, resume=...)`` for a full ``TrainConfig``
- ``train_tokenizer(data_dir, out_dir, vocab_size) -> Path`` (a byte-level BPE)
- ``export(run_or_ckpt, out_dir) -> Path`` (a Hugging Face directory)
- ``plan(params, tokens, ...)`` / ``fit_sweep(csv)`` (scaling-law hyper-parameters)

Importing this module needs the ``train`` extra (torch, tokenizers, safetensors); the
error names the extra when it is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qurate.errors import MissingExtraError

try:
    import tokenizers  # noqa: F401
    import torch
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError(e.name or "torch", "train") from None

from qurate.contract.args import as_path
from qurate.contract.stagedir import require_finished_dirs
from qurate.train.checkpoint import export as _export
from qurate.train.config import TrainConfig, load_config
from qurate.train.data import iter_texts, list_shards
from qurate.train.loop import DivergedError, Event, Trainer, TrainResult
from qurate.train.plan import Fit, Plan, fit_sweep, model_size
from qurate.train.plan import plan as _plan
from qurate.train.tokenizer import iter_texts_once, save_tokenizer_dir, train_bpe

__all__ = [
    "DivergedError",
    "Fit",
    "Plan",
    "TrainConfig",
    "TrainResult",
    "export",
    "fit_sweep",
    "load_config",
    "plan",
    "train",
    "train_config",
    "train_tokenizer",
]


def train_config(
    cfg: TrainConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    on_event: Event | None = None,
    stop_at: int | None = None,
) -> TrainResult:
    """Run (or resume) training as ``cfg`` says. ``on_event(kind, data)`` receives
    ``start``, ``step`` (one metrics record), ``checkpoint`` and, when the run directory
    already holds this run finished, ``finished`` (and nothing is trained).

    ``resume``: continue the run in ``cfg.out`` (its stored config, with the fields set in
    ``cfg`` on top); ``overwrite``: clear the run's files in ``cfg.out`` and start again.

    The run seeds torch (``cfg.seed``) and a resumed run restores the numpy and Python RNGs
    of its checkpoint; the caller's RNG states are put back when it returns or raises, so
    what a notebook draws after training does not depend on whether it trained."""
    require_finished_dirs(cfg.data, *(s.data for s in cfg.stages))  # never a half-written mix
    with _callers_rng():
        trainer = Trainer(cfg, resume=resume, overwrite=overwrite, on_event=on_event)
        c = trainer.cfg  # a resumed run reads its own stored data directories: check those too
        require_finished_dirs(c.data, *(s.data for s in c.stages))
        return trainer.run(stop_at=stop_at)


@contextmanager
def _callers_rng() -> Iterator[None]:
    """Put back the torch (CPU, and CUDA when this process uses it), numpy and Python RNG
    states on the way out. CUDA is left alone when it is not initialised: reading its state
    would initialise it, in a process that may fork workers later."""
    import random

    import numpy as np

    states = (torch.get_rng_state(), np.random.get_state(), random.getstate())
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    try:
        yield
    finally:
        torch.set_rng_state(states[0])
        np.random.set_state(states[1])
        random.setstate(states[2])
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)


def train(
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    preset: str = "tiny",
    max_steps: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    on_event: Event | None = None,
    **fields: Any,
) -> TrainResult:
    """Train ``preset`` on the shards in ``data_dir``; other ``TrainConfig`` fields by name
    (e.g. ``seq_len=128, micro_batch_size=8, batch_tokens=2048, lr=3e-3``)."""
    data_dir, out_dir = as_path(data_dir, "train data_dir"), as_path(out_dir, "train out_dir")
    cfg = load_config(
        None, data=str(data_dir), out=str(out_dir), preset=preset, max_steps=max_steps, **fields
    )
    return train_config(cfg, resume=resume, overwrite=overwrite, on_event=on_event)


def train_tokenizer(
    data_dir: str | Path, out_dir: str | Path, vocab_size: int = 2048, max_chars: int = 200_000_000
) -> Path:
    """Train a Qwen-style byte-level BPE on the shards; returns the tokenizer directory."""
    texts = iter_texts_once(iter_texts(list_shards(data_dir)), max_chars)
    tok = train_bpe(texts, vocab_size)
    out = Path(out_dir)
    save_tokenizer_dir(tok, out)
    return out


def export(
    run_or_ckpt: str | Path, out_dir: str | Path, *, dtype: str = "float32", overwrite: bool = False
) -> Path:
    """Write a Hugging Face model directory from a run (its latest checkpoint) or a checkpoint.

    The same export again is a no-op; another export or any other files in ``out_dir`` are
    replaced only with ``overwrite``."""
    return _export(run_or_ckpt, out_dir, dtype=dtype, overwrite=overwrite)


def plan(params: str | float, tokens: str | float, *, seq_len: int = 4096) -> dict[str, Any]:
    """Both laws' batch size and peak lr for N params (or a preset name) and D tokens.

    For an MoE preset N and M are the active non-embedding parameters and FLOPs per token.
    """
    from qurate.train.model import PRESETS
    from qurate.train.plan import parse_count

    n, m, exact = model_size(params, seq_len)
    d = parse_count(tokens)
    cfg = PRESETS.get(params) if isinstance(params, str) else None
    return {
        "N": n,
        # for a preset: all parameters and those one token uses (they differ for MoE)
        "total_params": cfg.num_params() if cfg else None,
        "active_params": cfg.num_params(active=True) if cfg else None,
        "moe": bool(cfg and cfg.is_moe),
        "D": d,
        "M": m,
        "M_exact": exact,
        "plans": [_plan(n, m, d, law) for law in ("deepseek", "steplaw")],
    }
