"""kill -9 a real `qurate score apply` and `qurate train` at several points, detected by
polling what they have written; the rerun (for train: the same command with ``--resume``)
ends exactly where an uninterrupted run ends (issue 12). Helpers: tests/test_kill_stages.py."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from qurate.contract.shards import ShardWriter, write_manifest
from tests.conftest import GOOD_EN, GOOD_ZH
from tests.test_kill_stages import cli_env, kill_when, stage_result

pytestmark = pytest.mark.slow
QURATE = [sys.executable, "-m", "qurate"]


def _run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, env=cli_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]


# ---------------------------------------------------------------------------- score apply


def _scoring_input(root: Path, n: int = 240) -> Path:
    """A finished stage of ``n`` short documents in two languages, 4 shards."""
    rng = random.Random(7)
    en = [s.strip() + "." for t in GOOD_EN for s in t.split(".") if s.strip()]
    zh = [s + "。" for s in GOOD_ZH.split("，") if s]
    src = root / "in"
    with ShardWriter(src, rows_per_shard=n // 4) as w:
        for i in range(n):
            lang, pool = ("zh", zh) if i % 4 == 3 else ("en", en)
            text = " ".join(rng.sample(pool, 3))
            w.write({"id": f"d{i}", "text": text, "lang": lang, "source": "web"})
    write_manifest(src, stage="curate", config_hash="k", inputs=[], n_in=n, n_kept=n,
                   rejected_by_reason={})  # fmt: skip
    return src


def _parts(out: Path, pattern: str) -> int:
    return len(list(out.glob(pattern)))


# Where each kill lands, polled on the output directory (two tasks, one worker: task 0
# runs pass 1, then task 1; the parent ranks perplexity per language; pass 2 writes).
APPLY_KILLS = {
    "at start": lambda out: (out / ".qurate.lock").exists(),
    "task 0 staged": lambda out: _parts(out, "_parts/score-00000.json") == 1,
    "pass 1 done": lambda out: _parts(out, "_parts/score-*.json") == 2,
    "pass 2 writing": lambda out: _parts(out, "_parts/write-*.json") >= 1,
}


def apply_command(root: Path) -> list[str]:
    """``score apply`` over a small input written under ``root`` (perplexity under the tiny
    model, two tasks), without ``-o``; bench/kill_sweep.py kills the same command."""
    from qurate.llm.testing import cached_tiny_chat_model

    src = _scoring_input(root)
    cfg = root / "score.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "executor": {"workers": 1},
                "score": {
                    "perplexity": {"device": "cpu", "min_language_docs": 2, "max_tokens": 64},
                    "apply": {"batch_size": 16, "keep_threshold": 0.3, "tasks": 2},
                },
            }
        )
    )
    model = str(cached_tiny_chat_model())
    return [*QURATE, "score", "apply", str(src), "-c", str(cfg), "--perplexity", model]


@pytest.fixture(scope="module")
def apply_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], dict]:
    root = tmp_path_factory.mktemp("apply")
    base = apply_command(root)
    _run([*base, "-o", str(root / "ref")])
    return base, stage_result(root / "ref")


@pytest.mark.parametrize("point", sorted(APPLY_KILLS))
def test_a_killed_score_apply_reruns_to_identical_output(
    tmp_path: Path, apply_setup: tuple[list[str], dict], point: str
) -> None:
    base, expected = apply_setup
    counts, kept, rejected = expected
    assert counts["in"] == 240 and kept and rejected  # both outputs are exercised
    out = tmp_path / "out"
    cmd = [*base, "-o", str(out)]
    kill_when(cmd, lambda: APPLY_KILLS[point](out))
    assert APPLY_KILLS[point](out) and not (out / "manifest.json").exists()
    _run(cmd)
    assert stage_result(out) == expected
    assert not [p.name for p in out.iterdir() if p.name.startswith((".", "_"))]


# ---------------------------------------------------------------------------- train


def _latest(run: Path) -> int:
    pointer = run / "checkpoints" / "latest"
    try:
        return int(pointer.read_text().strip().split("-")[1])
    except (OSError, IndexError, ValueError):
        return -1


def _logged(run: Path) -> int:
    try:
        return len((run / "metrics.jsonl").read_text().splitlines())
    except OSError:
        return 0


# 24 steps, a checkpoint (and an eval) every 4, two kept
TRAIN_KILLS = {
    "before the first checkpoint": lambda run: (run / "train.yaml").exists(),
    "after checkpoint 4": lambda run: _latest(run) >= 4,
    "past checkpoint 8, uncovered steps logged": lambda run: (
        _latest(run) >= 8 and _logged(run) > _latest(run)
    ),
    "while writing a checkpoint": lambda run: (
        _latest(run) >= 12 or any((run / "checkpoints").glob(".tmp-step-*"))
    ),
}


def _train_result(run: Path) -> tuple:
    """The final checkpoint's tensors (bytes), the checkpoints kept and every metrics row
    without its timings."""
    from safetensors.torch import load_file

    ckpt = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
    tensors = {k: v.numpy().tobytes() for k, v in load_file(ckpt / "model.safetensors").items()}
    state = json.loads((ckpt / "train.json").read_text())
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    timing = ("tokens_per_s", "mfu")
    rows = [{k: v for k, v in r.items() if k not in timing} for r in rows]
    kept = sorted(p.name for p in (run / "checkpoints").iterdir())
    return tensors, (state["step"], state["tokens"], state["finished"]), rows, kept


@pytest.fixture(scope="module")
def train_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple]:
    from qurate.train.api import train_tokenizer
    from tests.train.conftest import make_shards
    from tests.train.train_builders import small_cfg

    root = tmp_path_factory.mktemp("train")
    data = make_shards(root / "data")
    tok = train_tokenizer(data, root / "tok", vocab_size=300)
    cfg = small_cfg(data, root / "unused", tok, max_steps=24, eval_every=4, save_every=4)
    raw = cfg.model_dump(mode="json")
    del raw["out"]
    path = root / "train.yaml"
    path.write_text(yaml.safe_dump({"train": raw}))
    ref = root / "ref"
    _run([*QURATE, "train", "-c", str(path), "-o", str(ref)])
    return path, _train_result(ref)


@pytest.mark.parametrize("point", sorted(TRAIN_KILLS))
def test_a_killed_train_resumes_to_the_uninterrupted_run(
    tmp_path: Path, train_setup: tuple[Path, tuple], point: str
) -> None:
    cfg, expected = train_setup
    assert len(expected[2]) == 24 and expected[1] == (24, 24 * 128, True)
    run = tmp_path / "run"
    cmd = [*QURATE, "train", "-c", str(cfg), "-o", str(run)]
    kill_when(cmd, lambda: TRAIN_KILLS[point](run))
    if point == "before the first checkpoint":
        assert _latest(run) == -1
    assert TRAIN_KILLS[point](run)  # killed at that point (SIGKILL within 5 ms of seeing it)
    assert _latest(run) < 24  # the run had not finished
    _run([*cmd, "--resume"])
    got = _train_result(run)
    assert got[1:] == expected[1:]
    assert got[0] == expected[0]  # every tensor, bit for bit


# ---------------------------------------------------------------------------- synth filter


def _alive_in(directory: Path) -> list[int]:
    """Live processes whose command line names ``directory`` (a sandbox run's files)."""
    out = []
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and str(directory).encode() in (p / "cmdline").read_bytes():
                if (p / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    out.append(int(p.name))
        except (OSError, IndexError):
            pass
    return out


@pytest.fixture(scope="module")
def verify_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, tuple]:
    root = tmp_path_factory.mktemp("verify")
    src = root / "samples.jsonl"
    right = "```python\ndef sq(x):\n    return x * x\n```"
    wrong = "```python\ndef sq(x):\n    return x + x\n```"
    words = " ".join(GOOD_EN).split()
    rng = random.Random(3)  # distinct prompts, so that dedup keeps every sample
    rows = [{"id": f"c{i}", "task": "code", "tests": "assert sq(3) == 9",
             "prompt": "Write sq for: " + " ".join(rng.sample(words, 40)),
             "response": wrong if i % 3 == 0 else right} for i in range(90)]  # fmt: skip
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    t0 = time.monotonic()
    _run([*QURATE, "synth", "filter", str(src), "-o", str(root / "ref")])
    return src, time.monotonic() - t0, stage_result(root / "ref")


@pytest.mark.parametrize("point", ["first sample running", "past half-way"])
def test_a_killed_synth_filter_with_code_tests_reruns_identically(
    tmp_path: Path, verify_setup: tuple[Path, float, tuple], point: str, monkeypatch
) -> None:
    """Verification on: the samples running in the sandbox die with the killed process, and
    the rerun gives the uninterrupted verdicts."""
    src, duration, expected = verify_setup
    counts, kept, rejected = expected
    assert counts["in"] == 90 and len(kept) == 60 and len(rejected) == 30
    runs = tmp_path / "sbx"  # the sandbox's temp files, so its command lines, land here
    runs.mkdir(mode=0o755)
    monkeypatch.setenv("TMPDIR", str(runs))
    out = tmp_path / "out"
    cmd = [*QURATE, "synth", "filter", str(src), "-o", str(out)]
    t0 = time.monotonic()
    if point == "first sample running":
        kill_when(cmd, lambda: len(_alive_in(runs)) >= 3)
    else:
        kill_when(cmd, lambda: time.monotonic() - t0 > 0.6 * duration)
    deadline = time.monotonic() + 5
    while _alive_in(runs) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive_in(runs), "a sandboxed sample outlived the killed command"
    _run(cmd)
    assert stage_result(out) == expected
