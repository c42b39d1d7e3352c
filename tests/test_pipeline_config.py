"""The pipeline config: defaults round-trip through `qurate init`; bad keys are named."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from qurate.config import PipelineConfig, load_config, render_default
from qurate.errors import ConfigError


def test_init_output_is_commented_and_loads_back_to_the_defaults(tmp_path: Path):
    text = render_default()
    assert "# " in text and "curate:" in text and "executor:" in text
    p = tmp_path / "pipeline.yaml"
    p.write_text(text)
    assert load_config(p) == PipelineConfig()


def test_errors_name_the_offending_key(tmp_path: Path):
    p = tmp_path / "c.yaml"
    p.write_text("curate:\n  dedup:\n    bands: -3\n")
    with pytest.raises(
        ConfigError, match=r"c.yaml: curate.dedup.bands: .*greater than or equal to 1"
    ):
        load_config(p)
    p.write_text("curate:\n  filtres: {}\n")
    with pytest.raises(ConfigError, match=r"curate.filtres: unknown key"):
        load_config(p)
    p.write_text("executor:\n  kind: kubernetes\n")
    with pytest.raises(ConfigError, match=r"executor.kind: .*'local', 'slurm' or 'ray'"):
        load_config(p)
    p.write_text("curate: [1, 2\n")
    with pytest.raises(ConfigError, match=r"c.yaml:\d+: not valid YAML"):
        load_config(p)
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.yaml")


def test_yaml_is_safe_loaded(tmp_path: Path):
    p = tmp_path / "evil.yaml"
    p.write_text("curate: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(p)


def test_a_partial_config_keeps_other_defaults(tmp_path: Path):
    p = tmp_path / "c.yaml"
    p.write_text(
        yaml.safe_dump(
            {"executor": {"kind": "ray", "workers": 8}, "curate": {"text_key": "content"}}
        )
    )
    cfg = load_config(p)
    assert cfg.executor.kind == "ray" and cfg.executor.workers == 8
    assert cfg.curate.text_key == "content"
    assert cfg.curate.dedup == PipelineConfig().curate.dedup


def _uncomment_sections(text: str) -> str:
    """Uncomment every section `qurate init` prints commented out (`# score:` and its keys)."""
    out, inside = [], False
    for line in text.splitlines():
        if re.match(r"^# [a-z_]+:", line):
            inside = True
            out.append(line[2:].split("  #")[0])
        elif inside and line.startswith("#   "):
            out.append(line[2:])
        else:
            inside = False
            out.append(line)
    return "\n".join(out) + "\n"


def test_init_prints_every_section_and_key_with_its_description():
    text = render_default()
    for section in ("run", "executor", "curate", "score", "augment", "synth", "mix", "train"):
        assert re.search(rf"^(# )?{section}:", text, re.M), section
    # keys from deep inside sections that used to print as `null` or not at all
    for key in ("base_url:", "keep_threshold:", "neg_per_pos:", "min_votes:", "teacher:",
                "shuffle_bucket_mb:", "micro_batch_size:", "timeout_s:"):  # fmt: skip
        assert key in text, key
    # list/dict-of-model fields show their items' keys
    assert "max_tokens: <required>" in text and "long_fraction: 0.4" in text


def test_uncommented_sections_load_back_to_their_defaults(tmp_path: Path):
    from qurate.config import MIX_EXAMPLE_BUDGET
    from qurate.mixers.config import MixConfig
    from qurate.score.config import ScoreConfig
    from qurate.train.config import TrainConfig

    p = tmp_path / "all.yaml"
    p.write_text(_uncomment_sections(render_default()))
    cfg = load_config(p)
    assert cfg.score == ScoreConfig()
    assert cfg.mix == MixConfig(budget_tokens=MIX_EXAMPLE_BUDGET)
    assert cfg.train == TrainConfig()
    assert cfg.model_copy(update={"score": None, "mix": None, "train": None}) == PipelineConfig()


def _models(model, seen):
    if model in seen:
        return
    seen.add(model)
    for info in model.model_fields.values():
        stack = [info.annotation]
        while stack:
            a = stack.pop()
            if isinstance(a, type) and issubclass(a, BaseModel):
                _models(a, seen)
            stack.extend(typing.get_args(a))


def test_every_config_field_has_a_description():
    from qurate.config import OPTIONAL_SECTIONS

    seen: set = set()
    _models(PipelineConfig, seen)
    for make in OPTIONAL_SECTIONS.values():
        _models(type(make()), seen)
    missing = [
        f"{m.__module__}.{m.__name__}.{name}"
        for m in seen
        for name, info in m.model_fields.items()
        if not info.description
    ]
    assert not missing, missing
