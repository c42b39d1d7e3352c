"""Config of the three scoring stages (annotate, distill, apply); the lead composes it.

Every default lives here. ``ScoreConfig`` nests the engine, judge, rater-training and
perplexity configs so one YAML section (``score:``) configures the whole lever.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from qurate.llm.config import EngineConfig
from qurate.llm.fasttext import RaterTrainConfig
from qurate.score.judge import JudgeConfig
from qurate.score.perplexity import PerplexityConfig


class AnnotateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample: int | None = Field(
        500,
        ge=1,
        description="Documents the judge annotates: a sample stratified by (lang, source); "
        "null annotates every document.",
    )
    seed: int = Field(0, description="Seed of the sample (a hash of the id per stratum).")
    check_docs: int = Field(
        16,
        ge=0,
        description="Judge check (score/check.py): this many judged documents are judged again "
        "with their words shuffled; how well the judge tells them apart scales its weight (and "
        "its raters') in quality. 0 skips the check (the judge keeps its full weight).",
    )


class DistillConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    train: RaterTrainConfig = Field(
        default_factory=RaterTrainConfig, description="fastText training of every rater."
    )
    test_fraction: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="Held-out share of the annotations (chosen by a hash of the id, so stable "
        "across runs) on which agreement with the judge is measured.",
    )
    min_per_class: int = Field(
        3,
        ge=1,
        description="A dimension needs two score classes with this many labels; domain labels "
        "with fewer are folded into 'other'.",
    )
    soft_copies: int = Field(
        5,
        ge=1,
        description="Soft labels: each annotation becomes this many training lines split between "
        "the two integer scores around the judge's expected value (see distill.soft_labels).",
    )
    reference: list[str] = Field(
        default_factory=lambda: ["default"],
        description="Reference-quality text for the DCLM-style reference classifier (reference "
        "vs a random sample of the pool): 'default' (the bundled sample's real text, see "
        "score/reference.py), JSONL/Parquet files, stage directories or folders of .txt/.md; "
        "[] trains none.",
    )
    reference_pool: int = Field(
        2000,
        ge=10,
        description="Pool documents (a random sample of the annotated stage's input) the "
        "reference classifier learns to tell from the reference.",
    )
    keep_threshold: float | None = Field(
        None,
        description="Keep threshold on the 0-5 scale for F1/kappa; null = the judge's median on "
        "the training split (a small judge squeezes its scores into a narrow band).",
    )


class ApplyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weights: dict[str, float] = Field(
        default_factory=dict,
        description="Weight of each judged dimension in the rater component (missing = 1.0).",
    )
    rater_weight: float = Field(
        1.0, ge=0, description="Configured weight of the raters in quality (before the checks)."
    )
    judge_weight: float = Field(
        1.0, ge=0, description="Configured weight of the LLM judge (--judge) in quality."
    )
    perplexity_weight: float = Field(
        1.0, ge=0, description="Configured weight of reference-LM perplexity in quality."
    )
    reference_weight: float = Field(
        1.0, ge=0, description="Configured weight of the reference classifier in quality."
    )
    perplexity: bool | Literal["auto"] = Field(
        "auto",
        description="Score perplexity under score.perplexity.model: on held-out text it is the "
        "signal that separates good text from machine-made junk (ROC-AUC 0.89, "
        "bench/RESULTS.md), and the costly one (~330 tokens/s per CPU core). 'auto' prices it "
        "for the input first (score/budget.py): on a GPU, or when the CPU core-hours are within "
        "perplexity_budget_core_hours, it runs; otherwise it is off and apply says what it "
        "would cost. true forces it (--perplexity MODEL), false leaves it out (--no-perplexity).",
    )
    perplexity_budget_core_hours: float = Field(
        100.0,
        ge=0,
        description="perplexity: auto runs perplexity on a CPU only when its estimated cost "
        "(documents x min(tokens, score.perplexity.max_tokens) at the measured tokens/s per "
        "core) is at most this many core-hours. 100 is ~470k documents of 256 tokens: a sample "
        "or a small corpus, not a crawl (18T tokens would take ~millions of core-hours).",
    )
    check_docs: int = Field(
        16,
        ge=0,
        description="Signal check: this many input documents and word-shuffled copies of them "
        "are scored by every signal; each signal's ROC-AUC (original above copy) scales its "
        "weight like the judge check does. 0 skips the checks.",
    )
    domains: str | None = Field(
        "default",
        description="Domain classifier for the domain column: 'default' (the fastText model "
        "shipped in qurate/data, trained on labelled redistributable text), a path to a "
        "fastText .ftz/.bin, or null to take the raters' (judge-distilled) domain model.",
    )
    keep_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Documents with quality below this go to rejects (reason low_quality); "
        "null keeps all.",
    )
    batch_size: int = Field(2048, ge=1, description="Documents scored per batch.")
    tasks: int = Field(
        1,
        ge=1,
        description="Tasks the input shards are split among (at most one per shard); more than "
        "one runs on the run's executor (local processes or Ray; Slurm is refused), each "
        "loading its own models.",
    )


class ScoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: EngineConfig = Field(
        default_factory=EngineConfig, description="The LLM engine of the judge."
    )
    judge: JudgeConfig = Field(
        default_factory=JudgeConfig, description="Judge rubrics, taxonomy and truncation."
    )
    annotate: AnnotateConfig = Field(
        default_factory=AnnotateConfig, description="`score annotate`: the judged sample."
    )
    distill: DistillConfig = Field(
        default_factory=DistillConfig, description="`score distill`: rater training."
    )
    apply: ApplyConfig = Field(
        default_factory=ApplyConfig, description="`score apply`: signals and their weights."
    )
    perplexity: PerplexityConfig = Field(
        default_factory=PerplexityConfig, description="The reference LM of the perplexity signal."
    )
