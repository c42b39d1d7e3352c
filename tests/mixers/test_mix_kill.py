"""kill -9 a real `qurate mix` at several points: the directory is never read half-written,
and a rerun gives output identical to an uninterrupted run (issue 12: a killed mix used to
leave temp files, scratch directories and shards with no manifest, and could not resume)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mix_builders import make_docs, write_stage

from qurate.errors import BadInputError
from qurate.mixers import parse_mix_config, plan_mix

pytestmark = pytest.mark.slow
MIX_YAML = (
    "budget_tokens: 3000000\nshard_tokens: 100000\nrow_group_rows: 256\nshuffle_bucket_mb: 1\n"
)


def _mix(src: Path, out: Path, cfg: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "qurate", "mix", str(src), "-o", str(out), "-c", str(cfg)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _files(d: Path) -> dict[str, bytes]:
    return {
        p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()
    }


def kill_input(root: Path) -> tuple[Path, Path]:
    """The stage directory and MIX.yaml a killed mix runs on, written under ``root``;
    bench/kill_sweep.py kills the same mix."""
    src = write_stage(
        root / "in",
        make_docs(20_000, domains={"science": 1, "code": 1, "news": 2}),
        rows_per_shard=5000,
    )
    cfg = root / "MIX.yaml"
    cfg.write_text(MIX_YAML)
    return src, cfg


@pytest.mark.parametrize("shards_before_kill", [0, 1, 12])
def test_a_killed_mix_reruns_to_identical_output(tmp_path: Path, shards_before_kill: int) -> None:
    src, cfg = kill_input(tmp_path)
    ref = tmp_path / "ref"
    assert _mix(src, ref, cfg).wait(timeout=300) == 0
    expected = {k: v for k, v in _files(ref).items() if k != "manifest.json"}

    out = tmp_path / "out"
    proc = _mix(src, out, cfg)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        started = (out / ".qurate.lock").exists()
        if started and len(list(out.glob("part-*.parquet"))) >= shards_before_kill:
            break
        time.sleep(0.005)
    proc.kill()  # SIGKILL: no handler runs
    proc.wait()
    if not (out / "manifest.json").exists():  # killed mid-run (the usual case)
        with pytest.raises(BadInputError, match="no manifest.json|no Parquet shards"):
            plan_mix([out], parse_mix_config({"budget_tokens": 1}))
    rerun = _mix(src, out, cfg)
    assert rerun.wait(timeout=300) == 0, rerun.stderr.read().decode()
    got = _files(out)
    assert {k: v for k, v in got.items() if k != "manifest.json"} == expected
    assert not [k for k in got if k.startswith(".")]  # no lock, marker, temp or scratch left
