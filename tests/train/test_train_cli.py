"""The `qurate train` commands: thin, with one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from qurate.cli import main


def _run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def test_plan_prints_both_laws(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["train", "plan", "--params", "7e9", "--tokens", "2T"]) == 0
    out = capsys.readouterr().out
    assert "deepseek" in out and "steplaw" in out and "9,202,686" in out  # B = 0.292 C^0.3271


def test_train_and_export_from_the_command_line(
    shards: Path, tokenizer_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--data", str(shards), "-o", str(tmp_path / "run"), "--preset", "tiny"]
    argv += ["--tokenizer", str(tokenizer_dir), "--max-steps", "2", "--seq-len", "32"]
    argv += ["--micro-batch-size", "2", "--batch-tokens", "64", "--lr", "1e-3"]
    assert _run(argv) == 0
    assert "trained 2 steps" in capsys.readouterr().out
    assert _run(["train", "export", str(tmp_path / "run"), "-o", str(tmp_path / "hf")]) == 0
    assert (tmp_path / "hf" / "model.safetensors").is_file()


def test_user_mistakes_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["train", "--data", str(tmp_path), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "no part-*.parquet" in err and "Traceback" not in err
    assert _run(["train", "--preset", "huge", "--data", str(tmp_path), "-o", "x"]) == 2
    assert _run(["train", "plan", "--params", "7e9"]) == 2
    assert "needs --params N and --tokens D" in capsys.readouterr().err
    assert _run(["train", "export", str(tmp_path), "-o", str(tmp_path / "hf")]) == 2


def test_yaml_config_is_validated(tmp_path: Path) -> None:
    from qurate.errors import ConfigError
    from qurate.train.config import load_config

    good = tmp_path / "train.yaml"
    good.write_text(
        "train:\n  preset: 0.5B\n  optim: {lr: 0.0003, schedule: wsd}\n  stages:\n"
        "    - {seq_len: 4096, rope_theta: 10000, tokens: 1000000}\n"
        "    - {seq_len: 32768, rope_theta: 1000000, tokens: 1000, micro_batch_size: 1}\n"
    )
    cfg = load_config(good, max_steps=5)  # flags override the file
    assert cfg.max_steps == 5 and cfg.optim.schedule == "wsd" and len(cfg.stages) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("preset: tiny\noptim: {learning_rate: 0.1}\n")
    with pytest.raises(ConfigError, match="optim.learning_rate"):
        load_config(bad)
