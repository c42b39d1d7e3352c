"""Selection: the Qwen2.5-Math combined reward, thresholds and best-of-n / top-k."""

from __future__ import annotations

import math

import pytest

from qurate.synth.select import combined_reward, select


def test_combined_reward_formula():
    s = 1 / (1 + math.exp(-0.5 * 2.0))
    assert combined_reward(2.0, True) == pytest.approx(s)
    assert combined_reward(2.0, False) == pytest.approx(s - 1.0)
    assert combined_reward(2.0, None) == pytest.approx(s)
    assert combined_reward(None, True) == 1.0 and combined_reward(None, False) == 0.0
    assert combined_reward(None, None) is None
    assert combined_reward(None, True, judge_score=0.25) == 0.25
    # any verified sample outranks any failed one, whatever the reward model says
    assert combined_reward(-50.0, True) > combined_reward(50.0, False)


def test_threshold_and_top_k_per_prompt():
    groups = ["a", "a", "a", "b", "b", "c"]
    scores = [0.9, 0.2, 0.7, 0.4, None, 0.8]
    assert select(groups, scores, top_k=1) == [
        None,
        "not_top_k",
        "not_top_k",
        None,
        "not_top_k",
        None,
    ]
    assert select(groups, scores, top_k=2) == [None, "not_top_k", None, None, None, None]
    assert select(groups, scores, min_reward=0.5) == [
        None,
        "low_reward",
        None,
        "low_reward",
        "low_reward",
        None,
    ]
    assert select(groups, scores, min_reward=0.5, top_k=1) == [
        None,
        "low_reward",
        "not_top_k",
        "low_reward",
        "low_reward",
        None,
    ]
    assert select(groups, scores) == [None] * 6
