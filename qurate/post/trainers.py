"""``post sft`` / ``dpo`` / ``grpo``: thin wrappers over TRL's SFTTrainer, DPOTrainer and
GRPOTrainer (trl 1.16.0), with our data, our verifiers and the run directory of :mod:`runs`.

SFT trains only assistant turns and their ``<|im_end|>`` (TRL's ``assistant_only_loss`` over
Qwen2.5's template) and packs rows best-fit into ``max_tokens`` sequences without splitting
any (TRL's ``bfd``; documents stay apart through position ids, padding-free). No row is ever
truncated: a row longer than a phase's ``max_tokens`` (counted with the policy's own
tokenizer and template) is left out of that phase and counted in the manifest. Two-phase
long SFT (``post.sft.phases``) trains phase after phase, each from the previous result.

DPO keeps TRL's default reference (no ``ref_model``: TRL reloads it from the model's
directory, which is why the policy is always loaded from disk). GRPO needs a policy that
sometimes succeeds (a group with equal rewards has zero gradient): start it from SFT.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qurate.contract.shards import check_stage_dir, iter_rows
from qurate.contract.stagedir import StageDir, config_hash, fingerprint
from qurate.errors import BadInputError
from qurate.post.chat import check_messages
from qurate.post.config import PhaseConfig, PostConfig
from qurate.post.pairs import pair_problem, read_pairs
from qurate.post.policy import check_causal_lm, load_policy, save_policy
from qurate.post.rewards import build_rewards, read_prompts_counted, unscorable
from qurate.post.runs import (
    latest_checkpoint,
    metrics_callback,
    progress_callback,
    trim_metrics,
    trl_args,
)

log = logging.getLogger("qurate.post")


@dataclass
class PostResult:
    out: Path
    final: Path
    steps: int
    n_in: int
    kept: int
    rejected: dict[str, int] = field(default_factory=dict)
    final_loss: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def chat_length(tok: Any, messages: list[dict[str, str]]) -> int:
    """Tokens of a conversation under the policy's chat template (what the trainer sees)."""
    ids = tok.apply_chat_template(messages, tokenize=True)
    if isinstance(ids, dict) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    return len(ids)


def read_chat_rows(directory: str | Path) -> list[dict[str, Any]]:
    """The rows of a chat stage directory. ``post data`` writes only conversations that
    pass :func:`check_messages`; a row that does not (a hand-made or damaged directory) is a
    one-line error naming it: it was silently left out (no messages), or reached the
    trainer and died there (no assistant turn, an empty conversation)."""
    d = check_stage_dir(directory)
    rows = list(iter_rows(d, columns=["id", "messages"]))
    if not any(isinstance(r.get("messages"), list) for r in rows):
        raise BadInputError(f"{d}: no chat rows with `messages` (is it `post data` output?)")
    for r in rows:
        if (bad := check_messages(r.get("messages"))) is not None:
            raise BadInputError(
                f"{d}: row {r.get('id')}: {bad[0]}: {bad[1]} (rebuild it with `qurate post data`)"
            )
    return rows


def _weighted(rows: list[dict[str, Any]], weight: float, seed: int) -> list[dict[str, Any]]:
    """``weight`` 2.5 = every row twice and a seeded half once more."""
    whole, frac = int(weight), weight - int(weight)
    extra = random.Random(seed).sample(rows, round(frac * len(rows))) if frac else []
    return rows * whole + extra


def phase_rows(
    phase: PhaseConfig, data: list[str], tok: Any, seed: int
) -> tuple[list[dict[str, Any]], int, int]:
    """The phase's training rows (weighted), rows read, rows left out as longer than the phase."""
    sources = phase.data or {d: 1.0 for d in data}
    if not sources:
        raise BadInputError("post sft: no data: give --data or post.sft.phases[].data")
    out: list[dict[str, Any]] = []
    n_read = n_long = 0
    for d, w in sources.items():
        rows = read_chat_rows(d)
        n_read += len(rows)
        fit = [r for r in rows if chat_length(tok, r["messages"]) <= phase.max_tokens]
        n_long += len(rows) - len(fit)
        out += _weighted([{"messages": r["messages"]} for r in fit], w, seed)
    return out, n_read, n_long


