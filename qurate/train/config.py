"""The training config: typed, every default here, unknown keys refused.

``qurate train -c train.yaml`` reads this model from YAML (safe loader); command-line
flags override its fields. Learning rate and batch size left unset come from the
scaling-law plan (``qurate.train.plan``). ``stages`` lists long-context stages, run in
order, each with its own sequence length, RoPE base (adjusted base frequency, e.g.
10,000 -> 1,000,000) and token count, as in Qwen2.5's two-phase context extension.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from qurate.contract.config import load_section


class StageConfig(BaseModel):
    """One training stage; a run without ``stages`` has one, from the top-level fields."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    seq_len: int = Field(gt=0, description="tokens per training row in this stage")
    rope_theta: float | None = Field(None, gt=0, description="RoPE base; None keeps the model's")
    tokens: int | None = Field(None, gt=0, description="tokens to train on in this stage")
    micro_batch_size: int | None = Field(None, gt=0, description="rows per micro-batch")
    data: str | None = Field(None, description="this stage's shard directory (default: data)")


class OptimConfig(BaseModel):
    """AdamW with warmup and a cosine or warmup-stable-decay (WSD) schedule."""

    model_config = ConfigDict(extra="forbid")

    lr: float | None = Field(None, gt=0, description="peak learning rate; None: scaling-law plan")
    min_lr_ratio: float = Field(0.1, ge=0, le=1, description="final lr as a share of the peak")
    warmup_steps: int | None = Field(None, ge=0, description="None: 5% of steps, at most 2000")
    schedule: Literal["cosine", "wsd"] = "cosine"
    decay_fraction: float = Field(0.2, gt=0, le=1, description="WSD: share of steps that decay")
    weight_decay: float = Field(0.1, ge=0)
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    grad_clip: float = Field(1.0, gt=0)


class TrainConfig(BaseModel):
    """Everything ``qurate train`` needs. Paths are strings so the YAML stays plain."""

    model_config = ConfigDict(extra="forbid")

    data: str | None = Field(None, description="shard directory (part-*.parquet with text)")
    out: str | None = Field(None, description="run directory: checkpoints, metrics, tokenizer")
    preset: str = "tiny"
    init_from: str | None = Field(None, description="a Hugging Face Qwen2 checkpoint directory")
    model: dict[str, int | float | bool] = Field(
        default_factory=dict, description="overrides of preset fields, e.g. vocab_size"
    )
    tokenizer: str | None = Field(
        None, description="tokenizer.json (or its directory); None: init_from's, else trained"
    )
    tokenizer_vocab: int | None = Field(None, gt=259, description="BPE size; None: model vocab")
    tokenizer_train_chars: int = Field(200_000_000, gt=0, description="text read to train BPE")
    seq_len: int = Field(2048, gt=0)
    micro_batch_size: int = Field(4, gt=0, description="rows per micro-batch per process")
    batch_tokens: int | None = Field(None, gt=0, description="global batch; None: plan")
    tokens: int | None = Field(None, gt=0, description="training tokens D; None: from the data")
    max_steps: int | None = Field(None, ge=0, description="stop after this many steps")
    stages: list[StageConfig] = Field(default_factory=list)
    packing: Literal["auto", "concat", "no_split"] = "auto"
    law: Literal["deepseek", "steplaw"] = "deepseek"
    seed: int = 0
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    compile: bool = False
    parallel: Literal["ddp", "fsdp"] = "ddp"
    log_every: int = Field(1, gt=0)
    eval_every: int = Field(100, ge=0, description="0 disables evaluation")
    eval_batches: int = Field(4, gt=0)
    save_every: int = Field(500, gt=0)
    keep_checkpoints: int = Field(2, gt=0)
    peak_flops: float | None = Field(None, gt=0, description="per device, for MFU")
    optim: OptimConfig = Field(default_factory=OptimConfig)

    def effective_stages(self) -> list[StageConfig]:
        """The stages to run: the configured list, or one built from the top-level fields."""
        if self.stages:
            return self.stages
        return [StageConfig(name="main", seq_len=self.seq_len, tokens=self.tokens)]


def load_config(path: str | Path | None = None, **overrides: Any) -> TrainConfig:
    """Read a YAML config (its ``train:`` section, or the whole file) and apply the non-None
    overrides (flags) with the one loader, ``qurate.contract.config.load_section``."""
    if "lr" in overrides:
        overrides["optim.lr"] = overrides.pop("lr")
    return load_section(path, "train", TrainConfig, overrides)
