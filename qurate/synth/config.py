"""Config models of ``synth generate`` and ``synth filter`` (composed into the pipeline
config by ``qurate/config.py``). Every default lives here."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from qurate.dedup.config import DecontamConfig, DedupConfig
from qurate.llm.config import EngineConfig
from qurate.synth.sandbox import SandboxLimits


class GenerateConfig(BaseModel):
    """Teacher generation: which task and template, how many samples, how to sample."""

    model_config = ConfigDict(extra="forbid")

    task: Literal["math", "code", "knowledge"] = Field(
        "math",
        description="math | code | knowledge: the kind of samples (and the default template)",
    )
    template: str | None = Field(
        None,
        description="template id (e.g. math_synth_v1); none = the task's default for the seeds",
    )
    templates_dir: str | None = Field(None, description="a directory of extra YAML templates")
    n: int = Field(4, ge=1, description="samples per seed")
    temperature: float = Field(0.7, ge=0, description="teacher sampling temperature")
    top_p: float = Field(0.95, gt=0, le=1, description="teacher nucleus sampling")
    max_tokens: int = Field(512, ge=1, description="tokens generated per sample at most")
    seed: int = Field(0, description="sampling seed (part of the prompt cache key)")
    limit: int | None = Field(None, ge=1, description="use only the first N seeds")
    seed_domain: str | None = Field(
        None, description="use only seed rows with this `domain` (e.g. math documents of a pool)"
    )
    chunk: int = Field(
        32, ge=1, description="seeds per engine call; each chunk is committed to the cache"
    )
    teacher: EngineConfig = Field(
        default_factory=EngineConfig, description="the teacher model and its engine"
    )


class RewardConfig(BaseModel):
    """Reward models. ``rm`` scores every task; ``math_rm`` replaces it for math samples;
    ``judge`` (a generative model, e.g. ``default``) is the LLM-as-judge reward when no
    reward model is given."""

    model_config = ConfigDict(extra="forbid")

    rm: str | None = Field(None, description="general reward / sequence-classification checkpoint")
    math_rm: str | None = Field(None, description="math reward model (Qwen2-Math-RM style)")
    judge: str | None = Field(None, description="LLM-as-judge model (local dir, .gguf, 'default')")
    engine: Literal["transformers", "vllm"] = Field(
        "transformers", description="transformers | vllm for the reward models"
    )
    device: str = Field("auto", description="cpu, cuda, cuda:N or auto")
    batch_size: int = Field(8, ge=1, description="samples scored per forward pass")
    max_length: int = Field(2048, ge=16, description="tokens of prompt + response scored")


class FilterConfig(BaseModel):
    """Verifiers, reward models, selection, dedup and decontamination of synthetic samples."""

    model_config = ConfigDict(extra="forbid")

    verify: bool = Field(True, description="math answer check and sandboxed code tests")
    min_votes: int = Field(2, ge=1, description="majority vote: agreeing samples needed")
    reward: RewardConfig = Field(
        default_factory=RewardConfig, description="reward models and LLM-as-judge"
    )
    min_reward: float | None = Field(
        None, description="reject samples whose combined reward is below this"
    )
    top_k: int | None = Field(
        None, ge=1, description="keep the k best samples per prompt (1: best-of-n)"
    )
    dedup: DedupConfig = Field(
        default_factory=DedupConfig,
        description="exact + MinHash dedup among samples and against pool",
    )
    pool: list[str] = Field(
        default_factory=list, description="stage directories of real documents to dedup against"
    )
    benchmarks: list[str] = Field(
        default_factory=list, description="benchmark files to decontaminate against"
    )
    decontam: DecontamConfig = Field(
        default_factory=DecontamConfig, description="n-gram overlap against benchmarks"
    )
    sandbox: SandboxLimits = Field(
        default_factory=SandboxLimits, description="limits of the code-test sandbox"
    )
    tokenizer: str | None = Field(None, description="tokenizer.json for n_tokens; none = bundled")
    rows_per_shard: int = Field(50_000, ge=1, description="samples per output Parquet shard")


class SynthConfig(BaseModel):
    """The ``synth:`` section: ``generate`` (teacher) and ``filter`` (verifiers, rewards)."""

    model_config = ConfigDict(extra="forbid")

    generate: GenerateConfig = Field(
        default_factory=GenerateConfig, description="`qurate synth generate` options"
    )
    filter: FilterConfig = Field(
        default_factory=FilterConfig, description="`qurate synth filter` options"
    )