def _begin(
    out: str | Path, stage: str, fp: str, resume: bool, overwrite: bool, inputs: list[Any]
) -> tuple[StageDir, dict | None]:
    sd = StageDir(out, stage, overwrite=overwrite, inputs=inputs)
    if resume and not overwrite and not sd.has_run():
        # as `qurate train --resume`: a fresh run under --resume hid a mistyped -o
        raise BadInputError(
            f"{out}: nothing to resume (no earlier {stage} run there); run without --resume"
        )
    done = sd.begin(fp, resume=resume)
    return sd, done


def _done(done: dict[str, Any], out: Path) -> PostResult:
    c = done["counts"]
    return PostResult(
        out,
        out / "final",
        done.get("steps", 0),
        c["in"],
        c["kept"],
        c["rejected_by_reason"],
        done.get("final_loss"),
    )


def _train(
    trainer: Any, phase_dir: Path, metrics: Path, stage: str, resume: bool, progress: bool = True
) -> Any:
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # it prints every log dict; metrics.jsonl has them
    kind = type(trainer).__name__.removesuffix("Trainer").lower()  # sft, dpo, grpo
    bar = progress_callback(kind if kind == stage else f"{kind} {stage}", enabled=progress)
    trainer.add_callback(bar)
    ck = latest_checkpoint(phase_dir) if resume else None
    if ck is not None:
        trim_metrics(metrics, stage, int(ck.name.split("-")[-1]))
        log.info("resuming %s from %s", stage, ck)
    try:
        return trainer.train(resume_from_checkpoint=str(ck) if ck else None)
    finally:
        bar.close()  # also when training stops on divergence or an interrupt


def _last_loss(trainer: Any) -> float | None:
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return float(losses[-1]) if losses else None


def _open(sd: StageDir, model: str | Path) -> tuple[Any, Any, Path]:
    """The policy and tokenizer loaded from disk, and the run's ``metrics.jsonl`` (emptied
    unless the run resumes)."""
    policy, tok = load_policy(model)
    metrics = sd.path / "metrics.jsonl"
    if not sd.resumed:
        metrics.write_text("")
    return policy, tok, metrics


def _train_and_finish(
    sd: StageDir,
    trainer: Any,
    tok: Any,
    stage: str,
    metrics: Path,
    cfg: PostConfig,
    inputs: list[str],
    counts: tuple[int, int, dict[str, int]],
    extra: Callable[[], dict[str, Any]] = dict,
    progress: bool = True,
) -> PostResult:
    """Train (resuming from the stage's last checkpoint), save ``final`` and write the
    manifest. ``counts`` is (in, kept, rejected by reason); ``extra`` is called after
    training, so it can report what training counted."""
    _train(trainer, sd.path / stage, metrics, stage, sd.resumed, progress)
    final = save_policy(trainer.model, tok, sd.path / "final")
    loss, steps, more = _last_loss(trainer), trainer.state.global_step, extra()
    n_in, n_kept, rejected = counts
    sd.finish(
        config_hash=config_hash(cfg),
        inputs=inputs,
        n_in=n_in,
        n_kept=n_kept,
        rejected_by_reason=rejected,
        extra={"steps": steps, "final_loss": loss, **more},
    )
    return PostResult(sd.path, final, steps, n_in, n_kept, rejected, loss, more)


