"""The filter part of ``qurate curate``: normalise -> language ID -> web -> heuristics.

``build_filter_steps`` returns the datatrove steps in that order for the pipeline runner;
``FiltersConfig`` is their config section (composed into the pipeline config).
"""

from __future__ import annotations

from datatrove.pipeline.base import PipelineStep
from pydantic import BaseModel, ConfigDict, Field

from qurate.filters.heuristics.config import HeuristicsConfig
from qurate.filters.heuristics.rules import Heuristics
from qurate.filters.langid import LanguageID, LanguageIDConfig
from qurate.filters.normalize import Normalize
from qurate.filters.web.config import WebConfig
from qurate.filters.web.rules import WebFilter


class NormalizeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        True,
        description="mojibake repair, Unicode NFC, line breaks, control characters (never NFKC), before every filter",
    )


class FiltersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    normalize: NormalizeConfig = Field(
        default_factory=NormalizeConfig, description="text normalisation before filtering"
    )
    langid: LanguageIDConfig = Field(
        default_factory=LanguageIDConfig, description="language identification (fastText lid.176)"
    )
    web: WebConfig = Field(
        default_factory=WebConfig,
        description="Web-page rules before the heuristics: chrome lines cut, link farms, "
        "consent walls, encoded blobs and number dumps rejected.",
    )
    heuristics: HeuristicsConfig = Field(
        default_factory=HeuristicsConfig,
        description="Gopher, C4, FineWeb and qurate's own quality rules",
    )


def build_filter_steps(cfg: FiltersConfig | None = None) -> list[PipelineStep]:
    """Normalise, language ID, web and heuristics steps, in that order (disabled ones left out).

    Normalisation stays on unless turned off explicitly: language ID and the heuristics
    assume NFC text with ``\\n`` line breaks.
    """
    cfg = cfg or FiltersConfig()
    steps: list[PipelineStep] = []
    if cfg.normalize.enabled:
        steps.append(Normalize())
    if cfg.langid.enabled:
        steps.append(LanguageID(cfg.langid))
    if cfg.web.enabled:
        # After language ID (it judges the whole page), before the heuristics (they should
        # judge the body, not the site template).
        steps.append(WebFilter(cfg.web))
    if cfg.heuristics.enabled:
        steps.append(Heuristics(cfg.heuristics))
    return steps
