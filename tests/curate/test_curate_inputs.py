"""Odd and damaged inputs through a whole `qurate curate` run: nothing lost, nothing hangs,
every skip named, and a failure is one line on the console with the traceback in a log."""

from __future__ import annotations

import gzip
import json
import os
import random
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qurate.contract.executors import ExecutorConfig
from qurate.contract.shards import iter_rows
from qurate.curate.config import CurateConfig
from qurate.curate.pipeline import curate
from qurate.errors import BadInputError

LOCAL = ExecutorConfig(workers=1)
REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, preexec=None, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "250"}
    env.pop("QURATE_TRACEBACK", None)
    return subprocess.run(
        [sys.executable, "-m", "qurate", *args],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=preexec,
        timeout=timeout,
    )


def test_damaged_gzip_is_accounted_for_in_the_manifest(corpus, tmp_path: Path):
    body = "".join(
        json.dumps({"id": f"g{i}", "text": os.urandom(300).hex()}) + "\n" for i in range(30)
    ).encode()
    data = gzip.compress(body)
    bad = corpus["dir"] / "cut.jsonl.gz"
    bad.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    result = curate([*corpus["files"], bad], out, CurateConfig(), executor=LOCAL, progress=False)
    counts = result.manifest["counts"]
    kept = list(iter_rows(out))
    rejected = list(iter_rows(out, rejects=True))
    assert counts["in"] == len(kept) + len(rejected)
    damaged = [r for r in rejected if r["reject_reason"] == "damaged_input"]
    assert len(damaged) == 1 and "cut.jsonl.gz" in damaged[0]["reject_detail"]
    assert counts["rejected_by_reason"]["damaged_input"] == 1
    recovered = {r["id"] for r in kept + rejected if r["id"].startswith("g")}
    assert len(recovered) > 5  # the documents before the damage went on through the run


def test_skipped_paths_are_named_and_a_fifo_never_blocks(tmp_path: Path):
    web = tmp_path / "web"
    web.mkdir()
    (web / "a.jsonl").write_text(json.dumps({"id": "a", "text": "Rivers carve valleys."}) + "\n")
    (web / "gone.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    (web / "dir.jsonl").mkdir()
    os.mkfifo(web / "pipe.jsonl")
    (web / "photo.png").write_bytes(b"\x89PNG")
    old = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("blocked on a FIFO"))
    signal.alarm(60)
    try:
        result = curate([web], tmp_path / "out", CurateConfig(), executor=LOCAL, progress=False)
        with pytest.raises(BadInputError, match=r"pipe.jsonl: not a regular file \(FIFO\)"):
            curate(
                [web / "pipe.jsonl"],
                tmp_path / "o2",
                CurateConfig(),
                executor=LOCAL,
                progress=False,
            )
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    skipped = result.manifest["skipped_inputs"]
    reasons = {Path(s["path"]).name: s["reason"] for s in skipped["paths"]}
    assert reasons["gone.jsonl"] == "dangling symlink"
    assert reasons["pipe.jsonl"] == "FIFO"
    assert reasons["photo.png"] == "unknown format"
    assert "directory" in reasons["dir.jsonl"]
    assert skipped["count"] == 4 and result.manifest["counts"]["in"] == 1


def test_summary_names_what_was_skipped(tmp_path: Path):
    web = tmp_path / "web"
    web.mkdir()
    (web / "a.jsonl").write_text(json.dumps({"id": "a", "text": "Rivers carve valleys."}) + "\n")
    (web / "gone.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    res = run_cli("curate", str(web), "-o", str(tmp_path / "out"), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "skipped 1 input path" in res.stderr
    assert "gone.jsonl: dangling symlink" in res.stderr


def test_parquet_without_text_column_is_one_line_before_any_work(tmp_path: Path):
    p = tmp_path / "nocol.parquet"
    pq.write_table(pa.table({"body": ["x"] * 3}), p)
    out = tmp_path / "out"
    res = run_cli("curate", str(p), "-o", str(out), "--no-progress")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        f"error: {p}: no 'text' column (columns: body); set text_key in the config"
    ]
    assert not (out / ".work" / "logs").exists()  # refused before any task ran


def _big_inputs(folder: Path) -> None:
    folder.mkdir()
    words = "river water mountain valley forest city people the of and to in is".split()
    rng = random.Random(0)
    for name in "ab":  # ~800 kB each, barely compressible
        with open(folder / f"{name}.jsonl", "w") as fh:
            for i in range(400):
                text = " ".join(rng.choice(words) for _ in range(300)) + os.urandom(300).hex()
                fh.write(json.dumps({"id": f"{name}{i}", "text": text}) + "\n")


def _small_files_only() -> None:
    # A write past 300 kB fails with EFBIG, as a full disk fails with ENOSPC.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_failing_write_is_one_line_naming_the_task_log(tmp_path: Path, workers: str):
    _big_inputs(tmp_path / "web")
    out = tmp_path / "out"
    res = run_cli(
        "curate",
        str(tmp_path / "web"),
        "-o",
        str(out),
        "--no-progress",
        "--workers",
        workers,
        preexec=_small_files_only,
    )
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "File too large" in lines[0] and "Traceback" not in res.stderr
    log = Path(lines[0].split("traceback in ")[1].rstrip(")"))
    assert log.is_file() and log.is_relative_to(out / ".work" / "logs")
    assert "Traceback" in log.read_text() and "File too large" in log.read_text()


def test_an_unexpected_error_is_one_line_naming_the_traceback_file(tmp_path: Path):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "a.jsonl").write_text(json.dumps({"id": "a", "text": "Rivers."}) + "\n")
    # A bug inside the stage (an output under a file is now a handled exit-2 error, so the
    # stage itself is made to raise).
    bug = (
        "import sys, qurate.curate.pipeline as p\n"
        "def boom(*a, **k): raise RuntimeError('a bug in the stage')\n"
        "p.curate = boom\n"
        "from qurate.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "250"}
    env.pop("QURATE_TRACEBACK", None)
    res = subprocess.run(
        [sys.executable, "-c", bug, "curate", str(tmp_path / "web"), "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: RuntimeError: a bug"), res.stderr
    log = Path(lines[0].split("(traceback in ")[1].rstrip(")"))
    assert "Traceback" in log.read_text()
    log.unlink()
