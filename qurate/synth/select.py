"""Selection of synthetic samples: combined reward, threshold, best-of-n / top-k per prompt.

The combined reward follows Qwen2.5-Math: ``r = sigmoid(0.5 * r_m) + (r_v - 1)``, where
``r_m`` is the reward model's raw score and ``r_v`` is 1 when the verifier passed the sample
and 0 when it failed, so a failed sample always ranks below every passed one. Without a
verifier verdict the combined reward is ``sigmoid(0.5 * r_m)``; an LLM judge's score is
already in [0, 1] and takes the place of the sigmoid; with no reward at all it is ``r_v``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable

from qurate.synth.reward import sigmoid

ALPHA = 0.5


def combined_reward(
    rm_score: float | None, verified: bool | None, judge_score: float | None = None
) -> float | None:
    r: float | None = sigmoid(ALPHA * rm_score) if rm_score is not None else judge_score
    if verified is None:
        return r
    rv = 1.0 if verified else 0.0
    return rv if r is None else r + (rv - 1.0)


def select(
    groups: list[Hashable],
    scores: list[float | None],
    min_reward: float | None = None,
    top_k: int | None = None,
) -> list[str | None]:
    """For each sample, None when selected, else the reject reason (``low_reward``, ``not_top_k``).

    ``groups[i]`` is the sample's prompt group. A sample without a score passes a threshold
    only when there is none, and ranks last in its group. Ties keep input order.
    """
    out: list[str | None] = [None] * len(scores)
    if min_reward is not None:
        for i, s in enumerate(scores):
            if s is None or s < min_reward:
                out[i] = "low_reward"
    if top_k is not None:
        by_group: dict[Hashable, list[int]] = defaultdict(list)
        for i, g in enumerate(groups):
            if out[i] is None:
                by_group[g].append(i)
        for members in by_group.values():
            ranked = sorted(members, key=lambda i: (scores[i] is None, -(scores[i] or 0.0), i))
            for i in ranked[top_k:]:
                out[i] = "not_top_k"
    return out
