"""Math verifier: the final ``\\boxed{...}`` answer, checked against a reference or by vote.

The answer is the content of the *last* ``\\boxed{}`` (or ``\\fbox{}``) of the response, read
with brace matching so nested LaTeX (``\\boxed{\\frac{1}{2}}``) survives. Equivalence is
symbolic, from the maintained ``math-verify`` library (Hugging Face; LaTeX -> sympy, then
numeric and symbolic comparison), so ``\\frac{1}{2}``, ``0.5`` and ``\\dfrac12`` agree and
``x = 5`` matches ``5``.

- With a ``reference`` (gold answer): a sample passes when its answer is equivalent. A
  reference that does not parse as math is the *sample's* problem, reported as
  ``unparseable_reference`` rather than guessed at.
- Without one: majority vote across the n samples of one prompt (the Qwen2.5-Math recipe).
  Answers are grouped by equivalence; the largest group wins when it has at least
  ``min_votes`` members and no other group is as large. Samples in it pass, the others fail;
  with no clear winner nothing is verified (``unverifiable``).

math-verify bounds parsing and comparison with ``signal.alarm`` timeouts, which only work in
the main thread; elsewhere the checks run without them.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")


def extract_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}`` in ``text`` (balanced braces), or None."""
    last = None
    for m in _BOXED.finditer(text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth == 0:
            last = text[m.end() : i - 1].strip()
    return last or None


def _off_main_thread() -> bool:
    return threading.current_thread() is not threading.main_thread()


def parse_answer(answer: str) -> list[Any]:
    """math-verify's parse of one answer ([] when it is not math)."""
    from math_verify import parse

    kw: dict[str, Any] = {"parsing_timeout": None} if _off_main_thread() else {}
    text = answer.strip()
    if not text:
        return []
    if not text.startswith("$"):
        text = f"${text}$"
    try:
        return parse(text, fallback_mode="no_fallback", **kw)
    except Exception:  # noqa: BLE001 - the library raises many types on odd LaTeX
        return []


def equivalent(gold: list[Any], pred: list[Any]) -> bool:
    from math_verify import verify

    kw: dict[str, Any] = {"timeout_seconds": None} if _off_main_thread() else {}
    if not gold or not pred:
        return False
    try:
        return bool(verify(gold, pred, **kw))
    except Exception:  # noqa: BLE001
        return False


@dataclass(frozen=True)
class MathVerdict:
    """``verified``: True / False, or None when it could not be decided; ``reason`` is the
    reject reason when not verified."""

    verified: bool | None
    answer: str | None
    reason: str | None = None
    detail: str | None = None


def reference_parses(reference: object) -> bool:
    """Whether a gold ``reference`` is math a response can be checked against. One test for
    every user of references (``eval`` leaves such a row out and counts it, GRPO leaves the
    prompt out and counts it): an unparseable reference is never scored as a wrong answer."""
    return isinstance(reference, str) and bool(parse_answer(reference))


def verify_against_reference(response: str, reference: str) -> MathVerdict:
    gold = parse_answer(reference)
    answer = extract_boxed(response)
    if not gold:
        return MathVerdict(None, answer, "unparseable_reference", f"reference {reference!r}")
    if answer is None:
        return MathVerdict(False, None, "no_final_answer", "no \\boxed{} answer")
    if equivalent(gold, parse_answer(answer)):
        return MathVerdict(True, answer)
    return MathVerdict(False, answer, "verify_failed", f"answer {answer!r} != reference")


def majority_vote(responses: list[str], min_votes: int = 2) -> list[MathVerdict]:
    """Verdicts for the n samples of one prompt, by equivalence-grouped majority."""
    answers = [extract_boxed(r) for r in responses]
    parsed = [parse_answer(a) if a else [] for a in answers]
    groups: list[list[int]] = []  # indices of samples with equivalent answers
    for i, p in enumerate(parsed):
        if not p:
            continue
        for g in groups:
            if equivalent(parsed[g[0]], p):
                g.append(i)
                break
        else:
            groups.append([i])
    groups.sort(key=len, reverse=True)
    winner: set[int] = set()
    if (
        groups
        and len(groups[0]) >= min_votes
        and (len(groups) == 1 or len(groups[1]) < len(groups[0]))
    ):
        winner = set(groups[0])
    out = []
    for i, a in enumerate(answers):
        if a is None:
            out.append(MathVerdict(False, None, "no_final_answer", "no \\boxed{} answer"))
        elif not parsed[i]:
            out.append(MathVerdict(False, a, "verify_failed", f"answer {a!r} is not math"))
        elif not winner:
            top = len(groups[0]) if groups else 0
            out.append(
                MathVerdict(
                    None,
                    a,
                    "unverifiable",
                    f"no reference and no majority ({top} of {len(responses)} agree, need {min_votes})",
                )
            )
        elif i in winner:
            out.append(MathVerdict(True, a))
        else:
            maj = answers[min(winner)]
            out.append(MathVerdict(False, a, "verify_failed", f"answer {a!r} != majority {maj!r}"))
    return out
