"""What the three trainers share: the run directory, TRL arguments, metrics, checkpoints.

- The run directory is a :class:`~qurate.contract.stagedir.StageDir`, so ``post sft/dpo/grpo``
  follow the rerun policy of every stage: the same finished run again is a no-op, another
  config needs ``--overwrite``, two runs cannot share a directory, and an interrupted run
  continues from its last checkpoint with ``--resume`` (without it, it restarts cleanly).
- ``RUN/metrics.jsonl`` has the shape of ``qurate train``'s (step, loss, lr, grad_norm,
  tokens_per_s, mfu, tokens, stage, seq_len, and eval_loss when evaluated), plus the DPO
  margin or the GRPO reward; a resumed run drops records past its checkpoint first.
- ``RUN/<phase>/checkpoint-N`` are TRL checkpoints (model, optimizer, scheduler, RNG, data
  position); ``RUN/final`` is a plain HF directory with the Qwen2.5 chat template.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from qurate.errors import DivergedError
from qurate.post.config import PostConfig, TrainSettings


def device_args(cfg: PostConfig, section: TrainSettings) -> dict[str, Any]:
    """TRL refuses its defaults on a CPU machine (``SFTConfig()`` wants bf16): be explicit."""
    import torch

    cpu = cfg.device == "cpu" or (cfg.device == "auto" and not torch.cuda.is_available())
    bf16 = section.bf16
    if bf16 is None:  # auto: bf16 where the GPU has it
        bf16 = not cpu and torch.cuda.is_bf16_supported()
    return {"use_cpu": cpu, "bf16": bool(bf16 and not cpu), "fp16": False}


def trl_args(
    cfg: PostConfig, section: TrainSettings, out: Path, epochs: float, max_steps: int | None
) -> dict[str, Any]:
    """The TrainingArguments every trainer gets from a config section."""
    steps = max_steps if max_steps is not None else section.max_steps
    return {
        "output_dir": str(out),
        "learning_rate": section.learning_rate,
        "per_device_train_batch_size": section.batch_size,
        "gradient_accumulation_steps": section.grad_accum,
        "warmup_steps": section.warmup_ratio,  # a float < 1 is a share of the steps
        "weight_decay": section.weight_decay,
        "num_train_epochs": epochs,
        "max_steps": steps if steps is not None else -1,
        "save_strategy": "steps",
        "save_steps": section.save_steps,
        "save_total_limit": section.save_total_limit,
        "logging_steps": section.logging_steps,
        "seed": section.seed,
        "data_seed": section.seed,
        "report_to": [],
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        "logging_nan_inf_filter": False,  # a NaN loss is logged as NaN (and stops the run)
        **device_args(cfg, section),
    }


def latest_checkpoint(directory: Path) -> Path | None:
    """The newest complete TRL checkpoint under ``directory`` (trainer_state.json written)."""
    cks = [p for p in directory.glob("checkpoint-*") if (p / "trainer_state.json").is_file()]
    return max(cks, key=lambda p: int(p.name.split("-")[-1]), default=None)


def trim_metrics(path: Path, stage: str, last_step: int) -> None:
    """Drop this stage's records past ``last_step`` (they are redone after a resume)."""
    if not path.is_file():
        return
    keep = []
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("stage") != stage or rec.get("step", 0) <= last_step:
            keep.append(line)
    path.write_text("".join(f"{x}\n" for x in keep))


def check_finite(rec: dict[str, Any], stage: str) -> None:
    """Stop the run at a NaN or infinite loss or gradient norm. TRL trained on: it logged a
    loss of 0.0 (the Trainer filters non-finite losses out of its average) beside a NaN
    gradient norm, saved NaN weights as ``final`` and exited 0."""
    bad = {
        k: rec[k]
        for k in ("loss", "grad_norm", "eval_loss")
        if isinstance(rec.get(k), int | float) and not math.isfinite(rec[k])
    }
    if bad:
        said = ", ".join(f"{k} {v}" for k, v in bad.items())
        trainer = "sft" if stage.startswith("phase") else stage
        raise DivergedError(
            f"post {trainer} diverged at step {rec['step']} of {stage} ({said}); stopped, "
            f"nothing saved as final. Lower post.{trainer}.learning_rate and run again "
            "with --overwrite"
        )


def metrics_callback(path: Path, stage: str, seq_len: int) -> Any:
    """A TRL callback appending ``qurate train``-shaped records to ``path``."""
    from transformers import TrainerCallback

    class _Metrics(TrainerCallback):
        def __init__(self) -> None:
            self.t = time.perf_counter()
            self.tokens: float | None = None

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            logs = logs or {}
            if "loss" not in logs and "eval_loss" not in logs:
                return
            now = time.perf_counter()
            tokens = logs.get("num_tokens")
            rate = None
            if tokens is not None and self.tokens is not None and now > self.t:
                rate = (tokens - self.tokens) / (now - self.t)
            self.t, self.tokens = now, tokens if tokens is not None else self.tokens
            rec: dict[str, Any] = {
                "step": state.global_step,
                "loss": logs.get("loss"),
                "lr": logs.get("learning_rate"),
                "grad_norm": logs.get("grad_norm"),
                "tokens_per_s": rate,
                "mfu": None,
                "tokens": tokens,
                "stage": stage,
                "seq_len": seq_len,
            }
            if "eval_loss" in logs:
                rec["eval_loss"] = logs["eval_loss"]
            check_finite(rec, stage)
            for src, dst in (("rewards/margins", "margin"), ("reward", "reward")):
                if src in logs:
                    rec[dst] = logs[src]
            if state.is_world_process_zero:
                with path.open("a") as f:
                    f.write(json.dumps(rec) + "\n")

    return _Metrics()


def read_metrics(run: str | Path) -> list[dict[str, Any]]:
    """The records of ``RUN/metrics.jsonl`` (for the report and tests)."""
    p = Path(run) / "metrics.jsonl"
    return [json.loads(x) for x in p.read_text().splitlines() if x.strip()] if p.is_file() else []


__all__ = [
    "DivergedError",
    "check_finite",
    "device_args",
    "latest_checkpoint",
    "metrics_callback",
    "read_metrics",
    "trim_metrics",
    "trl_args",
]


def progress_callback(stage: str, *, enabled: bool = True) -> Any:
    """A TRL callback drawing a progress bar (steps, rate, ETA) on stderr on the main
    process; TRL's own tqdm bar is off (``disable_tqdm``: it interleaves with our output).
    ``close()`` stops it; the trainers call it also when training raises."""
    from transformers import TrainerCallback

    from qurate.progress import Bar

    class _Progress(TrainerCallback):
        def __init__(self) -> None:
            self.bar: Bar | None = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if enabled and state.is_world_process_zero and self.bar is None:
                self.bar = Bar(stage, state.max_steps or None, unit="steps").__enter__()
                self.bar.advance(state.global_step)  # a resumed run starts part-way

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if self.bar is not None:
                self.bar.advance(1)

        def close(self) -> None:
            if self.bar is not None:
                self.bar.__exit__(None, None, None)
                self.bar = None

        def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.close()

    return _Progress()
