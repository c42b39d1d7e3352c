"""The ``post:`` config section: post-training data (``post data`` / ``post pairs``) and the TRL
trainers (``post sft`` / ``dpo`` / ``grpo``). Every default lives here; ``qurate init`` prints it.

Defaults follow the Qwen2.5 report where it gives a figure (32K-token SFT rows, two-phase long
SFT, short prompts for RL) and TRL's own defaults elsewhere; the CPU figures in the field
descriptions were measured with the tiny 2-layer test model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from qurate.dedup.config import DecontamConfig, DedupConfig

CAPABILITIES: tuple[str, ...] = (
    "long_text",
    "math",
    "code",
    "instruction_following",
    "structured_data",
    "logical_reasoning",
    "cross_lingual",
    "system_instructions",
    "response_filtering",
)
"""The nine SFT capabilities of the Qwen2.5 report; anything else is ``other``."""


class DataConfig(BaseModel):
    """``post data``: chat rows from synth output and chat files, never truncated."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(
        32768,
        ge=16,
        description="longest conversation kept (tokens incl. turn markers); longer ones are "
        "rejected `too_long`, never cut (the report's SFT length is 32K)",
    )
    benchmarks: list[str] = Field(
        default_factory=list,
        description="benchmark files: user turns sharing a 13-gram with one are `contaminated`",
    )
    decontam: DecontamConfig = Field(
        default_factory=DecontamConfig,
        description="n-gram overlap of the user turns with the benchmarks (the curate stage's "
        "index); matching rows are `contaminated`",
    )
    dedup: DedupConfig = Field(
        default_factory=DedupConfig,
        description="exact + MinHash near copies of the user turns, against the pool and earlier "
        "rows (best synth reward kept); copies are `duplicate`",
    )
    pool: list[str] = Field(
        default_factory=list,
        description="earlier chat stage directories: user turns already there are `duplicate`",
    )
    languages: list[str] = Field(
        default_factory=list,
        description="keep only these languages (fastText lid.176 on the user turns); empty = all",
    )
    tokenizer: str | None = Field(
        None, description="tokenizer.json that counts tokens; none = the bundled one"
    )
    rows_per_shard: int = Field(50_000, ge=1, description="rows per Parquet shard")

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        # Checked on load: a code lid.176 never predicts rejected every row as `lang`.
        from qurate.filters.langid import allowed_languages

        allowed_languages(value)
        return value


class PairsConfig(BaseModel):
    """``post pairs``: DPO pairs from one synth filter directory."""

    model_config = ConfigDict(extra="forbid")

    max_prompt_tokens: int = Field(
        2048,
        ge=1,
        description="prompts longer than this are rejected `too_long` (the report runs RL on "
        "short instructions only)",
    )
    rm_margin: float = Field(
        0.5,
        ge=0,
        description="samples with no verifier pair only when their reward-model scores differ "
        "by at least this much",
    )
    max_pairs_per_prompt: int = Field(
        2, ge=1, description="pairs built per prompt at most (each sample is used once)"
    )
    tokenizer: str | None = Field(
        None, description="tokenizer.json that counts prompt tokens; none = the bundled one"
    )


class PhaseConfig(BaseModel):
    """One SFT phase: which data, up to which length, for how long."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(
        32768,
        ge=16,
        description="sequence length of the phase; longer rows are left out of it, never cut",
    )
    data: dict[str, float] = Field(
        default_factory=dict,
        description="chat stage directory -> weight (1.0 = every row once, 0.5 = half, 2 = twice); "
        "empty = the --data directories at weight 1",
    )
    epochs: float = Field(1.0, gt=0, description="passes over the phase's weighted rows")

    @field_validator("data")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, w in value.items() if w <= 0]
        if bad:
            raise ValueError(f"weights must be > 0 (got {', '.join(bad)})")
        return value


class TrainSettings(BaseModel):
    """Optimiser and run settings shared by the three trainers."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float = Field(1e-5, gt=0, description="peak learning rate (AdamW)")
    batch_size: int = Field(4, ge=1, description="rows (or packed sequences) per device step")
    grad_accum: int = Field(1, ge=1, description="gradient accumulation steps")
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="share of steps spent warming up")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay")
    max_steps: int | None = Field(
        None, ge=1, description="stop after this many steps (per phase); none = the epochs"
    )
    save_steps: int = Field(50, ge=1, description="checkpoint every this many steps")
    save_total_limit: int = Field(2, ge=1, description="checkpoints kept on disk")
    logging_steps: int = Field(1, ge=1, description="write a metrics.jsonl record every N steps")
    seed: int = Field(0, description="data order and initialisation seed")
    bf16: bool | None = Field(
        None,
        description="bf16 mixed precision. None (default): on where training runs on a GPU "
        "that supports bf16 (as `train`'s dtype auto), fp32 on CPU; true on CPU is ignored "
        "(TRL refuses it there)",
    )


