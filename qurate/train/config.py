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

    name: str = Field("", description="a label for the stage; metrics number stages by position")
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
    schedule: Literal["cosine", "wsd"] = Field(
        "cosine", description="cosine decay, or warmup-stable-decay (wsd) with a final decay"
    )
    decay_fraction: float = Field(0.2, gt=0, le=1, description="WSD: share of steps that decay")
    weight_decay: float = Field(0.1, ge=0, description="AdamW decoupled weight decay")
    # ranges as torch.optim.AdamW checks them (was its ValueError traceback, after the model)
    beta1: float = Field(0.9, ge=0, lt=1, description="AdamW first-moment decay")
    beta2: float = Field(0.95, ge=0, lt=1, description="AdamW second-moment decay")
    eps: float = Field(1e-8, ge=0, description="AdamW denominator epsilon")
    grad_clip: float = Field(1.0, gt=0, description="clip the global gradient norm to this")


class TrainConfig(BaseModel):
    """Everything ``qurate train`` needs. Paths are strings so the YAML stays plain."""

    model_config = ConfigDict(extra="forbid")

    data: str | None = Field(None, description="shard directory (part-*.parquet with text)")
    out: str | None = Field(None, description="run directory: checkpoints, metrics, tokenizer")
    preset: str = Field("tiny", description="model size from the presets (tiny ... 72B)")
    init_from: str | None = Field(None, description="a Hugging Face Qwen2 checkpoint directory")
    model: dict[str, int | float | bool] = Field(
        default_factory=dict, description="overrides of preset fields, e.g. vocab_size"
    )
    tokenizer: str | None = Field(
        None, description="tokenizer.json (or its directory); None: init_from's, else trained"
    )
    tokenizer_vocab: int | None = Field(None, gt=259, description="BPE size; None: model vocab")
    tokenizer_train_chars: int = Field(200_000_000, gt=0, description="text read to train BPE")
    seq_len: int = Field(2048, gt=0, description="tokens per training row (without stages)")
    micro_batch_size: int = Field(4, gt=0, description="rows per micro-batch per process")
    batch_tokens: int | None = Field(None, gt=0, description="global batch; None: plan")
    tokens: int | None = Field(None, gt=0, description="training tokens D; None: from the data")
    max_steps: int | None = Field(None, ge=0, description="stop after this many steps")
    stages: list[StageConfig] = Field(
        default_factory=list,
        description="long-context stages run in order; empty = one stage from seq_len and tokens",
    )
    packing: Literal["auto", "concat", "no_split"] = Field(
        "auto",
        description="concat: documents run on across rows; no_split: each row holds whole "
        "documents; auto: no_split for the mixer's long-context directories, else concat",
    )
    law: Literal["deepseek", "steplaw"] = Field(
        "deepseek", description="scaling law that plans an unset lr and batch_tokens"
    )
    seed: int = Field(0, description="initialisation and data order seed")
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="bfloat16 autocast or float32; auto = bfloat16 on CUDA, else float32"
    )
    compile: bool = Field(False, description="wrap the model in torch.compile")
    parallel: Literal["ddp", "fsdp"] = Field(
        "ddp", description="multi-process data parallelism: DDP, or FSDP2 (fully_shard)"
    )
    log_every: int = Field(1, gt=0, description="write a metrics record every N steps")
    eval_every: int = Field(100, ge=0, description="0 disables evaluation")
    eval_batches: int = Field(4, gt=0, description="held-out micro-batches per evaluation")
    save_every: int = Field(500, gt=0, description="checkpoint every N steps (and at the end)")
    keep_checkpoints: int = Field(2, gt=0, description="checkpoints kept on disk; older ones go")
    peak_flops: float | None = Field(None, gt=0, description="per device, for MFU")
    optim: OptimConfig = Field(
        default_factory=OptimConfig, description="AdamW and the learning-rate schedule"
    )

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
