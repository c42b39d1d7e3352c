"""Config of the three scoring stages (annotate, distill, apply); the lead composes it.

Every default lives here. ``ScoreConfig`` nests the engine, judge, rater-training and
perplexity configs so one YAML section (``score:``) configures the whole lever.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from qurate.llm.config import EngineConfig
from qurate.llm.fasttext import RaterTrainConfig
from qurate.score.judge import JudgeConfig
from qurate.score.perplexity import PerplexityConfig


class AnnotateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Documents to annotate; a sample stratified by (lang, source). None = all.
    sample: int | None = Field(500, ge=1)
    seed: int = 0
    # Judge check (scoring_check.py): this many judged documents are judged again with their
    # words shuffled; how well the judge tells them apart scales its weight in `quality`.
    # 0 skips the check (the judge keeps its full weight).
    check_docs: int = Field(16, ge=0)


class DistillConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    train: RaterTrainConfig = Field(default_factory=RaterTrainConfig)
    # Held-out share of annotations (chosen by a hash of the id, so stable across runs).
    test_fraction: float = Field(0.2, gt=0, lt=1)
    # A dimension needs at least two score classes with this many labels; domain labels
    # with fewer are folded into "other".
    min_per_class: int = Field(3, ge=1)
    # Soft labels: each annotation becomes this many training lines split between the two
    # integer scores around the judge's expected value (see scoring.soft_labels).
    soft_copies: int = Field(5, ge=1)
    # Keep threshold on the 0-5 scale for F1/kappa; None = the judge's median on the
    # training split (the small default judge squeezes scores into a narrow band).
    keep_threshold: float | None = None


class ApplyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Weight of each dimension in the rater component (missing = 1.0).
    weights: dict[str, float] = Field(default_factory=dict)
    # Weights of the components of `quality` (each in [0, 1]); absent signals are skipped.
    rater_weight: float = Field(1.0, ge=0)
    judge_weight: float = Field(1.0, ge=0)
    perplexity_weight: float = Field(1.0, ge=0)
    # Also score perplexity under `score.perplexity.model` (what `--perplexity` turns on).
    perplexity: bool = False
    # Documents with quality below this go to rejects (reason low_quality); None keeps all.
    keep_threshold: float | None = Field(None, ge=0, le=1)
    batch_size: int = Field(2048, ge=1)
    # Tasks the input shards are split among (at most one per shard); more than one runs on
    # the run's executor (local processes or Ray; Slurm is refused), each loading its models.
    tasks: int = Field(1, ge=1)


class ScoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: EngineConfig = Field(default_factory=EngineConfig)
    judge: JudgeConfig = Field(default_factory=JudgeConfig)
    annotate: AnnotateConfig = Field(default_factory=AnnotateConfig)
    distill: DistillConfig = Field(default_factory=DistillConfig)
    apply: ApplyConfig = Field(default_factory=ApplyConfig)
    perplexity: PerplexityConfig = Field(default_factory=PerplexityConfig)
