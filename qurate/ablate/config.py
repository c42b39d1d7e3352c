"""The ``ablate:`` config section: one recipe for every arm, and how evaluations are scored.

Loaded with the shared loader (``contract.config.load_section(path, "ablate", AblateConfig)``);
command-line flags override the file. ``qurate init`` prints it with these defaults.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# an arm or evaluation name names a folder of the output: no '/', no '..'
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")


class AblateConfig(BaseModel):
    """Proxy-model ablations: the same tokenizer, preset, hyper-parameters, seeds and token
    budget for every arm, then the same held-out evaluations."""

    model_config = ConfigDict(extra="forbid")

    arms: dict[str, str] = Field(
        default_factory=dict,
        description="arm name -> stage directory or JSONL/Parquet file with `text` (the candidates)",
    )
    evals: dict[str, str] = Field(
        default_factory=dict,
        description="evaluation name -> held-out text, multiple-choice or generation file/stage dir",
    )
    tokens: int = Field(
        2_000_000,
        gt=0,
        description="training tokens per arm and seed: larger arms are sampled, smaller repeated",
    )
    preset: str = Field("tiny", description="model preset of every proxy model (train presets)")
    model: dict[str, int | float | bool] = Field(
        default_factory=dict,
        description="overrides of preset fields for every arm (e.g. num_hidden_layers)",
    )
    seeds: int = Field(
        2, ge=1, le=64, description="seeds per arm (0..seeds-1): the spread shows the noise"
    )
    seq_len: int = Field(256, gt=0, description="tokens per training row")
    micro_batch_size: int = Field(8, gt=0, description="rows per micro-batch")
    batch_tokens: int | None = Field(
        None, gt=0, description="global batch in tokens; None: the `train plan` scaling law"
    )
    lr: float | None = Field(None, gt=0, description="peak learning rate; None: `train plan`")
    tokenizer: str | None = Field(
        None,
        description="tokenizer.json (or its directory) for every arm; None: one BPE trained on "
        "an equal sample of every arm",
    )
    tokenizer_chars: int = Field(
        20_000_000,
        gt=0,
        description="characters of text read to train the shared BPE (split equally over arms)",
    )
    parallel: int = Field(
        1, ge=1, le=64, description="arm runs at once on this machine (processes share the cores)"
    )
    launcher: Literal["local", "torchrun"] = Field(
        "local",
        description="local: train in this process (or `parallel` worker processes); torchrun: "
        "each arm and seed is one `torchrun --standalone` job over `nproc_per_node` devices "
        "(GPUs: NCCL; CPU: gloo), jobs one after another",
    )
    nproc_per_node: int = Field(
        1, ge=1, le=1024, description="processes (GPUs) per torchrun job (launcher: torchrun)"
    )
    eval_seq_len: int = Field(
        512, gt=1, description="window for bits per byte; longer documents are scored in windows"
    )
    eval_batch_size: int = Field(8, gt=0, description="rows per forward pass when evaluating")
    eval_max_docs: int | None = Field(
        None, gt=0, description="score at most this many rows of each evaluation (None: all)"
    )
    max_new_tokens: int = Field(
        128, gt=0, description="greedy tokens generated per prompt for verified generation"
    )
    leakage_ngram: int = Field(
        13,
        ge=5,
        le=32,
        description="an eval text sharing a word n-gram this long with an arm leaks",
    )
    leakage_jaccard: float = Field(
        0.7,
        gt=0,
        le=1,
        description="estimated MinHash Jaccard from which an eval text is a near-duplicate of an arm text",
    )

    @field_validator("arms", "evals")
    @classmethod
    def _folder_names(cls, v: dict[str, str]) -> dict[str, str]:
        # the flags check this in parse_specs; a config's `a/b` or `..` wrote arms elsewhere
        for name in v:
            if not NAME_RE.match(name):
                raise ValueError(
                    f"name {name!r}: use letters, digits, '_', '-', '.', '+' (it names a folder)"
                )
        return v