def sft_trainer(
    policy: Any,
    tok: Any,
    rows: list[dict[str, Any]],
    cfg: PostConfig,
    out: Path,
    phase: PhaseConfig,
    max_steps: int | None = None,
    callbacks: list[Any] | None = None,
) -> Any:
    """The TRL SFTTrainer of one phase: assistant-only loss, best-fit packing into
    ``phase.max_tokens`` (rows were already length-checked, so nothing is cut)."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    s = cfg.sft
    args = SFTConfig(
        **trl_args(cfg, s, out, phase.epochs, max_steps),
        max_length=phase.max_tokens,
        packing=s.packing,
        packing_strategy="bfd",
        assistant_only_loss=s.assistant_only_loss,
        eos_token="<|im_end|>",
    )
    return SFTTrainer(
        model=policy,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tok,
        callbacks=callbacks or [],
    )


def run_sft(
    model: str | Path,
    data: list[str],
    out: str | Path,
    cfg: PostConfig | None = None,
    *,
    max_steps: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> PostResult:
    """SFT ``model`` on chat stage directories ``data`` (or ``post.sft.phases``) into ``out``."""
    cfg = cfg or PostConfig()
    s = cfg.sft
    check_causal_lm(model)
    phases = s.phases or [PhaseConfig(max_tokens=s.max_tokens, epochs=s.epochs)]
    if not data and not all(p.data for p in phases):  # was found after the model loaded
        raise BadInputError("post sft: no data: give --data or post.sft.phases[].data")
    inputs = sorted({*data, *(d for p in phases for d in p.data)})
    reads = [model, *inputs]
    fp = fingerprint(cfg, reads, max_steps=max_steps)
    sd, done = _begin(out, "post_sft", fp, resume, overwrite, reads)
    if done is not None:
        return _done(done, sd.path)
    with sd:
        for d in inputs:  # a bad row is named before the model loads (the phases read again)
            read_chat_rows(d)
        policy, tok = load_policy(model)
        metrics = sd.path / "metrics.jsonl"
        if not sd.resumed:
            metrics.write_text("")
        n_in = n_out = steps = 0
        per_phase, loss = [], None
        for k, phase in enumerate(phases, start=1):
            name = f"phase-{k}"
            pdir = sd.path / name
            rows, n_read, n_long = phase_rows(phase, data, tok, s.seed)
            n_in, n_out = n_in + n_read, n_out + n_long
            per_phase.append(
                {
                    "phase": k,
                    "max_tokens": phase.max_tokens,
                    "rows": len(rows),
                    "left_out_too_long": n_long,
                }
            )
            if (pdir / "model").is_dir() and sd.resumed:  # this phase finished before the kill
                policy, tok = load_policy(pdir / "model")
                continue
            if not rows:
                raise BadInputError(
                    f"post sft: phase {k} has no row of at most {phase.max_tokens} tokens"
                )
            trainer = sft_trainer(
                policy,
                tok,
                rows,
                cfg,
                pdir,
                phase,
                max_steps,
                callbacks=[metrics_callback(metrics, name, phase.max_tokens)],
            )
            _train(trainer, pdir, metrics, name, sd.resumed, progress)
            steps += trainer.state.global_step
            loss = _last_loss(trainer)
            policy = trainer.model
            if len(phases) > 1:
                save_policy(policy, tok, pdir / "model")
        final = save_policy(policy, tok, sd.path / "final")
        sd.finish(
            config_hash=config_hash(cfg),
            inputs=[str(model), *inputs],
            n_in=n_in,
            n_kept=n_in - n_out,
            rejected_by_reason={"too_long": n_out} if n_out else {},
            extra={"steps": steps, "final_loss": loss, "phases": per_phase},
        )
    return PostResult(
        sd.path, final, steps, n_in, n_in - n_out, {"too_long": n_out} if n_out else {}, loss
    )


def run_dpo(
    model: str | Path,
    data: str | Path,
    out: str | Path,
    cfg: PostConfig | None = None,
    *,
    max_steps: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> PostResult:
    """DPO ``model`` on the pairs of ``data`` (``post pairs`` output) into ``out``."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    cfg = cfg or PostConfig()
    s = cfg.dpo
    check_causal_lm(model)
    pairs = read_pairs(data)
    fp = fingerprint(cfg, [model, data], max_steps=max_steps)
    sd, done = _begin(out, "post_dpo", fp, resume, overwrite, [model, data])
    if done is not None:
        return _done(done, sd.path)
    with sd:
        # A hand-made pairs directory may hold anything: a pair with a bad conversation or
        # the same answer on both sides is left out and counted (it crashed the chat
        # template, or trained on nothing), never silently kept.
        problems = [pair_problem(p) for p in pairs]
        bad = Counter(why for why in problems if why is not None)
        usable = [p for p, why in zip(pairs, problems, strict=True) if why is None]
        if not usable:
            why = ", ".join(f"{k}: {v}" for k, v in sorted(bad.items()))
            raise BadInputError(f"{data}: no usable pair ({why}); is it `post pairs` output?")
        policy, tok, metrics = _open(sd, model)
        fit = [
            {k: p[k] for k in ("prompt", "chosen", "rejected")}
            for p in usable
            if max(chat_length(tok, p["prompt"] + p[side]) for side in ("chosen", "rejected"))
            <= s.max_tokens
        ]
        if not fit:
            raise BadInputError(f"{data}: no pair fits in post.dpo.max_tokens = {s.max_tokens}")
        args = DPOConfig(
            **trl_args(cfg, s, sd.path / "dpo", s.epochs, max_steps),
            beta=s.beta,
            max_length=s.max_tokens,
        )
        trainer = DPOTrainer(
            model=policy,
            args=args,
            train_dataset=Dataset.from_list(fit),
            processing_class=tok,
            callbacks=[metrics_callback(metrics, "dpo", s.max_tokens)],
        )
        n_long = len(usable) - len(fit)
        counts = (len(pairs), len(fit), {**bad, **({"too_long": n_long} if n_long else {})})
        return _train_and_finish(
            sd,
            trainer,
            tok,
            "dpo",
            metrics,
            cfg,
            [str(model), str(data)],
            counts,
            progress=progress,
        )


