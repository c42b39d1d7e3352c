"""The filter part of ``qurate curate``: normalise -> language ID -> heuristics.

``build_filter_steps`` returns the datatrove steps in that order for the pipeline runner;
``FiltersConfig`` is their config section (composed into the pipeline config).
"""

from __future__ import annotations

from datatrove.pipeline.base import PipelineStep
from pydantic import BaseModel, ConfigDict

from qurate.filters.heuristics.config import HeuristicsConfig
from qurate.filters.heuristics.rules import Heuristics
from qurate.filters.langid import LanguageID, LanguageIDConfig
from qurate.filters.normalize import Normalize


class NormalizeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True


class FiltersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    normalize: NormalizeConfig = NormalizeConfig()
    langid: LanguageIDConfig = LanguageIDConfig()
    heuristics: HeuristicsConfig = HeuristicsConfig()


def build_filter_steps(cfg: FiltersConfig | None = None) -> list[PipelineStep]:
    """Normalise, language ID and heuristics steps, in that order (disabled ones left out).

    Normalisation stays on unless turned off explicitly: language ID and the heuristics
    assume NFC text with ``\\n`` line breaks.
    """
    cfg = cfg or FiltersConfig()
    steps: list[PipelineStep] = []
    if cfg.normalize.enabled:
        steps.append(Normalize())
    if cfg.langid.enabled:
        steps.append(LanguageID(cfg.langid))
    if cfg.heuristics.enabled:
        steps.append(Heuristics(cfg.heuristics))
    return steps
