"""The one config loader: sections, flag overrides where None means "not given", one-line errors."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from qurate.contract.config import load_section, load_yaml
from qurate.errors import ConfigError


class Engine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["transformers", "openai"] = "transformers"
    model: str = "default"
    base_url: str | None = None


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")
    engine: Engine = Field(default_factory=Engine)
    sample: int = Field(500, ge=1)


def _write(tmp_path, text: str):
    p = tmp_path / "cfg.yaml"
    p.write_text(text)
    return p


def test_file_wins_unless_a_flag_is_given(tmp_path):
    p = _write(tmp_path, "score:\n  engine: {kind: openai, base_url: http://x/v1, model: m}\n")
    cfg = load_section(p, "score", Section, {"engine.kind": None, "engine.model": None})
    assert (cfg.engine.kind, cfg.engine.model, cfg.engine.base_url) == (
        "openai",
        "m",
        "http://x/v1",
    )
    cfg = load_section(p, "score", Section, {"engine.model": "other", "sample": 3})
    assert (cfg.engine.kind, cfg.engine.model, cfg.sample) == ("openai", "other", 3)


def test_no_file_gives_defaults_plus_flags():
    cfg = load_section(None, "score", Section, {"sample": 7})
    assert cfg == Section(sample=7)


def test_pipeline_file_without_the_section_gives_defaults(tmp_path):
    p = _write(tmp_path, "curate: {}\nexecutor: {kind: local}\n")
    assert load_section(p, "score", Section) == Section()


def test_stage_file_without_sections_is_the_section(tmp_path):
    p = _write(tmp_path, "sample: 9\n")
    assert load_section(p, "score", Section).sample == 9


def test_null_section_and_null_subsection(tmp_path):
    p = _write(tmp_path, "score:\n  engine:\n")
    cfg = load_section(p, "score", Section, {"engine.kind": "openai"})
    assert cfg.engine.kind == "openai"
    assert load_section(_write(tmp_path, "score:\n"), "score", Section) == Section()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "score: {sample: 0}\n",
            "cfg.yaml: score.sample: Input should be greater than or equal to 1",
        ),
        ("score: {engine: {kind: vllm2}}\n", "cfg.yaml: score.engine.kind: Input should be"),
        (
            "score: {engine: {kindd: openai}}\n",
            "score.engine.kindd: unknown key (valid: base_url, kind, model)",
        ),
        ("score: {bogus: 1}\n", "score.bogus: unknown key (valid: engine, sample)"),
        (
            "score: {bogus: 1, sample: 0}\n",
            "score.sample: Input should be greater than or equal to 1 (and 1 more)",
        ),
        ("score: [1, 2]\n", "cfg.yaml: score: expected a mapping of keys, got a list"),
        ("- 1\n- 2\n", "cfg.yaml: expected a mapping of keys, got a list"),
        ("score: {sample: [\n", "cfg.yaml:2: not valid YAML"),
    ],
)
def test_errors_are_one_line_and_name_the_key(tmp_path, text, expected):
    with pytest.raises(ConfigError) as e:
        load_section(_write(tmp_path, text), "score", Section)
    msg = str(e.value)
    assert expected in msg and "\n" not in msg


def test_missing_file_and_unsafe_yaml(tmp_path):
    with pytest.raises(ConfigError, match="no such config file$"):  # the whole reason
        load_section(tmp_path / "nope.yaml", "score", Section)
    p = _write(tmp_path, "score: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(p)


def test_bad_flag_value_is_a_one_line_error():
    with pytest.raises(ConfigError, match=r"flags: score.sample: Input should be a valid integer"):
        load_section(None, "score", Section, {"sample": "many"})


def test_dotted_sections_walk_into_a_pipeline_file(tmp_path):
    p = _write(tmp_path, "synth:\n  generate: {sample: 4}\n  filter: {}\n")
    assert load_section(p, "synth.generate", Section).sample == 4
    assert load_section(p, "synth.filter", Section) == Section()
    assert load_section(p, "synth.other", Section) == Section()
    with pytest.raises(ConfigError, match=r"synth.generate.sample: Input should be greater"):
        load_section(
            _write(tmp_path, "synth: {generate: {sample: 0}}\n"), "synth.generate", Section
        )


def test_executor_beside_a_stage_file_is_not_the_whole_file(tmp_path):
    p = _write(tmp_path, "sample: 3\n")
    assert load_section(p, "executor", Section, whole_file=False) == Section()
