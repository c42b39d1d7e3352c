"""Each arm as one torchrun job: the command, a real job on CPU (gloo, one process), and
that it trains and scores exactly what the in-process launcher does."""

from __future__ import annotations

import sys

import pytest
from ablate_builders import small_cfg, word_docs

from qurate.ablate.launch import torchrun_command
from qurate.ablate.runner import run_ablation
from qurate.errors import ConfigError, QurateError


def test_the_command_is_torchrun_over_this_interpreter(tmp_path):
    cmd = torchrun_command(tmp_path / "recipe.json", 8)
    assert cmd[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert "--standalone" in cmd and "--nproc-per-node=8" in cmd
    assert cmd[-3:] == ["-m", "qurate.ablate.launch", str(tmp_path / "recipe.json")]


def test_a_torchrun_job_per_arm_matches_the_local_launcher(tmp_path, jsonl):
    arm = jsonl(tmp_path / "a.jsonl", word_docs(120, seed=3))
    held = jsonl(tmp_path / "held.jsonl", word_docs(15, seed=4))
    local = run_ablation(small_cfg({"a": arm}, {"held": held}), tmp_path / "local")
    tr = run_ablation(
        small_cfg({"a": arm}, {"held": held}, launcher="torchrun", nproc_per_node=1),
        tmp_path / "tr",
    )
    (lr,), (tr1,) = local["runs"], tr["runs"]
    assert tr1["launcher"] == "torchrun" and lr["launcher"] == "local"
    assert (tmp_path / "tr" / "a" / "seed-0" / "recipe.json").is_file()
    assert (tmp_path / "tr" / "a" / "seed-0" / "train.json").is_file()
    for k in ("tokens", "steps", "params", "final_loss"):
        assert tr1[k] == lr[k], k
    assert tr1["evals"]["held"]["value"] == lr["evals"]["held"]["value"]


def test_a_failing_torchrun_job_is_one_line_naming_the_run(tmp_path, jsonl, monkeypatch):
    from qurate.ablate import launch

    arm = jsonl(tmp_path / "a.jsonl", word_docs(120, seed=3))
    held = jsonl(tmp_path / "held.jsonl", word_docs(15, seed=4))
    # a job that exits 1 without training: what a crashed rank looks like to the parent
    monkeypatch.setattr(
        launch, "torchrun_command", lambda recipe, n: [sys.executable, "-c", "raise SystemExit(1)"]
    )
    with pytest.raises(QurateError, match=r"torchrun job for .*seed-0 failed \(exit 1\)") as e:
        run_ablation(small_cfg({"a": arm}, {"held": held}, launcher="torchrun"), tmp_path / "out")
    assert "\n" not in str(e.value)


def test_torchrun_with_parallel_is_a_config_error(tmp_path, jsonl):
    arm = jsonl(tmp_path / "a.jsonl", word_docs(120, seed=3))
    with pytest.raises(ConfigError, match="parallel: 1"):
        run_ablation(
            small_cfg({"a": arm}, {"h": arm}, launcher="torchrun", parallel=2), tmp_path / "out"
        )
