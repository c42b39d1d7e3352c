"""The ``augment:`` section of the pipeline config: ``recall`` and ``ingest`` options.

Each command reads its own sub-section (``qurate augment recall -c pipeline.yaml`` reads
``augment.recall``); the models live beside their code.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from qurate.augment.classifier import RecallConfig
from qurate.augment.ingest import IngestConfig


class AugmentConfig(BaseModel):
    """Math and code: fastText recall from a pool, and ingest of dedicated corpora."""

    model_config = ConfigDict(extra="forbid")

    recall: RecallConfig = Field(
        default_factory=RecallConfig, description="`qurate augment recall` options"
    )
    ingest: IngestConfig = Field(
        default_factory=IngestConfig, description="`qurate augment ingest` options"
    )
