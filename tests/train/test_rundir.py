"""A run directory remembers its run: --resume alone, finished re-runs, --overwrite, and
metrics.jsonl that never holds a step twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from train_builders import small_cfg

from qurate.cli import main
from qurate.train.api import load_config, train_config


class Killed(Exception):
    pass


def _run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def _cfg(data: Path, out: Path, tok: Path, **kw):
    return small_cfg(data, out, tok, **{"eval_every": 0, **kw})


def _rows(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def test_resume_after_a_crash_past_the_checkpoint_logs_each_step_once(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    """Killed after step 4 was logged but before a checkpoint covered it (the last is at 3):
    the resumed run trains step 4 again, and metrics.jsonl must not keep the old row."""
    full, cut = tmp_path / "full", tmp_path / "cut"
    train_config(_cfg(shards, full, tokenizer_dir))

    def kill_at_4(kind: str, data: dict) -> None:
        if kind == "step" and data["step"] == 4:
            raise Killed

    with pytest.raises(Killed):
        train_config(_cfg(shards, cut, tokenizer_dir), on_event=kill_at_4)
    assert [r["step"] for r in _rows(cut)] == [1, 2, 3, 4]
    train_config(_cfg(shards, cut, tokenizer_dir), resume=True)
    assert [r["step"] for r in _rows(cut)] == [1, 2, 3, 4, 5, 6]
    assert [r["loss"] for r in _rows(cut)] == [r["loss"] for r in _rows(full)]


def test_resume_alone_reads_the_stored_config(
    shards: Path, tokenizer_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    argv = ["train", "--data", str(shards), "-o", str(run), "--preset", "tiny"]
    argv += ["--tokenizer", str(tokenizer_dir), "--max-steps", "4", "--seq-len", "32"]
    argv += ["--micro-batch-size", "2", "--batch-tokens", "64", "--lr", "1e-3"]
    train_config(
        load_config(
            None,
            data=str(shards),
            out=str(run),
            tokenizer=str(tokenizer_dir),
            max_steps=4,
            seq_len=32,
            micro_batch_size=2,
            batch_tokens=64,
            lr=1e-3,
            save_every=2,
        ),
        stop_at=2,
    )
    assert (run / "train.yaml").is_file()
    # no --data, no shape flags: everything comes from RUN/train.yaml
    assert _run(["train", "-o", str(run), "--resume"]) == 0
    out = capsys.readouterr()
    assert "resuming from step 2" in " ".join(out.err.split()) and "trained 4 steps" in out.out
    assert [r["step"] for r in _rows(run)] == [1, 2, 3, 4]
    # --resume with a flag extends the stored run
    assert _run(["train", "-o", str(run), "--resume", "--max-steps", "5"]) == 0
    assert "resuming from step 4" in capsys.readouterr().err
    assert len(_rows(run)) == 5


def test_finished_run_same_config_is_a_no_op_another_needs_overwrite(
    shards: Path, tokenizer_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    argv = ["train", "--data", str(shards), "-o", str(run), "--preset", "tiny"]
    argv += ["--tokenizer", str(tokenizer_dir), "--max-steps", "2", "--seq-len", "32"]
    argv += ["--micro-batch-size", "2", "--batch-tokens", "64", "--lr", "1e-3"]
    assert _run(argv) == 0
    capsys.readouterr()
    before = (run / "metrics.jsonl").read_text()
    ckpt = sorted((run / "checkpoints").glob("step-*"))[-1].stat().st_mtime_ns
    assert _run(argv) == 0  # the same command again: nothing trained, and it says so
    err = " ".join(capsys.readouterr().err.split())  # rich wraps lines
    assert "already finished this config at step 2" in err
    assert (run / "metrics.jsonl").read_text() == before
    assert sorted((run / "checkpoints").glob("step-*"))[-1].stat().st_mtime_ns == ckpt
    # another config into the finished run: one line naming --overwrite
    other = [*argv[:-1], "2e-3"]
    assert _run(other) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and "optim" in err and "Traceback" not in err
    assert _run([*other, "--overwrite"]) == 0
    assert "trained 2 steps" in capsys.readouterr().out
    assert json.loads((run / "plan.json").read_text())["lr"] == 2e-3


def test_the_library_call_twice_is_a_no_op(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    """What `qurate run` does on its second run: the same train call returns the result."""
    cfg = _cfg(shards, tmp_path / "r", tokenizer_dir, max_steps=2)
    first = train_config(cfg)
    again = train_config(cfg)
    assert again.already_done and not first.already_done
    assert (again.steps, again.tokens, again.final_loss) == (2, first.tokens, first.final_loss)
    assert again.checkpoint == first.checkpoint


def test_resume_with_more_steps_keeps_the_runs_peak_lr(
    shards: Path, tokenizer_dir: Path, tmp_path: Path
) -> None:
    """No lr given: the plan's lr comes from max_steps x batch, so extending a run on resume
    re-planned the peak lr mid-run; it keeps the one it trained with, and says so."""
    run = tmp_path / "run"
    first = train_config(_cfg(shards, run, tokenizer_dir, lr=None, max_steps=3))
    fresh = train_config(_cfg(shards, tmp_path / "fresh", tokenizer_dir, lr=None, max_steps=30))
    assert fresh.lr != first.lr  # the plan does depend on the length
    more = train_config(_cfg(shards, run, tokenizer_dir, lr=None, max_steps=5), resume=True)
    assert more.steps == 5 and more.lr == first.lr
    assert "kept from the run" in (more.note or "")
    plan = json.loads((run / "plan.json").read_text())
    assert plan["lr"] == first.lr and "kept from the run" in plan["note"]
