"""Typed config of the curate stage: reading, the filter chain, dedup, decontamination, executor."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from qurate.dedup.config import DecontamConfig, DedupConfig
from qurate.filters.steps import FiltersConfig
from qurate.readers.inputs import check_field_keys


class CurateConfig(BaseModel):
    """`qurate curate`: ingest, normalise, language ID, heuristics, dedup, decontamination."""

    model_config = ConfigDict(extra="forbid")
    text_key: str = Field(
        "text", description="input field (JSONL) or column (Parquet) holding the text"
    )
    id_key: str = Field(
        "id", description="input field holding the document id; without one a stable id is derived"
    )
    max_chars: int = Field(1_000_000, ge=1, description="longer documents are rejected as too_long")
    tokenizer: str | None = Field(
        None, description="tokenizer.json used to count n_tokens; none = the bundled BPE"
    )
    rows_per_shard: int = Field(50_000, ge=1, description="documents per output Parquet shard")
    filters: FiltersConfig = Field(
        default_factory=FiltersConfig, description="normalise, language ID, heuristics"
    )
    dedup: DedupConfig = Field(
        default_factory=DedupConfig, description="exact and MinHash-LSH near-duplicate removal"
    )
    decontam: DecontamConfig = Field(
        default_factory=DecontamConfig, description="n-gram overlap against benchmark files"
    )

    @model_validator(mode="after")
    def _field_keys(self) -> CurateConfig:
        check_field_keys(self.text_key, self.id_key)
        return self