def run_grpo(
    model: str | Path,
    prompts: str | Path,
    out: str | Path,
    rewards: list[str],
    cfg: PostConfig | None = None,
    *,
    max_steps: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> PostResult:
    """GRPO ``model`` on ``prompts`` against ``rewards`` (math, code, rm:PATH) into ``out``."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    cfg = cfg or PostConfig()
    s = cfg.grpo
    check_causal_lm(model)
    read, n_rows = read_prompts_counted(prompts)
    funcs, weights = build_rewards(
        rewards, s.reward_weights, s.reward_timeout_s, s.code_test_timeout_s, s.code_workers
    )
    # a prompt no reward can score trained on nothing (every reward None, exit 0): left out
    why = [unscorable(r, rewards) for r in read]
    rows = [r for r, w in zip(read, why, strict=True) if w is None]
    # in == kept + left out: a repeated prompt (several pairs of one prompt) is one RL prompt
    left = {"repeated_prompt": n_rows - len(read), **Counter(w for w in why if w)}
    left_out = {k: v for k, v in left.items() if v}
    if not rows:
        raise BadInputError(
            f"{prompts}: no prompt that --reward {' --reward '.join(rewards)} can score "
            f"({len(read)} read): math needs a `reference` that parses as math, code needs "
            "`tests`"
        )
    fp = fingerprint(cfg, [model, prompts], max_steps=max_steps, rewards=rewards)
    sd, done = _begin(out, "post_grpo", fp, resume, overwrite, [model, prompts])
    if done is not None:
        return _done(done, sd.path)
    with sd:
        policy, tok, metrics = _open(sd, model)
        batch = max(s.batch_size, s.num_generations)
        batch -= batch % s.num_generations  # TRL: the batch must hold whole groups
        args = GRPOConfig(
            **{
                **trl_args(cfg, s, sd.path / "grpo", s.epochs, max_steps),
                "per_device_train_batch_size": batch,
            },
            num_generations=s.num_generations,
            max_completion_length=s.max_completion_tokens,
            temperature=s.temperature,
            beta=s.beta,
            reward_weights=weights,
            use_vllm=s.use_vllm,
        )
        trainer = GRPOTrainer(
            model=policy,
            reward_funcs=funcs,
            args=args,
            train_dataset=Dataset.from_list(rows),
            processing_class=tok,
            callbacks=[metrics_callback(metrics, "grpo", s.max_completion_tokens)],
        )
        return _train_and_finish(
            sd,
            trainer,
            tok,
            "grpo",
            metrics,
            cfg,
            [str(model), str(prompts)],
            (n_rows, len(rows), left_out),
            lambda: {"reward_failures": {f.name: f.failures for f in funcs}, "rewards": rewards},
            progress,
        )


__all__ = [
    "PostResult",
    "chat_length",
    "phase_rows",
    "read_chat_rows",
    "run_dpo",
    "run_grpo",
    "run_sft",
]
