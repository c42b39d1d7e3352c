"""A killed or interrupted `qurate curate` takes its worker processes with it and says, in
one line, that rerunning resumes. Real processes, so these are slow tests."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WORDS = (
    "the river carries water from the mountains to the sea and people in the valley grow rice "
    "on the fertile plain while scientists measure how the climate changes over many years"
).split()

pytestmark = pytest.mark.slow


def _inputs(folder: Path, files: int = 4, docs: int = 800) -> None:
    folder.mkdir()
    rng = random.Random(1)
    for f in range(files):
        with open(folder / f"{f}.jsonl", "w") as fh:
            for i in range(docs):
                text = " ".join(rng.choice(WORDS) for _ in range(120)) + "."
                fh.write(json.dumps({"id": f"{f}-{i}", "text": text}) + "\n")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _descendants(pid: int) -> set[int]:
    kids, out, todo = _children(), set(), [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start(tmp_path: Path) -> tuple[subprocess.Popen, Path, set[int]]:
    """Start a 2-worker curate run and wait until its workers are reading documents."""
    _inputs(tmp_path / "web")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "qurate", "curate", str(tmp_path / "web"), "-o", str(out)]
        + ["--workers", "2", "--tasks", "4"],
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell job has
    )
    deadline = time.time() + 25
    progress = out / ".work" / "progress" / "read"
    while time.time() < deadline:
        kids = _descendants(proc.pid)
        if len(kids) >= 3 and progress.is_dir() and any(progress.glob("*.json")):
            return proc, out, kids
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"the run did not get going: {proc.communicate()[1][-2000:]}")


def _gone_within(pids: set[int], seconds: float) -> set[int]:
    deadline = time.time() + seconds
    while time.time() < deadline:
        left = {p for p in pids if _alive(p)}
        if not left:
            return set()
        time.sleep(0.1)
    return {p for p in pids if _alive(p)}


def test_killing_only_the_main_process_takes_the_workers_with_it(tmp_path: Path):
    proc, _, kids = _start(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    left = _gone_within(kids, 10)
    for p in left:  # do not leave them to the next test
        os.kill(p, signal.SIGKILL)
    assert not left, f"workers outlived their parent: {sorted(left)}"


@pytest.mark.parametrize(
    ("sig", "to_group", "code", "word"),
    [(signal.SIGTERM, False, 143, "terminated"), (signal.SIGINT, True, 130, "interrupted")],
)
def test_sigterm_and_ctrl_c_say_one_line_and_leave_no_worker(tmp_path, sig, to_group, code, word):
    proc, out, kids = _start(tmp_path)
    if to_group:  # Ctrl-C in a terminal signals the whole foreground process group
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=20)
    left = _gone_within(kids, 10)
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert proc.returncode == code
    assert not left, f"workers outlived an interrupted run: {sorted(left)}"
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    last = [line for line in stderr.splitlines() if line.strip()][-1]
    assert last.startswith(word) and "rerun the same command to resume" in last
    assert sum("rerun" in line for line in stderr.splitlines()) == 1
    if sig == signal.SIGTERM:  # and the rerun does resume, to a complete manifest
        rerun = subprocess.run(
            [sys.executable, "-m", "qurate", "curate", str(tmp_path / "web"), "-o", str(out)]
            + ["--workers", "2", "--tasks", "4", "--no-progress"],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert rerun.returncode == 0, rerun.stderr
        counts = json.loads((out / "manifest.json").read_text())["counts"]
        assert counts["in"] == 4 * 800 == counts["kept"] + counts["rejected"]
