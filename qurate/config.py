"""The pipeline config: one YAML file, typed and validated, every default in a model.

Each stage's section model lives beside its code (``qurate/curate/config.py``, ...) and is
composed here; every command loads its section with ``qurate.contract.config.load_section``
(the one loader), ``qurate run`` loads the whole file with ``load_config``. ``render_default``
writes what ``qurate init`` prints: every section, every key with its default and its
description, so that no default is invisible; what it prints loads back to the defaults.

Sections that are off unless given (``score``, ``mix``, ``train``: ``qurate run`` runs a stage
when its section is present) print commented out, with every key; uncommenting a section
gives that section's defaults. ``OPTIONAL_SECTIONS`` says how to show each one.
"""

from __future__ import annotations

import json
import os
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticUndefined, to_jsonable_python

from qurate.ablate.config import AblateConfig
from qurate.augment.config import AugmentConfig
from qurate.contract.config import load_section
from qurate.contract.executors import ExecutorConfig
from qurate.curate.config import CurateConfig
from qurate.errors import one_line
from qurate.mixers.config import MixConfig
from qurate.post.config import PostConfig
from qurate.score.config import ScoreConfig
from qurate.synth.config import SynthConfig
from qurate.train.config import TrainConfig


def _expanded(value: list[str] | str | None) -> list[str] | str | None:
    """``~`` and ``$VAR`` / ``${VAR}`` expanded as a shell would on the command line, in a
    path or each path of a list (None stays None): left as they were, ``out: ~/runs`` made a
    folder named ``~`` and inputs were "not found"."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_expand_path(v) for v in value]
    return _expand_path(value)


def repeated(names: list[str]) -> list[str]:
    """The names given more than once, sorted."""
    return sorted({n for n in names if names.count(n) > 1})


class IngestSource(BaseModel):
    """A dedicated math or code corpus: `qurate augment ingest` into ``ingest-<domain>/``,
    then one more source of the mix (scored first when `score:` is set)."""

    model_config = ConfigDict(extra="forbid")
    domain: Literal["math", "code"] = Field(description="math | code: the domain it is tagged with")
    inputs: list[str] = Field(
        min_length=1, description="files or folders (JSONL, Parquet, code trees)"
    )

    _expand = field_validator("inputs", mode="after")(_expanded)


class RecallSource(BaseModel):
    """A general pool to recall a domain's documents from (the Qwen2.5-Math recipe): the pool
    is curated with `curate:` (and scored when `score:` is set) into ``recall-<domain>/``,
    `qurate augment recall` keeps what the classifier recalls, and that joins the mix."""

    model_config = ConfigDict(extra="forbid")
    domain: Literal["math", "code"] = Field(description="math | code: the domain to recall")
    pool: list[str] = Field(min_length=1, description="the pool's raw input files or folders")
    seeds: str | None = Field(
        None,
        description="seed documents of the domain (JSONL/Parquet/text); null: the bundled ones",
    )

    _expand = field_validator("pool", "seeds", mode="after")(_expanded)


class SynthSource(BaseModel):
    """Teacher generation from seed rows (`synth.generate:`, its teacher), kept by the
    verifiers and reward models of `synth.filter:`, into ``synth-<task>/``; one more mix source."""

    model_config = ConfigDict(extra="forbid")
    seeds: str = Field(min_length=1, description="seed rows (JSONL/Parquet): problems, documents")
    task: Literal["math", "code", "knowledge"] | None = Field(
        None, description="math | code | knowledge; null: synth.generate.task"
    )

    _expand = field_validator("seeds", mode="after")(_expanded)


class PostRun(BaseModel):
    """Post-training at the end of `qurate run` (the `post:` section's settings): SFT rows
    from the run's synthetic samples (and ``inputs``), SFT, then DPO on pairs built from the
    verifier outcomes of each `run.synth` entry, into ``post/``."""

    model_config = ConfigDict(extra="forbid")
    model: str | None = Field(
        None,
        description="HF causal-LM directory to post-train; null: the run's trained model "
        "(train: section), exported to post/hf",
    )
    inputs: list[str] = Field(
        default_factory=list, description="chat files (messages) for SFT beside the synth output"
    )
    sft: bool = Field(True, description="supervised fine-tuning on the SFT rows")
    dpo: bool = Field(
        True, description="DPO on verified vs verifier-failed samples, per synth task"
    )

    _expand = field_validator("model", "inputs", mode="after")(_expanded)


class RunConfig(BaseModel):
    """What `qurate run pipeline.yaml` reads and where it writes."""

    model_config = ConfigDict(extra="forbid")
    inputs: list[str] = Field(
        default_factory=list,
        description="input files or folders (JSONL, Parquet, .txt/.md folders, WARC)",
    )
    out: str = Field(
        "qurate-out",
        min_length=1,  # "" was the current folder: stages and report.html landed among its files
        description="run directory; each stage writes a subdirectory",
    )
    benchmarks: list[str] = Field(
        default_factory=list, description="benchmark files to decontaminate against"
    )
    ingest: list[IngestSource] = Field(
        default_factory=list,
        description="dedicated math/code corpora, each ingested and mixed (one entry per domain)",
    )
    recall: list[RecallSource] = Field(
        default_factory=list,
        description="pools to recall math/code documents from, each mixed (one entry per domain)",
    )
    synth: list[SynthSource] = Field(
        default_factory=list,
        description="teacher generation, verified and filtered, each mixed (one entry per task)",
    )
    post: PostRun | None = Field(
        None,
        description="post-training after train with the post: section, null for none; "
        "{} runs it: keys model (null: the run's trained model), inputs (chat files), "
        "sft (true), dpo (true)",
    )
    ablate: bool = Field(
        False,
        description="after mix, the ablate: section's proxy ablation into ablation/ (its arms, "
        "or none named: the mix against the curated corpus; needs ablate.evals)",
    )

    @model_validator(mode="after")
    def _one_entry_each(self) -> RunConfig:
        """Each entry writes ``ingest-<domain>/`` or ``recall-<domain>/``: a second entry of
        the same domain would write into the first one's directory (synth's tasks are checked
        by ``qurate run``, where a null task is resolved)."""
        for key, names in (
            ("ingest", [e.domain for e in self.ingest]),
            ("recall", [e.domain for e in self.recall]),
        ):
            if twice := repeated(names):
                raise ValueError(
                    f"{key}: {', '.join(twice)} given twice; one entry each "
                    "(list every input of a domain under one entry)"
                )
        return self

    @field_validator("inputs", "out", "benchmarks", mode="after")
    @classmethod
    def _expand(cls, value: list[str] | str) -> list[str] | str:
        """Paths as a shell would expand them (``_expanded``)."""
        return _expanded(value)


_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def _expand_path(path: str) -> str:
    """``path`` with ``~`` and environment variables expanded; an unset variable is an error
    naming it (not a path that silently holds ``$NAME``). A NUL byte is refused here: no
    file can be named with one, and ``open`` raised a ``ValueError`` traceback after curate."""
    if "\0" in path:
        raise ValueError(f"{path!r}: a path cannot contain a NUL byte")
    missing = sorted({a or b for a, b in _VAR.findall(path) if (a or b) not in os.environ})
    if missing:
        raise ValueError(f"{path}: environment variable {', '.join(missing)} is not set")
    return os.path.expanduser(os.path.expandvars(path))


class PipelineConfig(BaseModel):
    """The whole pipeline. A new stage adds its section here (``post:`` and ``ablate:``
    come next), and to ``OPTIONAL_SECTIONS`` when the section is off unless given."""

    model_config = ConfigDict(extra="forbid")
    run: RunConfig = Field(default_factory=RunConfig, description="inputs and run directory")
    executor: ExecutorConfig = Field(
        default_factory=ExecutorConfig, description="where curation tasks run: local, Slurm, Ray"
    )
    curate: CurateConfig = Field(
        default_factory=CurateConfig, description="`qurate curate`: filters, dedup, decontamination"
    )
    score: ScoreConfig | None = Field(
        None,
        description="`qurate score`: LLM judge -> fastText raters -> every document; "
        "`qurate run` scores when this section is present",
    )
    augment: AugmentConfig = Field(
        default_factory=AugmentConfig,
        description="`qurate augment recall | ingest`: math and code (read by those commands, "
        "and by `qurate run` for `run.recall` / `run.ingest`)",
    )
    synth: SynthConfig = Field(
        default_factory=SynthConfig,
        description="`qurate synth generate | filter` (read by those commands, and by "
        "`qurate run` for `run.synth`)",
    )
    mix: MixConfig | None = Field(
        None,
        description="`qurate mix`: domain x quality mix to a token budget; "
        "`qurate run` mixes when this section is present",
    )
    train: TrainConfig | None = Field(
        None,
        description="`qurate train`: a Qwen2.5 on the mix; "
        "`qurate run` trains when this section is present",
    )
    ablate: AblateConfig = Field(
        default_factory=AblateConfig,
        description="proxy-model ablations (`qurate ablate`, `qurate eval`); `qurate run` runs "
        "it when run.ablate is true",
    )
    post: PostConfig = Field(
        default_factory=PostConfig,
        description="post-training data and TRL trainers (`qurate post ...` read this section)",
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """A section given with no keys (``score:`` uncommented alone) is that section's
        defaults, as every command's ``-c`` reads it: it was null, so `qurate run` skipped
        scoring (or mixing, training) without a word, exit 0."""
        if not isinstance(data, dict):
            return data
        return {k: {} if v is None and k in cls.model_fields else v for k, v in data.items()}


# Sections that are None by default: the model `qurate init` shows (commented out) for each.
# mix has one required key; the example value is marked as such.
MIX_EXAMPLE_BUDGET = 1_000_000_000
OPTIONAL_SECTIONS: dict[str, Callable[[], BaseModel]] = {
    "score": ScoreConfig,
    "mix": lambda: MixConfig(budget_tokens=MIX_EXAMPLE_BUDGET),
    "train": TrainConfig,
}


def parse_config(data: Any, source: str = "config") -> PipelineConfig:
    """Validate an already-loaded mapping (one-line errors naming the key)."""
    from qurate.contract.config import validate

    return validate(PipelineConfig, {} if data is None else data, source=source)


def load_config(path: str | Path | None) -> PipelineConfig:
    """Load and validate a pipeline YAML; no path gives the defaults."""
    return load_section(path, None, PipelineConfig)


def _yaml_value(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    text = text.removesuffix("\n...").removesuffix("...").strip()
    # one line per key: JSON is YAML, and it escapes what YAML would fold over lines ("\n\n")
    return json.dumps(value, ensure_ascii=False) if "\n" in text else text


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """``M`` for a ``list[M]`` or ``dict[str, M]`` field (its items' keys are worth showing)."""
    origin = typing.get_origin(annotation)
    if origin not in (list, dict):
        return None
    arg = typing.get_args(annotation)[-1]
    return arg if isinstance(arg, type) and issubclass(arg, BaseModel) else None


def _item_keys(model: type[BaseModel], pad: str) -> list[str]:
    lines = [f"{pad}#   each item's keys:"]
    for name, info in model.model_fields.items():
        default = info.get_default(call_default_factory=True)
        shown = (
            "<required>"
            if default is PydanticUndefined
            else _yaml_value(
                to_jsonable_python(
                    default.model_dump() if isinstance(default, BaseModel) else default
                )
            )
        )
        desc = f"  # {one_line(info.description)}" if info.description else ""
        lines.append(f"{pad}#     {name}: {shown}{desc}")
    return lines


def _render(model: BaseModel, indent: int) -> list[str]:
    lines: list[str] = []
    pad = "  " * indent
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        desc = f"  # {one_line(info.description)}" if info.description else ""
        if isinstance(value, BaseModel):
            doc = one_line(info.description or (type(value).__doc__ or "").strip().split("\n")[0])
            lines.append(f"{pad}{name}:{'  # ' + doc if doc else ''}")
            lines.extend(_render(value, indent + 1))
        elif indent == 0 and value is None and name in OPTIONAL_SECTIONS:
            lines.append(f"# {name}:{desc} (uncomment to use; the values are the defaults)")
            lines.extend(f"# {line}" for line in _render(OPTIONAL_SECTIONS[name](), 1))
        elif (
            isinstance(value, dict)
            and value
            and all(isinstance(v, BaseModel) for v in value.values())
        ):
            lines.append(f"{pad}{name}:{desc}")
            for key, sub in value.items():
                lines.append(f"{pad}  {key}:")
                lines.extend(_render(sub, indent + 2))
        else:
            lines.append(f"{pad}{name}: {_yaml_value(to_jsonable_python(value))}{desc}")
            if (item := _item_model(info.annotation)) is not None:
                lines.extend(_item_keys(item, pad))
    return lines


def render_default() -> str:
    """The default pipeline config as commented YAML (what `qurate init` writes)."""
    header = [
        "# qurate pipeline config. Every key is optional; the values below are the defaults.",
        "# Run: qurate run pipeline.yaml   (or one stage: qurate curate IN -o OUT -c pipeline.yaml)",
        f"# mix.budget_tokens has no default: {MIX_EXAMPLE_BUDGET} is an example.",
        "",
    ]
    return "\n".join(header + _render(PipelineConfig(), 0)) + "\n"
