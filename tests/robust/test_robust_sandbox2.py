"""Second sweep on the code sandbox: a solution that names itself after a builtin."""

from __future__ import annotations

import pytest

from qurate.synth.sandbox import SandboxLimits, run_in_sandbox

FAST = SandboxLimits(timeout_s=5, memory_mb=256, max_processes=6, workers=1)

# Wrong solutions that answer the tests' own builtin calls from the solution's process.
SHADOWS = {
    "abs": (
        "def abs(x):\n    return 0\ndef half(x):\n    return 7\n",
        "assert abs(half(1) - 0.5) < 1e-9\n",
    ),
    "len": ("len = lambda x: 3\ndef f():\n    return []\n", "assert len(f()) == 3\n"),
    "all": (
        "def all(xs):\n    return True\ndef add(a, b):\n    return a - b\n",
        "assert all([add(x, y) == x + y for x, y in [(1, 2), (3, 4)]])\n",
    ),
}


@pytest.mark.parametrize("name", sorted(SHADOWS))
def test_a_solution_cannot_shadow_the_builtins_the_tests_call(name: str):
    # Before: the tests' namespace took every top-level name of the solution, builtins
    # included, so `abs`/`len`/`all` ran in the solution's process and a wrong answer passed.
    code, tests = SHADOWS[name]
    r = run_in_sandbox(code, tests, FAST)
    assert not r.passed and r.status == "failed", (r.status, r.detail)


def test_the_same_tests_pass_a_right_solution_that_shadows_nothing():
    r = run_in_sandbox(
        "def half(x):\n    return x / 2\n", "assert abs(half(1) - 0.5) < 1e-9\n", FAST
    )
    assert r.passed, r.detail
