"""A run killed while it writes its own tokenizer directory still resumes (issue 12).

The real kill -9 tests (tests/test_kill_more.py) cannot aim at a write that lasts a few
milliseconds, so this one stops the copy half-way, as a SIGKILL would: nothing after it runs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from train_builders import small_cfg

from qurate.train.api import train_config


class Killed(BaseException):
    pass


def _losses(run: Path) -> list[float]:
    return [json.loads(x)["loss"] for x in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_kill_while_the_tokenizer_is_copied_leaves_a_resumable_run(
    shards: Path, tokenizer_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full, cut = tmp_path / "full", tmp_path / "cut"
    train_config(small_cfg(shards, full, tokenizer_dir))

    def dies_half_way(src, dst, *args, **kwargs):
        data = Path(src).read_bytes()
        Path(dst).write_bytes(data[: len(data) // 2])
        raise Killed

    monkeypatch.setattr(shutil, "copyfile", dies_half_way)
    with pytest.raises(Killed):
        train_config(small_cfg(shards, cut, tokenizer_dir))
    monkeypatch.undo()
    assert not (cut / "tokenizer").exists()  # no half tokenizer for --resume to take
    train_config(small_cfg(shards, cut, tokenizer_dir), resume=True)
    assert _losses(cut) == _losses(full)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        assert (cut / "tokenizer" / name).read_bytes() == (tokenizer_dir / name).read_bytes()
