"""`augment recall` gives the same output every run, and after kill -9 a rerun resumes from
the finished rounds to the uninterrupted run's output (issue 12; issue 15 point 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_classifier import SAMPLE, labelled_pool, tiny, write_pool  # (same folder)
from test_kill_stages import _result  # tests/: counts, kept rows and rejected rows, sorted

import qurate.augment.recall as rec
from qurate.augment.recall import recall

SEEDS = SAMPLE / "seeds" / "math.jsonl"


@pytest.fixture(scope="module")
def pool_dir(tmp_path_factory) -> Path:
    return write_pool(tmp_path_factory.mktemp("pool") / "pool", labelled_pool())


def test_two_uninterrupted_runs_give_identical_output(pool_dir: Path, tmp_path: Path) -> None:
    a = recall(pool_dir, tmp_path / "a", SEEDS, "math", tiny())
    b = recall(pool_dir, tmp_path / "b", SEEDS, "math", tiny())
    assert _result(tmp_path / "a") == _result(tmp_path / "b")  # every score, to the bit
    assert [r["threshold"] for r in a["rounds"]] == [r["threshold"] for r in b["rounds"]]
    # the control: hogwild training (several threads) is what made runs differ
    c = recall(pool_dir, tmp_path / "c", SEEDS, "math", tiny(deterministic=False))
    assert _result(tmp_path / "c") != _result(tmp_path / "a")
    assert c["counts"]["in"] == a["counts"]["in"]


def test_a_crashed_run_resumes_after_its_last_finished_round(
    pool_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    expected = recall(pool_dir, tmp_path / "ref", SEEDS, "math", tiny(rounds=3))
    out = tmp_path / "out"

    def crash(rep) -> None:
        if rep.round == 2:
            raise KeyboardInterrupt  # after round 2 is kept, before round 3

    with pytest.raises(KeyboardInterrupt):
        recall(pool_dir, out, SEEDS, "math", tiny(rounds=3), on_round=crash)
    assert not (out / "manifest.json").exists()
    trained: list[int] = []
    real = rec.RecallClassifier.train_averaged

    def spy(positives, negatives, cfg, seed=0):
        trained.append(seed)  # the round number
        return real(positives, negatives, cfg, seed=seed)

    monkeypatch.setattr(rec.RecallClassifier, "train_averaged", staticmethod(spy))
    m = recall(pool_dir, out, SEEDS, "math", tiny(rounds=3))
    assert trained == [3]  # rounds 1 and 2 were kept, not retrained
    assert _result(out) == _result(tmp_path / "ref")
    assert [r["round"] for r in m["rounds"]] == [1, 2, 3]
    assert [r["threshold"] for r in m["rounds"]] == [r["threshold"] for r in expected["rounds"]]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # scratch removed


@pytest.mark.slow
def test_kill_9_then_rerun_gives_the_uninterrupted_output(pool_dir: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "pipeline.yaml"
    recall_cfg = tiny(rounds=3).model_dump(mode="json")
    cfg.write_text(json.dumps({"augment": {"recall": recall_cfg}}))  # YAML reads JSON

    def cmd(out: Path) -> list[str]:
        return [sys.executable, "-m", "qurate", "augment", "recall", str(pool_dir), "-o",
                str(out), "--seeds", str(SEEDS), "--domain", "math", "-c", str(cfg)]  # fmt: skip

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    t0 = time.monotonic()
    ref = subprocess.run(cmd(tmp_path / "ref"), env=env, capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr
    duration = time.monotonic() - t0
    expected = _result(tmp_path / "ref")
    resumed = 0
    for i, fraction in enumerate((0.35, 0.6, 0.85)):
        out = tmp_path / f"out{i}"
        proc = subprocess.Popen(cmd(out), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(duration * fraction)
        proc.kill()
        proc.wait()
        resumed += bool(list(out.glob(".recall-rounds/round-*.json")))
        rerun = subprocess.run(cmd(out), env=env, capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr
        assert _result(out) == expected
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert resumed  # at least one kill landed after a finished round: the resume path ran
