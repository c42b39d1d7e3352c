"""The attacks of issue 12 on the code sandbox (hostile snippets in ``hostile_samples.py``):
a wrong solution must never come out verified, and nothing it starts or writes may outlive
its run on the host. The escapes run with the audit hook on (they go around it) and off."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from qurate.synth.sandbox import SandboxLimits, isolation_summary, run_in_sandbox, run_many
from tests.synth.hostile_samples import (
    ADD_TESTS,
    ATTACK_TESTS_PROCESS,
    ESCAPES,
    FORGERS,
    FORK_BOMB,
    PEEK_AT_TESTS,
    THREADED_NEIGHBOUR,
    THREADED_TESTS,
)

FAST = SandboxLimits(timeout_s=3, memory_mb=256, max_processes=6, workers=2)
OS_ONLY = FAST.model_copy(update={"audit_hook": False})
ISO = isolation_summary(FAST)
needs_kernel = pytest.mark.skipif(
    not ISO["pid_namespace"],
    reason="kernel containment needs root with namespaces (pid, mount, net)",
)


def _alive_with(tag: str, wait_s: float = 0.0) -> list[int]:
    """Live (not zombie) processes whose command line carries ``tag``."""
    deadline = time.monotonic() + wait_s
    while True:
        out = []
        for p in Path("/proc").iterdir():
            if p.name.isdigit():
                try:
                    alive = (p / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
                    if alive and tag.encode() in (p / "cmdline").read_bytes():
                        out.append(int(p.name))
                except (OSError, IndexError):
                    pass
        if not out or time.monotonic() >= deadline:
            return out
        time.sleep(0.05)


@pytest.mark.parametrize("name", sorted(FORGERS))
def test_a_wrong_solution_cannot_forge_a_pass(name):
    r = run_in_sandbox(FORGERS[name], ADD_TESTS, FAST)
    assert not r.passed, (name, r)
    assert r.status != "passed"


def test_the_same_tests_pass_a_right_solution():
    # The guard against a harness that fails everything: the tests themselves are fine.
    r = run_in_sandbox("def add(a, b):\n    return a + b\n", ADD_TESTS, FAST)
    assert r.passed, r


def test_solution_objects_are_compared_strictly():
    # Builtin values compare as usual, even nested; an object of the solution's own class
    # equals only itself (its __eq__ never runs in the process that decides).
    code = (
        "class P:\n    def __init__(self, x):\n        self.x = x\n"
        "    def __eq__(self, o):\n        return True\n"
        "def pair(a):\n    return [(a, {'k': {a}}), b'x', 1.5, None]\n"
    )
    ok = run_in_sandbox(
        code, "assert pair(2) == [(2, {'k': {2}}), b'x', 1.5, None]\nassert P(3).x == 3\n", FAST
    )
    assert ok.passed, ok
    bad = run_in_sandbox(code, "assert P(1) == P(2)\n", FAST)
    assert not bad.passed and "AssertionError" in bad.detail


def test_exceptions_of_the_solution_reach_the_tests():
    code = (
        "class Empty(ValueError):\n    pass\n"
        "def pop(xs):\n    if not xs:\n        raise Empty('empty')\n    return xs[-1]\n"
    )
    tests = (
        "try:\n    pop([])\nexcept ValueError as e:\n    assert 'empty' in str(e)\n"
        "else:\n    raise AssertionError('no error')\n"
        "def test_last():\n    assert pop([1, 2]) == 2\n"
    )
    r = run_in_sandbox(code, tests, FAST)
    assert r.passed and r.detail == "1", r


def test_a_solution_that_dies_fails_even_if_the_tests_swallow_errors():
    code = "import os\ndef f():\n    os._exit(0)\n"
    r = run_in_sandbox(code, "try:\n    f()\nexcept BaseException:\n    pass\n", FAST)
    assert not r.passed, r


@needs_kernel
@pytest.mark.parametrize("limits", [FAST, OS_ONLY], ids=["hook", "os-only"])
@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escapes_leave_nothing_on_the_host(name, limits):
    marker = Path("/tmp") / f"qurate-escape-{uuid.uuid4().hex}"
    tag = f"qurate-tag-{uuid.uuid4().hex}"
    code = ESCAPES[name].replace("{marker}", str(marker)).replace("{tag}", tag)
    try:
        run_in_sandbox(code, "", limits)
        assert not _alive_with(tag, wait_s=1.0), "a process of the sample outlived its run"
        if name == "setsid_survivor":
            time.sleep(2.5)  # it would write 2 s after it started
        assert not marker.exists(), f"{name} left {marker} on the host"
    finally:
        if marker.exists() or marker.is_symlink():
            marker.unlink()


@needs_kernel
def test_a_fork_bomb_does_not_reject_its_neighbours():
    limits = OS_ONLY.model_copy(update={"workers": 4, "timeout_s": 6})
    jobs = [(FORK_BOMB, "")] + [(THREADED_NEIGHBOUR, THREADED_TESTS)] * 3
    results = run_many(jobs, limits)
    assert [r.passed for r in results[1:]] == [True, True, True], results[1:]


FALLBACK = FAST.model_copy(update={"namespaces": False})


@pytest.mark.parametrize("name", sorted(FORGERS))
def test_no_forgery_without_kernel_containment_either(name):
    # The verdict comes from the tests process in every mode, not from the kernel layers.
    r = run_in_sandbox(FORGERS[name], ADD_TESTS, FALLBACK)
    assert not r.passed, (name, r)
    ok = run_in_sandbox("def add(a, b):\n    return a + b\n", ADD_TESTS, FALLBACK)
    assert ok.passed, ok


def test_missing_kernel_features_are_said_once_and_runs_fall_back(monkeypatch, caplog):
    from qurate.synth import sandbox

    monkeypatch.setattr(sandbox, "_kernel_containment", lambda python: "no namespaces (test)")
    monkeypatch.setattr(sandbox, "_warned", set())
    with caplog.at_level("WARNING", logger="qurate.synth"):
        iso = sandbox.isolation_summary(FAST)
        sandbox.isolation_summary(FAST)
        r = run_in_sandbox("def add(a, b):\n    return a + b\n", ADD_TESTS, FAST)
    said = [m for m in caplog.messages if "no kernel containment" in m]
    assert len(said) == 1 and "no namespaces (test)" in said[0]
    assert iso["pid_namespace"] is False and iso["mount_namespace"] is False
    assert r.passed, r


@pytest.mark.parametrize("limits", [FAST, OS_ONLY], ids=["hook", "os-only"])
def test_the_solution_cannot_read_the_tests(limits):
    if not limits.audit_hook and not ISO["pid_namespace"]:
        pytest.skip("without namespaces the tests file is on the host, readable by the run")
    secret = f"SECRET-TESTS-{uuid.uuid4().hex}"
    tests = f"# {secret}\n" + ADD_TESTS
    r = run_in_sandbox(PEEK_AT_TESTS.replace("{terces}", secret[::-1]), tests, limits)
    assert "seen 0 []" in r.stdout, r
    assert not r.passed


@needs_kernel
def test_the_solution_cannot_stop_or_kill_the_tests_process():
    r = run_in_sandbox(ATTACK_TESTS_PROCESS, ADD_TESTS, OS_ONLY)
    assert "hit []" in r.stdout, r
    # The tests process lived to run the asserts and decide: the wrong answer is caught.
    assert r.status == "failed" and "AssertionError" in r.detail, r


_SLEEPER_DRIVER = """
import sys, tempfile
sys.path.insert(0, sys.argv[1])
tempfile.tempdir = sys.argv[2]  # the run's files, and so its command lines, carry this path
from qurate.synth.sandbox import SandboxLimits, run_in_sandbox
limits = SandboxLimits(timeout_s=120, namespaces=sys.argv[3] == "ns")
run_in_sandbox("import time\\ntime.sleep(300)\\ndef f():\\n    pass\\n", "f()\\n", limits)
"""


@pytest.mark.parametrize(
    "mode", [pytest.param("ns", marks=needs_kernel), "no-ns"], ids=["namespaces", "fallback"]
)
def test_a_run_dies_with_a_qurate_killed_by_sigkill(tmp_path, mode):
    """kill -9 of the process that runs the sandbox (a `synth filter` killed mid-run) used to
    leave every running sample behind, a sleeping one for 300 s here."""
    import os
    import signal
    import subprocess
    import sys

    here = tmp_path / f"sbx-{uuid.uuid4().hex}"
    here.mkdir(mode=0o755)
    tmp_path.chmod(0o755)  # the run's uids pass through on their way to the fallback work dir
    driver = here / "driver.py"
    driver.write_text(_SLEEPER_DRIVER)
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, str(driver), str(repo), str(here), mode])
    run = f"{here}/qurate-sbx-run-"  # on every command line of the run (not of its probe)
    try:
        deadline = time.monotonic() + 60
        while len(_alive_with(run)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # its supervisor, the solution and the tests (and unshare)
        assert len(_alive_with(run)) >= 3, "the sample never started"
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not _alive_with(run, wait_s=5.0), "the sample outlived its qurate"
    finally:
        proc.kill()
        for pid in _alive_with(str(here)):  # only what this test started
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
