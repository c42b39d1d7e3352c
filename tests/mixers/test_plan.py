"""The planner: water-filling within caps, targets from weights/multipliers, plan errors."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from qurate.errors import ConfigError
from qurate.mixers import parse_mix_config, plan_mix
from qurate.mixers.plan import plan_from_counts, water_fill


def counts(supply: dict[str, list[int]]) -> pa.Table:
    """Supply rows: domain -> eligible tokens per bucket (all eligible, 1 doc per 100 tokens)."""
    rows = [
        {
            "domain": d,
            "bucket": b,
            "docs": t // 100,
            "tokens": t,
            "eligible_docs": t // 100,
            "eligible_tokens": t,
        }
        for d, per in supply.items()
        for b, t in enumerate(per)
    ]
    return pa.Table.from_pylist(rows)


def cfg(**kw):
    kw.setdefault("quality_buckets", [0.5])
    return parse_mix_config(kw)


def test_water_fill_redistributes_capped_excess() -> None:
    t = water_fill(100, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, {"a": 10, "b": 1000, "c": 1000})
    assert t["a"] == pytest.approx(10)
    assert t["b"] == pytest.approx(45) and t["c"] == pytest.approx(45)


def test_unimax_uniform_weights_with_epoch_cap() -> None:
    # UniMax: uniform budget; the small language is capped at max_epochs x supply.
    plan = plan_from_counts(
        cfg(budget_tokens=9000, default={"weight": 1}, max_epochs=2),
        counts({"big": [5000, 5000], "mid": [2000, 2000], "tiny": [500, 500]}),
        [0.5],
    )
    tiny, mid, big = (plan.domains[d] for d in ("tiny", "mid", "big"))
    assert tiny.capped and tiny.target_tokens == pytest.approx(2000)
    assert mid.target_tokens == pytest.approx(3500) and big.target_tokens == pytest.approx(3500)
    assert sum(d.target_tokens for d in plan.domains.values()) == pytest.approx(9000)
    rates = {(b.domain, b.bucket): b.rate for b in plan.buckets}
    assert rates[("tiny", 0)] == pytest.approx(2.0)


def test_multipliers_scale_the_natural_distribution() -> None:
    plan = plan_from_counts(
        cfg(budget_tokens=1000, domains={"shop": {"multiplier": 0.5}, "sci": {"multiplier": 2}}),
        counts({"shop": [600, 0], "sci": [200, 0], "news": [200, 0]}),
        [0.5],
    )
    # raw: shop .3, sci .4, news .2 -> shares 1/3, 4/9, 2/9
    assert plan.domains["shop"].target_tokens == pytest.approx(1000 / 3)
    assert plan.domains["sci"].target_tokens == pytest.approx(4000 / 9)


def test_temperature_flattens_natural_shares() -> None:
    supply = counts({"a": [900, 0], "b": [100, 0]})
    flat = plan_from_counts(cfg(budget_tokens=1000, temperature=1e6, max_epochs=10), supply, [0.5])
    assert flat.domains["b"].target_tokens == pytest.approx(500, rel=1e-3)


def test_bucket_rates_upsample_top_bucket() -> None:
    plan = plan_from_counts(
        cfg(budget_tokens=3000, domains={"a": {"bucket_rates": [1, 2]}}, max_epochs=10),
        counts({"a": [1000, 1000]}),
        [0.5],
    )
    low, high = plan.buckets
    assert high.rate == pytest.approx(2 * low.rate)
    assert low.planned_tokens + high.planned_tokens == pytest.approx(3000)


def test_max_epochs_applies_to_the_top_bucket_rate() -> None:
    plan = plan_from_counts(
        cfg(
            budget_tokens=10_000,
            domains={"a": {"bucket_rates": [1, 4], "max_epochs": 2, "multiplier": 100}},
            default={"multiplier": 1},
        ),
        counts({"a": [1000, 1000], "b": [100_000, 0]}),
        [0.5],
    )
    top = max(b.rate for b in plan.buckets if b.domain == "a")
    assert top == pytest.approx(2.0) and plan.domains["a"].capped


def test_infeasible_budget_names_short_domains() -> None:
    with pytest.raises(ConfigError) as e:
        plan_from_counts(
            cfg(budget_tokens=10_000, max_epochs=2, domains={"b": {"max_epochs": 10}}),
            counts({"a": [1000, 1000], "b": [100, 0]}),
            [0.5],
        )
    msg = str(e.value)
    assert "exceeds the capped supply" in msg and "a (supply" in msg and "\n" not in msg


def test_unknown_domain_lists_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown domain\(s\) scince; the inputs have: a, b"):
        plan_from_counts(
            cfg(budget_tokens=10, domains={"scince": {"multiplier": 2}}),
            counts({"a": [10, 0], "b": [10, 0]}),
            [0.5],
        )


def test_weights_must_sum_to_positive() -> None:
    with pytest.raises(ConfigError, match="sum to 0"):
        plan_from_counts(
            cfg(budget_tokens=10, default={"weight": 0}), counts({"a": [10, 0]}), [0.5]
        )


def test_weights_and_multipliers_do_not_mix() -> None:
    with pytest.raises(ConfigError, match="use one kind"):
        plan_from_counts(
            cfg(budget_tokens=10, domains={"a": {"weight": 1}}),
            counts({"a": [10, 0], "b": [10, 0]}),
            [0.5],
        )


def test_plan_from_shards_with_min_quality(corpus: tuple[Path, Path]) -> None:
    real, syn = corpus
    plan = plan_mix(
        [real, syn],
        cfg(budget_tokens=100_000, quality_buckets=4, domains={"science": {"min_quality": 0.5}}),
    )
    sci = plan.domains["science"]
    assert 0.4 * sci.available_tokens < sci.eligible_tokens < 0.6 * sci.available_tokens
    assert plan.domains["math"].eligible_tokens == plan.domains["math"].available_tokens
    assert len(plan.edges) == 3  # quartiles
    assert sum(d.target_tokens for d in plan.domains.values()) == pytest.approx(100_000)
