"""Bugs the sweep found in ``qurate/train`` (owned by another engineer this session): each a
strict xfail, so the fix turns it into a failure to remove the marker."""

from __future__ import annotations

from pathlib import Path

import pytest

from qurate.contract.files import write_manifest
from qurate.contract.schema import rows_to_table
from qurate.contract.stagedir import write_table
from qurate.errors import BadInputError

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


@pytest.mark.xfail(
    strict=True,
    raises=BadInputError,
    reason="train/data.py holds out rows i % 100 == 99 of a lone shard for eval, so a stage "
    "of < 100 documents in one shard (a small `qurate mix` output) has no eval row and fails "
    "with 'no text to train on ... found no non-empty document', which is not true",
)
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
    assert train_config(cfg).steps == 1
