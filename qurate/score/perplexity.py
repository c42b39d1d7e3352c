"""Perplexity under a reference causal LM as a quality signal (the CCNet idea).

CCNet scores each document by its perplexity under a language model of reference-quality
text (Wikipedia): fluent, well-formed prose is likely under it; menus, keyword spam and
broken text are not. Any local causal LM works here (an HF checkpoint directory, a GGUF
file, or ``default``, the embedded SmolLM2-135M-Instruct, whose training mix is curated
web and educational text). Perplexity is computed over the first ``max_tokens`` tokens.

Perplexity is not comparable across languages (or between prose and code), so by default
``score apply`` turns it into a percentile within the document's language over the whole
input, as CCNet cuts it per language (see ``curate/scoring_apply.py``).
``quality_from_perplexity`` is the one-pass alternative (``normalize: absolute``): a logistic
in log space around ``pivot``, the perplexity that scores 0.5.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from qurate.llm.config import EngineConfig


class PerplexityConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        "default",
        description="Reference causal LM: an HF checkpoint dir, a .gguf file, or 'default' "
        "(the embedded SmolLM2-135M-Instruct).",
    )
    max_tokens: int = Field(
        256, ge=8, description="Perplexity over the first this many tokens of a document."
    )
    batch_size: int = Field(4, ge=1, description="Documents per forward pass.")
    device: str = Field("auto", description="torch device: auto, cpu, cuda, ...")
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="Weights and activations: 'auto' = bf16 on a GPU, fp32 on a CPU. bfloat16 on "
        "a CPU with AVX512-BF16 scored 1.54x the tokens/s of fp32 with the same ranking of 16 "
        "documents (Spearman 1.000, bench/score_speed.py --variants); on a CPU without it, "
        "bf16 is emulated and slower.",
    )
    normalize: Literal["language", "absolute"] = Field(
        "language",
        description="'language': the percentile of the document's perplexity among the "
        "input's documents of its language (two passes; CCNet's per-language cuts). "
        "'absolute': a fixed logistic around pivot (one pass).",
    )
    min_language_docs: int = Field(
        20, ge=1, description="Languages with fewer documents than this are ranked together."
    )
    pivot: float = Field(
        20.0,
        gt=1,
        description="normalize: absolute only. Perplexity that maps to quality 0.5; calibrated on SmolLM2-135M (fluent prose ~5-15, junk ~20-200). Set it for another reference model.",
    )
    scale: float = Field(0.5, gt=0, description="Width of the logistic in ln(perplexity) units.")


def quality_from_perplexity(ppl: np.ndarray, pivot: float, scale: float) -> np.ndarray:
    z = (np.log(np.maximum(ppl, 1.0)) - math.log(pivot)) / scale
    return (1.0 / (1.0 + np.exp(np.clip(z, -50, 50)))).astype(np.float32)


class PerplexityScorer:
    """Perplexity of texts under a reference LM (NaN for an empty text)."""

    def __init__(self, config: PerplexityConfig | None = None) -> None:
        from qurate.llm.hf import TransformersEngine

        self.config = config or PerplexityConfig()
        self.engine = TransformersEngine(
            EngineConfig(
                kind="transformers",
                model=self.config.model,
                device=self.config.device,
                batch_size=self.config.batch_size,
                dtype=self.config.dtype,
            )
        )

    @property
    def model_id(self) -> str:
        return self.engine.model_id

    def perplexity(
        self, texts: list[str], on_progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Perplexity of each text; ``on_progress(n)`` after every chunk of ``n`` texts (a
        transformer on a CPU scores a few documents a second: the caller draws a bar)."""
        out = np.full(len(texts), np.nan, dtype=np.float64)
        idx = [i for i, t in enumerate(texts) if t and t.strip()]
        if on_progress is not None and len(idx) < len(texts):
            on_progress(len(texts) - len(idx))
        # Similar lengths in a batch waste less padding.
        idx.sort(key=lambda i: len(texts[i]))
        chunk = self.config.batch_size * 8
        for start in range(0, len(idx), chunk):
            part = idx[start : start + chunk]
            res = self.engine.loglikelihood([texts[i] for i in part], self.config.max_tokens)
            for i, (logp, n) in zip(part, res, strict=True):
                if n > 0:
                    out[i] = math.exp(-logp / n)
            if on_progress is not None:
                on_progress(len(part))
        return out

    def quality(self, ppl: np.ndarray) -> np.ndarray:
        return quality_from_perplexity(ppl, self.config.pivot, self.config.scale)
