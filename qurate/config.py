"""The pipeline config: one YAML file, typed and validated, every default in a model.

Each stage's section model lives beside its code (``qurate/curate/config.py``, ...) and is
composed here. YAML is read with ``yaml.safe_load``; a bad value becomes a ``ConfigError``
that names the key path (``curate.filters.langid.min_score: ...``). ``render_default``
writes the commented default config that ``qurate init`` prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import to_jsonable_python

from qurate.contract.executors import ExecutorConfig
from qurate.curate.config import CurateConfig
from qurate.errors import ConfigError
from qurate.mixers.config import MixConfig
from qurate.post.config import PostConfig
from qurate.score.config import ScoreConfig
from qurate.train.config import TrainConfig


class RunConfig(BaseModel):
    """What `qurate run pipeline.yaml` reads and where it writes."""

    model_config = ConfigDict(extra="forbid")
    inputs: list[str] = Field(
        default_factory=list,
        description="input files or folders (JSONL, Parquet, .txt/.md folders, WARC)",
    )
    out: str = Field("qurate-out", description="run directory; each stage writes a subdirectory")
    benchmarks: list[str] = Field(
        default_factory=list, description="benchmark files to decontaminate against"
    )


class PipelineConfig(BaseModel):
    """The whole pipeline."""

    model_config = ConfigDict(extra="forbid")
    run: RunConfig = Field(default_factory=RunConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    curate: CurateConfig = Field(default_factory=CurateConfig)
    score: ScoreConfig | None = Field(
        None,
        description="LLM judge -> fastText raters -> every document; set a section to run it (see `qurate score --help`)",
    )
    mix: MixConfig | None = Field(
        None,
        description="domain x quality mix to a token budget; set a section to run it (MIX.yaml keys, see README)",
    )
    train: TrainConfig | None = Field(
        None,
        description="train a Qwen2.5 on the mix; set a section to run it (see `qurate train --help`)",
    )
    post: PostConfig = Field(
        default_factory=PostConfig,
        description="post-training data and TRL trainers (`qurate post ...` read this section)",
    )


def _format_error(source: str, err: ValidationError) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{source}: {key}: {msg}{more}"


def parse_config(data: Any, source: str = "config") -> PipelineConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of sections, got {type(data).__name__}")
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format_error(source, e)) from None


def load_config(path: str | Path | None) -> PipelineConfig:
    """Load and validate a pipeline YAML; no path gives the defaults."""
    if path is None:
        return PipelineConfig()
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such config file")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{p}{where}: not valid YAML ({getattr(e, 'problem', e)})") from None
    return parse_config(data, str(p))


def _yaml_value(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _render(model: BaseModel, indent: int) -> list[str]:
    lines: list[str] = []
    pad = "  " * indent
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        desc = f"  # {info.description}" if info.description else ""
        if isinstance(value, BaseModel):
            doc = (type(value).__doc__ or "").strip().splitlines()
            lines.append(f"{pad}{name}:{'  # ' + doc[0] if doc else desc}")
            lines.extend(_render(value, indent + 1))
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
    return lines


def render_default() -> str:
    """The default pipeline config as commented YAML (what `qurate init` writes)."""
    header = [
        "# qurate pipeline config. Every key is optional; the values below are the defaults.",
        "# Run: qurate run pipeline.yaml   (or one stage: qurate curate IN -o OUT -c pipeline.yaml)",
        "",
    ]
    return "\n".join(header + _render(PipelineConfig(), 0)) + "\n"
