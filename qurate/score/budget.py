"""Whether ``score apply`` runs perplexity: ``score.apply.perplexity: auto`` prices it first.

Perplexity under the embedded SmolLM2-135M is the only default signal that separates the
machine-made junk curate keeps (Markov text, sentence salads, word shuffles: ROC-AUC ~0.89
over 256 tokens, where the fastText signals are at chance; bench/RESULTS.md). It is also
the costly one: one x86 core scores about 330 tokens a second (1.3 documents of 256 tokens,
idle machine), so the 18T tokens of a Qwen2.5-scale corpus would take millions of CPU
core-hours, where every fastText signal takes a few thousand.

So the default is ``auto``: before scoring, apply prices perplexity for this input on a CPU,
``documents x min(max_tokens, tokens per document) / CPU_TOKENS_PER_S``, and runs it when
that is under ``score.apply.perplexity_budget_core_hours``, and always on a GPU. Otherwise
it is off, and one line says why, what it would cost and how to force it. The decision
(with the estimate) goes into the manifest. ``true`` / ``false`` (``--perplexity MODEL``,
``--no-perplexity``) skip the pricing.

The estimate uses the rate measured for the embedded 135M model on one core
(``bench/score_speed.py``); a bigger reference model costs more per token than it says.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow.parquet as pq

from qurate.contract.shards import shard_paths
from qurate.score.config import ScoreConfig

# Tokens a second that one CPU core scores under SmolLM2-135M, fp32, 256-token windows:
# 1.3 documents/s/core x 256 on an idle machine (bench/RESULTS.md, "score (issue 15)").
CPU_TOKENS_PER_S = 330.0
FORCE = "--perplexity default"


@dataclass
class PerplexityDecision:
    """What ``auto`` decided and why (the manifest keeps it as ``perplexity_decision``)."""

    setting: bool | Literal["auto"]
    on: bool
    reason: str
    docs: int | None = None
    tokens: int | None = None
    core_hours: float | None = None
    budget_core_hours: float | None = None
    gpu: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def gpu_available(device: str) -> bool:
    """True when perplexity would run on a GPU (``device`` auto with CUDA, or ``cuda...``)."""
    if device.startswith("cuda"):
        return True
    if device != "auto":
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def scored_tokens(src: Path, max_tokens: int, sample_rows: int = 100_000) -> tuple[int, int]:
    """(documents, tokens perplexity would read) of the stage ``src``. Documents come from
    the Parquet footers; each counts ``min(n_tokens, max_tokens)`` tokens (``max_tokens``
    where ``n_tokens`` is missing), averaged over the ``n_tokens`` column of the first shards
    up to ``sample_rows`` rows, so pricing a web-scale input reads footers, not the corpus.
    A shard that cannot be read is left out (the task that owns it reports it)."""
    docs = seen = 0
    capped = 0.0
    for path in shard_paths(src):
        try:
            f = pq.ParquetFile(path)
            n = f.metadata.num_rows
            if seen < sample_rows:
                if "n_tokens" in f.schema_arrow.names:
                    col = f.read(columns=["n_tokens"]).column("n_tokens").to_pylist()
                    capped += sum(max_tokens if t is None else min(t, max_tokens) for t in col)
                else:
                    capped += n * max_tokens
                seen += n
        except (OSError, ValueError):
            continue
        docs += n
    return docs, round(docs * capped / seen) if seen else 0


def decide_perplexity(
    setting: bool | Literal["auto"], src: Path, config: ScoreConfig
) -> PerplexityDecision:
    """On or off for this input: ``setting`` itself when it is a bool, else the price."""
    if setting is not True and setting is not False and setting != "auto":
        raise ValueError(f"perplexity setting {setting!r}: true, false or 'auto'")
    if setting is True or setting is False:
        how = "on" if setting else "off"
        return PerplexityDecision(setting, bool(setting), f"perplexity: {how} (as asked)")
    budget = config.apply.perplexity_budget_core_hours
    pcfg = config.perplexity
    if gpu_available(pcfg.device):
        return PerplexityDecision(
            setting, True, "perplexity: on (auto: a GPU is available)", budget_core_hours=budget,
            gpu=True,
        )  # fmt: skip
    docs, tokens = scored_tokens(src, pcfg.max_tokens)
    name = "SmolLM2-135M" if pcfg.model == "default" else pcfg.model
    core_h = tokens / CPU_TOKENS_PER_S / 3600
    hours = f"{core_h:,.1f}" if core_h >= 1 else f"{core_h:.2g}"
    cost = (
        f"{docs:,} documents, {tokens:,} tokens under {name} on CPU: "
        f"~{hours} core-hours at {CPU_TOKENS_PER_S:.0f} tokens/s/core"
    )
    on = core_h <= budget
    if on:
        reason = f"perplexity: on (auto: {cost}, within the budget of {budget:,g})"
    else:
        reason = (
            f"perplexity: off (auto: {cost}, over the budget of {budget:,g} "
            f"(score.apply.perplexity_budget_core_hours); force it with {FORCE} or run on a GPU)"
        )
    return PerplexityDecision(setting, on, reason, docs, tokens, round(core_h, 3), budget)
