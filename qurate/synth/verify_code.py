"""Code verifier: the response's code against the sample's tests, in the sandbox.

The code under test is the response's first fenced block (any language tag), or the whole
response when it has none; the tests are the sample's ``tests`` (asserts or ``test_*``
functions, run in the solution's namespace). Runs go through
:func:`qurate.synth.sandbox.run_many`, ``workers`` at a time. A sample without tests cannot
be verified (``no_tests``), nor can one whose tests do not parse or check nothing (no
``assert``, ``raise``, ``assert*(...)``, ``fail(...)`` or ``exit(...)`` anywhere): any response would pass those.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qurate.synth.sandbox import SandboxLimits, run_many
from qurate.synth.tasks import extract_code


@dataclass(frozen=True)
class CodeVerdict:
    verified: bool | None
    reason: str | None = None
    detail: str | None = None
    seconds: float = 0.0


def _checks_nothing(tests: str) -> str | None:
    """Why ``tests`` cannot tell a right response from a wrong one, or None when they can."""
    try:
        tree = ast.parse(tests)
    except (SyntaxError, ValueError) as e:  # ValueError: a NUL byte in the source
        return f"the tests do not parse ({type(e).__name__}: {str(e).splitlines()[0]})"
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assert, ast.Raise)):
            return None
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            # assertEqual, assert_allclose, self.fail(), sys.exit(1) on a wrong answer
            if name.startswith(("assert", "fail", "exit")):
                return None
    return "the tests check nothing (no assert, raise or assert call): any response passes"


def verify_code(
    samples: list[dict[str, Any]],
    limits: SandboxLimits,
    on_done: Callable[[int], None] | None = None,
) -> list[CodeVerdict]:
    """A verdict per sample; ``on_done(n)`` as n samples are settled (a progress bar)."""
    out: list[CodeVerdict | None] = [None] * len(samples)
    jobs, where = [], []
    for i, s in enumerate(samples):
        tests = s.get("tests")
        if not isinstance(tests, str) or not tests.strip():
            out[i] = CodeVerdict(None, "no_tests", "the sample has no tests to run")
            continue
        why = _checks_nothing(tests)
        if why is not None:
            out[i] = CodeVerdict(None, "no_tests", why)
            continue
        jobs.append((extract_code(s.get("response") or ""), tests))
        where.append(i)
    if on_done is not None:
        on_done(len(samples) - len(jobs))  # settled without a run: no tests
    ran = run_many(jobs, limits, None if on_done is None else lambda: on_done(1))
    for i, r in zip(where, ran, strict=True):
        if r.passed:
            out[i] = CodeVerdict(True, seconds=r.seconds)
        else:
            out[i] = CodeVerdict(
                False, "verify_failed", f"tests {r.status}: {r.detail}"[:500], r.seconds
            )
    return [v for v in out if v is not None]
