"""Everything resolved before the first step: model config, tokenizer, plan, schedule.

Kept apart from the loop so that each decision (which tokenizer, which batch size, how
many steps per stage) is one small function with a clear error when the inputs disagree.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import asdict, dataclass, replace
from itertools import zip_longest
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from qurate.errors import BadInputError, ConfigError
from qurate.train import plan as planlib
from qurate.train.checkpoint import read_hf_config
from qurate.train.config import StageConfig, TrainConfig
from qurate.train.data import estimate_tokens, iter_texts, list_shards
from qurate.train.model import ModelConfig, preset
from qurate.train.presets import TRAIN_DEFAULTS
from qurate.train.tokenizer import (
    iter_texts_once,
    load_tokenizer,
    save_tokenizer_dir,
    train_bpe,
    vocab_size,
)


def model_config(cfg: TrainConfig) -> ModelConfig:
    """The preset (or the --init-from checkpoint's config) with the user's overrides."""
    if cfg.init_from and cfg.model:
        raise ConfigError("model overrides cannot change an --init-from checkpoint's shape")
    base = read_hf_config(Path(cfg.init_from)) if cfg.init_from else preset(cfg.preset)
    return base.replace(**cfg.model).validate() if cfg.model else base


def preset_train_defaults(cfg: TrainConfig) -> TrainConfig:
    """The preset's own row length, batch, schedule and init (``TRAIN_DEFAULTS``) when the
    user chose neither row length nor batch.

    Only for a fresh model without stages: a user who sets ``seq_len`` or ``batch_tokens``
    (the demo, ``qurate ablate``), starts from a checkpoint, or lists stages keeps the
    generic defaults and the scaling-law plan. The fields are written into the run's config,
    so ``--resume`` and the finished-run check see the values that were trained.
    """
    extra = dict(TRAIN_DEFAULTS.get(cfg.preset, {}))
    chosen = {"seq_len", "batch_tokens"} & cfg.model_fields_set
    if not extra or chosen or cfg.init_from or cfg.stages:
        return cfg
    optim = extra.pop("optim", {})
    model = extra.pop("model", {})
    update = {k: v for k, v in extra.items() if k not in cfg.model_fields_set}
    if optim:  # the schedule fields the user did not set
        mine = {k: v for k, v in optim.items() if k not in cfg.optim.model_fields_set}
        update["optim"] = cfg.optim.model_copy(update=mine)
    if model:  # model fields (the init) the user did not override
        update["model"] = {**model, **cfg.model}
    return cfg.model_copy(update=update)


def fit_seq_len(cfg: TrainConfig, mcfg: ModelConfig) -> TrainConfig:
    """A checkpoint with a shorter context than the default seq_len trains at its own length.

    Only when the user did not set seq_len (an explicit one too long is refused later).
    """
    if cfg.init_from and not cfg.stages and "seq_len" not in cfg.model_fields_set:
        if cfg.seq_len > mcfg.max_position_embeddings:
            return cfg.model_copy(update={"seq_len": mcfg.max_position_embeddings})
    return cfg


def check_stages(mcfg: ModelConfig, stages: list[StageConfig]) -> None:
    """Every stage's seq_len must fit its RoPE base and the model's position limit."""
    for s in stages:
        theta = s.rope_theta or mcfg.rope_theta
        mcfg.replace(rope_theta=theta).check_seq_len(s.seq_len)


def tokenizer(cfg: TrainConfig, mcfg: ModelConfig, run: Path, main: bool) -> Tokenizer:
    """The run's tokenizer, saved under ``RUN/tokenizer/``.

    Order: the run's own (resume), ``--tokenizer``, the ``--init-from`` directory's, else a
    byte-level BPE trained on the training shards (by the main process only).
    """
    own = run / "tokenizer"
    if (own / "tokenizer.json").is_file():
        tok = load_tokenizer(own)
    elif cfg.tokenizer or cfg.init_from:
        src = Path(cfg.tokenizer or cfg.init_from)  # type: ignore[arg-type]
        tok = load_tokenizer(src)
        if main:
            _save_whole(tok, own, src if src.is_dir() else None)
    elif main:
        shards = list_shards(cfg.data)  # type: ignore[arg-type]
        texts = iter_texts_once(iter_texts(shards), cfg.tokenizer_train_chars)
        tok = train_bpe(texts, cfg.tokenizer_vocab or mcfg.vocab_size)
        _save_whole(tok, own)
    else:
        raise RuntimeError("the main process trains the tokenizer first")  # caller syncs
    if vocab_size(tok) > mcfg.vocab_size:
        raise ConfigError(
            f"the tokenizer has {vocab_size(tok)} tokens but the model's vocab_size is "
            f"{mcfg.vocab_size}; pick a larger preset or set model.vocab_size"
        )
    return tok


def _save_whole(tok: Tokenizer, own: Path, source: Path | None = None) -> None:
    """Write the run's tokenizer directory whole or not at all (a temp name, then renamed):
    a run killed mid-write used to leave a truncated ``tokenizer.json`` (or one without its
    ``tokenizer_config.json``) that ``--resume`` then took for the run's own."""
    tmp = own.with_name(f".{own.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    save_tokenizer_dir(tok, tmp, source)
    shutil.rmtree(own, ignore_errors=True)  # whatever an older killed run left there
    os.replace(tmp, own)


@dataclass(frozen=True)
class Schedule:
    """Global batch (the tokens one step of the first stage really trains), peak lr and the
    steps of each stage."""

    batch_tokens: int
    lr: float
    stage_steps: list[int]  # steps per stage, in order
    streams: list[int]  # micro-batches per global step, per stage
    micro_batch: list[int]  # rows per micro-batch, per stage
    plan: dict | None  # the scaling-law plan used, if any
    note: str | None = None  # why batch_tokens differs from what was asked, if it does

    @property
    def total_steps(self) -> int:
        return sum(self.stage_steps)

    def stage_at(self, step: int) -> int:
        """Index of the stage that runs ``step`` (0-based)."""
        end = 0
        for i, n in enumerate(self.stage_steps):
            end += n
            if step < end:
                return i
        return len(self.stage_steps) - 1

    def stage_start(self, index: int) -> int:
        return sum(self.stage_steps[:index])


def schedule(cfg: TrainConfig, mcfg: ModelConfig, world: int) -> Schedule:
    """Resolve batch size, learning rate and steps; the plan fills what is not given."""
    stages = cfg.effective_stages()
    plan_used = None
    lr, batch = cfg.optim.lr, cfg.batch_tokens
    if lr is None or batch is None:
        d = cfg.tokens or sum(s.tokens or 0 for s in stages)
        if not d:
            if cfg.max_steps is not None and batch is not None:
                d = cfg.max_steps * batch
            else:
                d = estimate_tokens(list_shards(cfg.data))  # type: ignore[arg-type]
                if not d:  # the plan cannot size a run on no text ("--tokens must be positive")
                    raise BadInputError(
                        f"no text to train on in {cfg.data}: every document's 'text' is empty"
                    )
        n = planlib.body_params(mcfg)
        m = planlib.body_flops_per_token(mcfg, stages[0].seq_len)
        p = planlib.plan(n, m, d, cfg.law)
        plan_used = {
            "law": p.law,
            "N": n,
            "D": d,
            "M": m,
            "batch_tokens": p.batch_tokens,
            "lr": p.lr,
        }
        lr = lr if lr is not None else p.lr
        batch = batch if batch is not None else int(p.batch_tokens)
    streams, micro = [], []
    for s in stages:
        most = s.micro_batch_size or cfg.micro_batch_size
        # micro_batch_size is a memory cap: never more rows than the global batch has room for
        rows = max(1, min(most, batch // (s.seq_len * world)))
        # micro-batches per step: a multiple of the process count, at least one each
        n_micro = max(1, round(batch / (rows * s.seq_len)))
        streams.append(math.ceil(n_micro / world) * world)
        micro.append(rows)
    steps = []
    for s, k, rows in zip(stages, streams, micro, strict=True):
        per_step = k * rows * s.seq_len
        steps.append(math.ceil(s.tokens / per_step) if s.tokens else 0)
    if cfg.max_steps is not None:
        steps = _cap(steps, cfg.max_steps)
    elif not all(steps):
        raise ConfigError("set --max-steps, or tokens for every stage, so the run has an end")
    trained = streams[0] * micro[0] * stages[0].seq_len
    return Schedule(
        trained,
        float(lr),
        steps,
        streams,
        micro,
        plan_used,
        _batch_note(
            int(batch),
            trained,
            stages[0].seq_len,
            world,
            plan_used is not None and cfg.batch_tokens is None,
        ),
    )


def keep_peak_lr(sched: Schedule, saved: dict | None, cfg: TrainConfig) -> Schedule:
    """A resumed run keeps the peak lr it was trained with unless ``optim.lr`` is set.

    The plan's lr comes from D, and D from ``max_steps`` x batch when no token count is
    given: ``--resume --max-steps N`` to extend a run re-planned a new peak lr, a jump at
    the resumed step. The schedule's length still follows the new ``max_steps``.
    """
    was = (saved or {}).get("schedule", {}).get("lr")
    if was is None or cfg.optim.lr is not None or float(was) == sched.lr:
        return sched
    note = f"peak lr {float(was):.3g} kept from the run (the plan for this length gives {sched.lr:.3g})"
    return replace(sched, lr=float(was), note=f"{sched.note}; {note}" if sched.note else note)


def _batch_note(asked: int, trained: int, seq_len: int, world: int, planned: bool) -> str | None:
    """Say plainly when a step trains another number of tokens than the batch asked for."""
    if asked == trained:
        return None
    who = "the plan's batch" if planned else "--batch-tokens"
    if asked < seq_len * world:
        return (
            f"{who} ({asked:,} tokens) is below one {seq_len}-token row per process; "
            f"each step trains {trained:,} tokens (lower --seq-len to train smaller batches)"
        )
    return f"{who} ({asked:,} tokens) rounds to whole rows: each step trains {trained:,} tokens"


def _cap(steps: list[int], max_steps: int) -> list[int]:
    """Cut the stage steps to ``max_steps`` in total; an open-ended stage takes the rest."""
    out, left = [], max_steps
    for i, n in enumerate(steps):
        take = left if (n == 0 or i == len(steps) - 1) and left > 0 else min(n, left)
        out.append(take)
        left -= take
    return out


def lr_at(step: int, total: int, peak: float, cfg: TrainConfig) -> float:
    """Warmup then cosine (to min_lr_ratio) or WSD (flat, then linear decay at the end)."""
    o = cfg.optim
    warm = o.warmup_steps if o.warmup_steps is not None else min(2000, max(1, total // 20))
    floor = peak * o.min_lr_ratio
    if step < warm:
        return peak * (step + 1) / warm
    if o.schedule == "cosine":
        frac = (step - warm) / max(1, total - warm)
        return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * min(1.0, frac)))
    decay_start = total - max(1, int(total * o.decay_fraction))
    if step < decay_start:
        return peak
    frac = (step - decay_start) / max(1, total - decay_start)
    return peak - (peak - floor) * min(1.0, frac)


def shard_listing(shards: list[Path]) -> list[list[Any]]:
    """The training shards as ``[name, bytes]``: what a checkpoint's data position points into
    (the directory may move; the shards may not change)."""
    return [[s.name, s.stat().st_size] for s in shards]


def check_resume(
    saved: dict, cfg: TrainConfig, mcfg: ModelConfig, shards: list[list[Any]] | None = None
) -> None:
    """A checkpoint only continues the run it came from: same model, data and data layout.
    ``shards``: this run's ``shard_listing``."""
    old = saved["config"]
    if shards is not None and saved.get("data_shards") is not None:
        was, now = saved["data_shards"], shards
        if was != now:  # the loader's position (shard, batch, row) would point elsewhere
            changed = next((a, b) for a, b in zip_longest(was, now) if a != b)
            raise ConfigError(
                f"the checkpoint was trained on other data: {len(was)} shards then, "
                f"{len(now)} in {cfg.data} now (first difference: {changed[0]} -> "
                f"{changed[1]}); resume on the same shards, or train into a new -o"
            )
    now = json.loads(json.dumps(asdict(mcfg)))  # tuples as lists, as the saved JSON has them
    diffs = [
        f"model.{k}: {saved['model'].get(k)} -> {v}"
        for k, v in now.items()
        if k != "rope_theta" and saved["model"].get(k, v) != v
    ]
    for key in ("seq_len", "micro_batch_size", "batch_tokens", "seed", "stages", "packing"):
        new = json.loads(json.dumps(cfg.model_dump(mode="json")[key]))
        if old.get(key) != new and not (key == "batch_tokens" and new is None):
            diffs.append(f"{key}: {old.get(key)} -> {new}")
    for key in ("init_from", "tokenizer"):  # were ignored on --resume, without a word
        was, new = old.get(key), getattr(cfg, key)
        if was != new and not (was and new and Path(was).resolve() == Path(new).resolve()):
            diffs.append(f"{key}: {was} -> {new}")
    if diffs:
        raise ConfigError(
            "the checkpoint comes from another config (" + "; ".join(diffs[:4]) + "); "
            "use the original config or a new output directory"
        )
