"""score apply killed while it removes its scratch (``_staging``, ``_parts``): the rerun
loses nothing (issue 12). The real kill -9 tests (tests/test_kill_more.py) cannot aim at a
cleanup that lasts milliseconds, so here the removal stops half-way, as a SIGKILL would."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qurate.contract.shards import ShardWriter, iter_rows, write_manifest
from qurate.score.config import ScoreConfig
from tests.conftest import GOOD_EN


class Killed(BaseException):
    pass


def _stage(root: Path) -> Path:
    sentences = [s.strip() + "." for t in GOOD_EN for s in t.split(".") if s.strip()]
    src = root / "in"
    with ShardWriter(src, rows_per_shard=10) as w:
        for i in range(30):
            text = " ".join(sentences[(i + k) % len(sentences)] for k in range(3))
            w.write({"id": f"d{i}", "text": text, "lang": "en", "source": "web"})
    write_manifest(src, stage="curate", config_hash="k", inputs=[], n_in=30, n_kept=30,
                   rejected_by_reason={})  # fmt: skip
    return src


def _rows(out: Path) -> tuple[list[str], list[str]]:
    def dump(rows):
        return sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)

    return dump(iter_rows(out)), dump(iter_rows(out, rejects=True))


@pytest.mark.parametrize("call", [1, 2], ids=["first removal", "second removal"])
def test_a_kill_while_apply_removes_its_scratch_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: int
) -> None:
    pytest.importorskip("torch")
    from qurate.llm.testing import cached_tiny_chat_model
    from qurate.score import apply as scoring

    cfg = ScoreConfig()
    cfg.perplexity.model = str(cached_tiny_chat_model())
    cfg.perplexity.device = "cpu"
    cfg.perplexity.min_language_docs = 2
    cfg.apply.keep_threshold = 0.3
    src = _stage(tmp_path)
    ref = scoring.apply(src, tmp_path / "ref", None, cfg, perplexity=True)
    assert ref["counts"]["kept"] and ref["counts"]["rejected"]

    out = tmp_path / "out"
    real, calls = shutil.rmtree, []

    def killed_half_way(path, *args, **kwargs):
        p = Path(path)
        if p.parent == out and p.name.lstrip(".").startswith((scoring.STAGING, scoring.PARTS)):
            calls.append(p.name)
            if len(calls) == call:  # one file gone, then the process is
                min(f for f in p.rglob("*") if f.is_file()).unlink()
                raise Killed
        return real(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", killed_half_way)
    with pytest.raises(Killed):
        scoring.apply(src, out, None, cfg, perplexity=True)
    monkeypatch.undo()
    m = scoring.apply(src, out, None, cfg, perplexity=True)
    assert m["counts"] == ref["counts"]
    assert _rows(out) == _rows(tmp_path / "ref")
    assert not [p.name for p in out.iterdir() if p.name.startswith((".", "_"))]
