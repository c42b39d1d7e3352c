"""The judge check: shuffled copies as a control, the AUC, and the weight it leaves the judge."""

from __future__ import annotations

from collections import Counter

import pytest

from qurate.score.check import check_judge, reliability, reliability_of, shuffle_words
from qurate.score.judge import Judgement

DOCS = [
    "The river floods every spring.\nFarmers plant rice after the water recedes.",
    "A compiler turns source code into machine code in several phases.",
    "Photosynthesis stores the energy of light in sugar molecules.",
    "黄河是中国第二长的河流，流经九个省区。\n它的泥沙含量很高。",
]


def test_shuffled_copy_keeps_words_lines_and_script():
    for i, doc in enumerate(DOCS):
        copy = shuffle_words(doc, seed=i)
        assert copy != doc and copy.count("\n") == doc.count("\n")
        for a, b in zip(doc.split("\n"), copy.split("\n"), strict=True):
            if " " in a:
                assert Counter(a.split()) == Counter(b.split())
            else:  # CJK: the same characters in another order
                assert Counter(a) == Counter(b)
        assert shuffle_words(doc, seed=i) == copy  # seeded


class FakeJudge:
    """Scores a text by a function of it: enough to exercise the check without a model."""

    def __init__(self, fn):
        self.fn = fn

    def judge(self, texts):
        return [Judgement(scores={"d": self.fn(t)}) for t in texts]

    def quality(self, scores):
        return scores["d"] / 5


def _check(fn):
    judge = FakeJudge(fn)
    q = [judge.quality(j.scores) for j in judge.judge(DOCS)]
    return check_judge(judge, DOCS, q)


def test_a_judge_that_reads_meaning_keeps_its_weight_and_a_blind_one_loses_it():
    # Prefers the real text (here: known documents), so the check separates every pair.
    good = _check(lambda t: 4.0 if t in DOCS else 1.0)
    assert good["n"] == 4 and good["auc"] == 1.0 and good["reliability"] == 1.0
    # Inverted: ranks the shuffled copies higher (what the tiny default judge does on junk).
    inverted = _check(lambda t: 1.0 if t in DOCS else 4.0)
    assert inverted["auc"] == 0.0 and inverted["reliability"] == 0.0
    # Blind: the same score whatever the text.
    blind = _check(lambda t: 2.0)
    assert blind["auc"] == 0.5 and blind["reliability"] == 0.0


def test_reliability_is_linear_between_chance_and_full():
    assert reliability(0.5) == 0.0 and reliability(0.9) == 1.0 and reliability(1.0) == 1.0
    assert reliability(0.7) == pytest.approx(0.5)
    assert reliability(float("nan")) == 1.0 and reliability_of(None) == 1.0
    assert reliability_of({"reliability": 0.25}) == 0.25
