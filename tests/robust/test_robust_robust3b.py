"""Third sweep, model side: `train`, `eval`, `ablate`, `post` and the `synth` code sandbox,
driven as a hostile user would (empty or wrong-typed data, flags at their limits, folders
that are not models or runs, chat rows of the wrong shape, solutions that try to forge the
sandbox's verdict). Each bad input ends in one clean line and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from qurate.contract.files import write_manifest
from tests.robust.test_robust_cli import one_line_error, run_cli

TINY = ["--preset", "tiny", "--max-steps", "1", "--seq-len", "32", "--micro-batch-size", "1"]


def _stage(path: Path, table: pa.Table) -> Path:
    path.mkdir(parents=True)
    pq.write_table(table, path / "part-00000.parquet")
    n = table.num_rows
    write_manifest(
        path, stage="mix", config_hash="x", inputs=[], n_in=n, n_kept=n, rejected_by_reason={}
    )
    return path


def test_train_on_only_empty_texts_says_there_is_no_text(tmp_path: Path, capsys):
    # Before: "error: --tokens must be positive", naming a flag the user never gave.
    empty = _stage(tmp_path / "empty", pa.table({"id": ["a", "b"], "text": ["", ""]}))
    args = ["train", "--data", str(empty), "-o", str(tmp_path / "run"), *TINY]
    line = one_line_error(*run_cli(args, capsys))
    assert "no text to train on" in line and "--tokens" not in line


def test_train_on_a_few_characters_of_text_is_not_called_empty(tmp_path: Path):
    from qurate.train.data import estimate_tokens, list_shards

    short = _stage(tmp_path / "short", pa.table({"id": ["a"], "text": ["abc"]}))
    assert estimate_tokens(list_shards(short)) == 1


def test_train_plan_refuses_a_sequence_length_below_one(capsys):
    # Before: exit 0 and a table of complex numbers ("batch 4,264,789+7,063,688j tokens")
    # for --seq-len -100000000; 0 and -3 printed a plan as if they were lengths.
    for bad in ("0", "-100000000"):
        args = ["train", "plan", "--params", "7B", "--tokens", "1e9", "--seq-len", bad]
        line = one_line_error(*run_cli(args, capsys))
        assert "--seq-len must be a positive" in line
