"""The pipeline config: defaults round-trip through `qurate init`; bad keys are named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

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
