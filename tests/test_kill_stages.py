"""kill -9 a real writing command at several points; the rerun's output is identical to an
uninterrupted run's (issue 12). Mix has its own test (tests/mixers/test_mix_kill.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from qurate.contract.shards import iter_rows

pytestmark = pytest.mark.slow
MATH = "Let x be real. Then x^2 >= 0 and the integral of 2x dx is x^2 + C, so the claim holds."


def _cmd(stage: str, src: Path, out: Path) -> list[str]:
    base = [sys.executable, "-m", "qurate"]
    if stage == "augment ingest":
        return [*base, "augment", "ingest", str(src), "-o", str(out), "--domain", "math"]
    if stage == "curate":
        return [*base, "curate", str(src), "-o", str(out)]
    return [*base, "synth", "filter", str(src), "-o", str(out), "--no-verify"]


def _inputs(stage: str, tmp: Path) -> Path:
    if stage == "curate":  # real prose from the bundled sample, each document twice (dedup)
        sample = Path(__file__).resolve().parents[1] / "qurate" / "data" / "sample" / "docs.jsonl"
        lines = sample.read_text().splitlines()[:400]
        src = tmp / "docs.jsonl"
        src.write_text("\n".join(lines + lines) + "\n")
        return src
    if stage == "augment ingest":
        src = tmp / "math.jsonl"
        src.write_text("".join(json.dumps({"id": f"m{i}", "text": f"{MATH} ({i})"}) + "\n"
                               for i in range(3000)))  # fmt: skip
        return src
    src = tmp / "samples.jsonl"
    rows = [{"id": f"s{i}", "task": "math", "prompt": f"What is {i % 50} + 1?",
             "response": f"It is {i % 50 + 1}. ({i})", "seed_id": f"q{i % 50}"}
            for i in range(3000)]  # fmt: skip
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return src


def cli_env() -> dict[str, str]:
    """The environment of a `qurate` subprocess: this test's import path, one thread."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}


def kill_when(cmd: list[str], ready: Callable[[], bool], timeout: float = 300) -> None:
    """Start ``cmd``, SIGKILL it as soon as ``ready()`` holds (polled every 5 ms), and fail
    unless it was still running then: a kill after the end would test nothing."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=cli_env(), stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and not ready() and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.kill()  # SIGKILL: no handler runs
        proc.wait()
        err.seek(0)
        tail = err.read().decode(errors="replace")[-2000:]
    assert proc.returncode == -9, f"not killed mid-run (exit {proc.returncode}): {tail}"


def stage_result(out: Path) -> tuple:
    """A stage directory's counts, kept rows and rejected rows (sorted): what a rerun after
    a kill must reproduce exactly."""
    manifest = json.loads((out / "manifest.json").read_text())
    kept = sorted(json.dumps(r, sort_keys=True, default=str) for r in iter_rows(out))
    rejected = sorted(
        json.dumps(r, sort_keys=True, default=str) for r in iter_rows(out, rejects=True)
    )
    return manifest["counts"], kept, rejected


@pytest.mark.parametrize("stage", ["curate", "augment ingest", "synth filter"])
def test_a_killed_stage_reruns_to_identical_output(tmp_path: Path, stage: str) -> None:
    env = cli_env()
    src = _inputs(stage, tmp_path)
    t0 = time.monotonic()
    subprocess.run(_cmd(stage, src, tmp_path / "ref"), env=env, check=True, capture_output=True)
    duration = time.monotonic() - t0
    expected = stage_result(tmp_path / "ref")
    for i, fraction in enumerate((0.4, 0.8)):
        out = tmp_path / f"out{i}"
        proc = subprocess.Popen(_cmd(stage, src, out), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(duration * fraction)
        proc.kill()
        proc.wait()
        rerun = subprocess.run(_cmd(stage, src, out), env=env, capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr
        assert stage_result(out) == expected
        # nothing hidden is left, but curate's work directory (logs, dedup index) stays
        assert not [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".work"]
