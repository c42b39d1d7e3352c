"""The mix config (``MIX.yaml``): a token budget, per-domain targets, caps and quality rules.

How a plan is derived from it (see ``qurate.mixers.plan``):

- Every domain found in the inputs gets a ``DomainSpec``: its entry under ``domains:`` or,
  when it has none, ``default``. Naming a domain that is not in the inputs is an error.
- A domain's *raw target* is either its ``weight`` (absolute: UniMax is every weight 1) or
  ``multiplier`` x its natural token share (the Qwen2.5 report's down/up-sampling of the
  natural distribution). With ``temperature`` T the natural shares are first reshaped as
  p^(1/T) (T > 1 flattens towards uniform). Weights and multipliers cannot be mixed: they are
  on different scales.
- Raw targets are normalised to shares of ``budget_tokens`` and water-filled: a domain whose
  target exceeds ``max_epochs`` x its supply is capped and the rest of the budget is shared
  among the others. A budget larger than the capped supply of all domains is an error.
- Quality: documents below a domain's ``min_quality`` are not eligible. Eligible documents
  fall into quality buckets (``quality_buckets``: a number of global quantile buckets, or a
  list of edges); ``bucket_rates`` (one per bucket, lowest first) up- or down-weight buckets
  within a domain, e.g. ``[0.5, 1, 1, 2]`` repeats the top quartile twice as often.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from qurate.contract.config import load_section, validate
from qurate.errors import ConfigError


class DomainSpec(BaseModel):
    """How one domain is sampled. Give at most one of ``weight`` and ``multiplier``."""

    model_config = ConfigDict(extra="forbid")

    weight: float | None = Field(None, ge=0, description="absolute target weight (UniMax: 1)")
    multiplier: float | None = Field(
        None, ge=0, description="factor on the natural share (0.5 halves, 2 doubles)"
    )
    max_epochs: float | None = Field(
        None, gt=0, description="cap on repeats of any document of this domain (None: default)"
    )
    min_quality: float | None = Field(
        None, description="documents with quality below this are not eligible"
    )
    bucket_rates: list[float] | None = Field(
        None, description="relative rate per quality bucket, lowest bucket first"
    )

    @model_validator(mode="after")
    def _one_target(self) -> DomainSpec:
        if self.weight is not None and self.multiplier is not None:
            raise ValueError("give either weight or multiplier, not both")
        if self.bucket_rates is not None and any(r < 0 for r in self.bucket_rates):
            raise ValueError("bucket_rates must be >= 0")
        return self


class LongContextStage(BaseModel):
    """A long-context training stage composed from the mix (Qwen2.5: 40% at max length)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="sub-directory name")
    max_tokens: int = Field(..., gt=0, description="the stage's maximum sequence length")
    long_fraction: float = Field(0.4, ge=0, le=1, description="share of sequences at max length")
    long_min_ratio: float = Field(
        0.9, gt=0, le=1, description="a sequence of >= this x max_tokens counts as max length"
    )
    budget_tokens: int | None = Field(
        None, gt=0, description="stop after this many tokens (None: use the whole mix)"
    )
    separator: str = Field("\n\n", description="joins same-domain documents in a concatenation")

    @field_validator("name")
    @classmethod
    def _not_dots(cls, v: str) -> str:
        if set(v) == {"."}:  # "." or ".." would write the stage over the mix or its parent
            raise ValueError(f"{v!r} is not a sub-directory name")
        return v


class MixConfig(BaseModel):
    """``qurate mix`` settings. Every default lives here."""

    model_config = ConfigDict(extra="forbid")

    budget_tokens: int = Field(..., gt=0, description="total tokens in the mix (required)")
    seed: int = Field(0, description="drives every sampling and shuffling decision")
    default: DomainSpec = Field(
        default_factory=lambda: DomainSpec(multiplier=1.0),
        description="spec for domains not listed under domains:",
    )
    domains: dict[str, DomainSpec] = Field(
        default_factory=dict,
        description="per-domain specs (domain name -> spec); unlisted: default",
    )
    max_epochs: float = Field(4.0, gt=0, description="cap for domains that set none")
    temperature: float | None = Field(
        None, gt=0, description="reshape natural shares as p^(1/T) (multiplier mode only)"
    )
    quality_buckets: int | list[float] = Field(
        4, description="number of global quantile buckets, or ascending bucket edges"
    )
    tokenizer: str | None = Field(
        None,
        description="tokenizer.json to count documents without n_tokens "
        "(None: the bundled qurate/data/tokenizer.json)",
    )

    shard_tokens: int = Field(
        50_000_000, gt=0, description="a training shard closes once it holds this many tokens"
    )
    row_group_rows: int = Field(2048, gt=0, description="Parquet row group size of the shards")
    memory_limit: str = Field("1GB", description="DuckDB memory limit (planning and selection)")
    shuffle_bucket_mb: int = Field(
        64, gt=0, description="rows held in memory at once by the global shuffle, in MB"
    )
    long_context: list[LongContextStage] = Field(
        default_factory=list, description="long-context stages composed from the mix"
    )

    @model_validator(mode="after")
    def _check(self) -> MixConfig:
        qb = self.quality_buckets
        if isinstance(qb, int):
            if not 1 <= qb <= 100:
                raise ValueError("quality_buckets: a count between 1 and 100, or a list of edges")
        elif any(b >= a for a, b in zip(qb[1:], qb[:-1], strict=False)) or not qb:
            raise ValueError("quality_buckets: edges must be a non-empty ascending list")
        n = self.n_buckets
        for name, spec in [("default", self.default), *self.domains.items()]:
            if spec.bucket_rates is not None and len(spec.bucket_rates) != n:
                raise ValueError(
                    f"{name}.bucket_rates has {len(spec.bucket_rates)} rates "
                    f"but there are {n} quality buckets"
                )
        names = [s.name for s in self.long_context]
        if len(set(names)) != len(names):
            raise ValueError("long_context: stage names must be unique")
        return self

    @property
    def n_buckets(self) -> int:
        qb = self.quality_buckets
        return qb if isinstance(qb, int) else len(qb) + 1

    def spec_for(self, domain: str) -> DomainSpec:
        """The domain's spec with unset fields taken from ``default``."""
        own = self.domains.get(domain)
        if own is None:
            return self.default
        merged = self.default.model_dump()
        given = own.model_dump(exclude_unset=True)
        if "weight" in given or "multiplier" in given:
            merged["weight"] = merged["multiplier"] = None
        merged.update({k: v for k, v in given.items() if v is not None})
        return DomainSpec(**merged)


def parse_mix_config(data: Any, *, source: str = "mix config") -> MixConfig:
    """Validate a dict as a ``MixConfig``; errors name the offending key."""
    return validate(MixConfig, data, source=source)


def load_mix_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> MixConfig:
    """Load ``MIX.yaml`` (or the ``mix:`` section of a pipeline file), flags on top."""
    if path is None:
        raise ConfigError("mix config: give the path of MIX.yaml (there is no default mix)")
    return load_section(path, "mix", MixConfig, overrides, what="mix config")