class SFTSection(TrainSettings):
    """``post sft``: TRL SFTTrainer with assistant-only loss and packing."""

    learning_rate: float = Field(
        1e-5, gt=0, description="peak learning rate (report: 7e-6 -> 7e-7)"
    )
    epochs: float = Field(2.0, gt=0, description="epochs of the single phase (report: 2)")
    max_tokens: int = Field(
        32768, ge=16, description="sequence length when no phases are given (report: 32K)"
    )
    packing: bool = Field(
        True,
        description="pack rows into max_tokens sequences (TRL best-fit, padding-free): documents "
        "stay apart through position ids, and no row is ever split",
    )
    assistant_only_loss: bool = Field(
        True, description="loss on assistant turns and their <|im_end|> only"
    )
    phases: list[PhaseConfig] = Field(
        default_factory=list,
        description="two-phase long SFT: e.g. [{max_tokens: 32768}, {max_tokens: 262144, data: "
        "{out/sft: 0.5, out/sft-long: 1}}]; empty = one phase of --data at max_tokens",
    )


class DPOSection(TrainSettings):
    """``post dpo``: TRL DPOTrainer on ``post pairs`` output."""

    learning_rate: float = Field(
        5e-7, gt=0, description="peak learning rate (report's offline RL: 7e-7)"
    )
    epochs: float = Field(1.0, gt=0, description="epochs over the pairs (report: 1)")
    beta: float = Field(0.1, gt=0, description="DPO temperature: how far from the reference")
    max_tokens: int = Field(4096, ge=16, description="prompt + response tokens of a pair")


class GRPOSection(TrainSettings):
    """``post grpo``: TRL GRPOTrainer against our verifiers and reward models."""

    learning_rate: float = Field(1e-6, gt=0, description="peak learning rate")
    epochs: float = Field(1.0, gt=0, description="epochs over the prompts")
    num_generations: int = Field(
        4, ge=2, description="completions sampled per prompt (the group of GRPO)"
    )
    max_completion_tokens: int = Field(256, ge=1, description="longest sampled completion")
    temperature: float = Field(1.0, gt=0, description="sampling temperature of the policy")
    beta: float = Field(0.0, ge=0, description="KL coefficient to the reference (TRL default 0)")
    reward_weights: dict[str, float] = Field(
        default_factory=dict,
        description="weight per reward (`math`, `code`, `rm:PATH`); a reward not named here has 1",
    )
    reward_timeout_s: float = Field(  # past a day, waiting overflows: every call failed
        30.0,
        gt=0,
        le=86_400,
        description="a reward call slower than this scores the batch as no reward",
    )
    code_test_timeout_s: float = Field(
        5.0, gt=0, le=86_400, description="per-solution sandbox wall time (as the sandbox's)"
    )
    code_workers: int = Field(4, ge=1, description="sandbox processes run at once")
    use_vllm: bool = Field(
        False,
        description="generate with vLLM (GPU; needs a separate environment: TRL's vllm extra "
        "pins vllm<=0.31, which pins transformers<5.18). Unverified until a GPU run",
    )


class PostConfig(BaseModel):
    """Post-training: SFT rows, DPO pairs, and SFT / DPO / GRPO on TRL."""

    model_config = ConfigDict(extra="forbid")

    data: DataConfig = Field(
        default_factory=DataConfig,
        description="`post data`: chat rows from synth output and chat files, never truncated",
    )
    pairs: PairsConfig = Field(
        default_factory=PairsConfig,
        description="`post pairs`: DPO pairs from one synth filter directory",
    )
    sft: SFTSection = Field(
        default_factory=SFTSection,
        description="`post sft`: TRL SFTTrainer with assistant-only loss and packing",
    )
    dpo: DPOSection = Field(
        default_factory=DPOSection,
        description="`post dpo`: TRL DPOTrainer on `post pairs` output",
    )
    grpo: GRPOSection = Field(
        default_factory=GRPOSection,
        description="`post grpo`: TRL GRPOTrainer against our verifiers and reward models",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="where the trainers run; auto = CUDA when present, else CPU"
    )


__all__ = [
    "CAPABILITIES",
    "DPOSection",
    "DataConfig",
    "GRPOSection",
    "PairsConfig",
    "PhaseConfig",
    "PostConfig",
    "SFTSection",
    "TrainSettings",
]
