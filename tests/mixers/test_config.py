"""MIX.yaml loading: safe YAML, errors that name the key, defaults in the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from qurate.errors import ConfigError
from qurate.mixers import DEMO_MIX_YAML, load_mix_config, parse_mix_config


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "MIX.yaml"
    p.write_text(text)
    return p


def test_loads_and_merges_default(tmp_path: Path) -> None:
    cfg = load_mix_config(
        write(
            tmp_path,
            "budget_tokens: 1000\ndefault: {multiplier: 1, max_epochs: 2}\n"
            "domains: {science: {multiplier: 2}, shop: {weight: 1}}\n",
        )
    )
    assert cfg.budget_tokens == 1000
    assert cfg.spec_for("science").multiplier == 2
    assert cfg.spec_for("science").max_epochs == 2  # inherited from default
    assert cfg.spec_for("shop").weight == 1 and cfg.spec_for("shop").multiplier is None
    assert cfg.spec_for("unlisted").multiplier == 1


def test_demo_yaml_is_valid() -> None:
    import yaml

    data = yaml.safe_load(DEMO_MIX_YAML)
    cfg = parse_mix_config(data)
    assert cfg.long_context[0].long_fraction == 0.4
    assert cfg.spec_for("ecommerce").multiplier < 1 < cfg.spec_for("science").multiplier


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("budget_tokens: 10\nbudget: 3\n", "budget"),
        ("budget_tokens: -5\n", "budget_tokens"),
        ("budget_tokens: 10\ndomains: {a: {weight: 1, multiplier: 2}}\n", "domains.a"),
        ("budget_tokens: 10\ndomains: {a: {wieght: 1}}\n", "domains.a.wieght"),
        (
            "budget_tokens: 10\nquality_buckets: 3\ndomains: {a: {bucket_rates: [1, 2]}}\n",
            "bucket_rates",
        ),
        ("budget_tokens: 10\nquality_buckets: [0.5, 0.2]\n", "quality_buckets"),
        (
            "budget_tokens: 10\nlong_context: [{name: a, max_tokens: 0}]\n",
            "long_context.0.max_tokens",
        ),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_mix_config(write(tmp_path, text))
    msg = str(e.value)
    assert key in msg and "\n" not in msg


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_mix_config(write(tmp_path, "budget_tokens: !!python/object/apply:os.getcwd []\n"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such mix config"):
        load_mix_config(tmp_path / "nope.yaml")
