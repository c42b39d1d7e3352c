"""Second sweep on configs: non-finite numbers, and what a bad value reaches."""

from __future__ import annotations

from pathlib import Path

import pytest

from qurate.config import load_config
from qurate.errors import ConfigError
from qurate.mixers.config import load_mix_config


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_a_non_finite_threshold_is_refused_naming_its_key(tmp_path: Path, value: str):
    # Before: `.nan` passed validation; every comparison with it is False, so the C4
    # boilerplate filter silently kept everything (and `.inf` disabled it as well).
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(
        f"curate:\n  filters:\n    heuristics:\n      c4:\n        max_boilerplate_lines_ratio: {value}\n"
    )
    with pytest.raises(ConfigError, match=r"c4\.max_boilerplate_lines_ratio: .* not a finite"):
        load_config(cfg)


def test_a_nan_bucket_edge_never_reaches_duckdb(tmp_path: Path):
    # Before: "mix: DuckDB failed: Binder Error: Referenced column "nan" not found".
    cfg = tmp_path / "MIX.yaml"
    cfg.write_text("budget_tokens: 1000\nquality_buckets: [0.2, .nan]\n")
    with pytest.raises(ConfigError, match=r"quality_buckets\.1: nan is not a finite number"):
        load_mix_config(cfg)


def test_finite_numbers_still_load(tmp_path: Path):
    cfg = tmp_path / "MIX.yaml"
    cfg.write_text("budget_tokens: 1000\nquality_buckets: [0.2, 0.7]\nseed: 3\n")
    assert load_mix_config(cfg).quality_buckets == [0.2, 0.7]
