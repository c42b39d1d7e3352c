"""Math answers: boxed extraction, symbolic equivalence, reference and majority vote."""

from __future__ import annotations

import pytest

from qurate.synth.verify_math import (
    equivalent,
    extract_boxed,
    majority_vote,
    parse_answer,
    verify_against_reference,
)


def test_extract_last_boxed_with_nested_braces():
    text = r"First \boxed{1}. Correction: the answer is \boxed{\frac{\sqrt{2}}{2}}."
    assert extract_boxed(text) == r"\frac{\sqrt{2}}{2}"
    assert extract_boxed(r"\fbox{7}") == "7"
    assert extract_boxed("no answer here") is None
    assert extract_boxed(r"\boxed{unclosed") is None


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (r"\frac{1}{2}", "0.5", True),
        (r"\dfrac12", "1/2", True),
        (r"\frac{\sqrt{8}}{2}", r"\sqrt{2}", True),
        ("x = 5", "5", True),
        ("12,000", "12000", True),
        (r"2\sqrt{3}", r"\sqrt{12}", True),
        ("0.5", "0.6", False),
        (r"\sqrt{2}", "1.41", False),
    ],
)
def test_symbolic_equivalence(a, b, same):
    assert equivalent(parse_answer(a), parse_answer(b)) is same


def test_reference_check():
    assert verify_against_reference(r"so \boxed{0.5}", r"\frac{1}{2}").verified is True
    wrong = verify_against_reference(r"so \boxed{3}", "4")
    assert wrong.verified is False and wrong.reason == "verify_failed"
    none = verify_against_reference("it is four", "4")
    assert none.verified is False and none.reason == "no_final_answer"


@pytest.mark.parametrize("ref", ["}{", "", r"\frac{"])
def test_unparseable_reference_is_reported_not_guessed(ref):
    v = verify_against_reference(r"\boxed{4}", ref)
    assert v.verified is None and v.reason == "unparseable_reference"


def test_majority_vote_groups_equivalent_answers():
    votes = majority_vote([r"\boxed{2}", r"\boxed{4/2}", r"\boxed{3}", "no box", r"\boxed{2.0}"])
    assert [v.verified for v in votes] == [True, True, False, False, True]
    assert votes[2].reason == "verify_failed" and votes[3].reason == "no_final_answer"


def test_no_majority_is_unverifiable():
    votes = majority_vote([r"\boxed{1}", r"\boxed{2}", r"\boxed{1}", r"\boxed{2}"])
    assert all(v.verified is None and v.reason == "unverifiable" for v in votes)
    single = majority_vote([r"\boxed{1}"], min_votes=2)
    assert single[0].reason == "unverifiable"
    assert majority_vote([r"\boxed{1}"], min_votes=1)[0].verified is True
