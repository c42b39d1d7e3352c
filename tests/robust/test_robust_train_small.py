"""Bugs the sweep found in ``qurate/train``: a one-shard stage of fewer than 100 documents
(a small ``qurate mix`` output) had no eval row (rows ``i % 100 == 99`` are held out) and
failed with 'no text to train on', which was not true."""

from __future__ import annotations

from pathlib import Path

from qurate.contract.files import write_manifest
from qurate.contract.schema import rows_to_table
from qurate.contract.stagedir import write_table
from qurate.train.data import split_eval

SENTENCES = [
    "The river rises in the hills and runs west to the sea through farmland.",
    "Bread is made from flour, water, salt and yeast, then baked in an oven.",
    "A prime number has exactly two divisors: one and the number itself.",
    "The library opens at nine and closes at five on weekdays.",
]


def _small_mix(path: Path, n: int) -> Path:
    rows = [{"id": f"d{i}", "text": f"{SENTENCES[i % 4]} Note {i}. " * 4} for i in range(n)]
    write_table(path / "part-00000.parquet", rows_to_table(rows))
    write_manifest(
        path, stage="mix", config_hash="x", inputs=[], n_in=n, n_kept=n, rejected_by_reason={}
    )
    return path


def test_a_one_shard_stage_of_fewer_than_100_documents_trains(tmp_path: Path):
    from qurate.train.api import load_config, train_config

    data = _small_mix(tmp_path / "mixed", 56)
    cfg = load_config(
        None,
        data=str(data),
        out=str(tmp_path / "run"),
        preset="tiny",
        max_steps=1,
        seq_len=32,
        micro_batch_size=1,
    )
    result = train_config(cfg)
    assert result.steps == 1
    assert result.eval_loss is not None  # one of the 56 rows was held out and evaluated


def test_split_eval_holds_out_one_row_of_a_small_shard_and_none_without_eval(tmp_path: Path):
    big = _small_mix(tmp_path / "big", 150)
    assert split_eval([big / "part-00000.parquet"])[2] == 100  # 1%, as before
    small = [_small_mix(tmp_path / "small", 56) / "part-00000.parquet"]
    train, held, mod = split_eval(small)
    assert (train, held, mod) == (small, small, 56)
    assert split_eval(small, evaluate=False) == (small, [], 0)  # no eval: train on every row
    one = [_small_mix(tmp_path / "one", 1) / "part-00000.parquet"]
    assert split_eval(one) == (one, [], 0)  # nothing to hold out from a single row
