"""Stage commands fed hostile rows: each bad row is a reject with a reason, the rest goes on."""

from __future__ import annotations

import json
from pathlib import Path

from qurate.contract.shards import iter_rows
from qurate.post.data import build_chat_data

CHAT = {
    "messages": [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris is the capital of France."},
    ]
}


def test_post_data_keeps_a_file_with_a_line_that_is_not_an_object(tmp_path: Path):
    # Before: "chats.jsonl:1: a row must be a JSON object" refused the whole file.
    f = tmp_path / "chats.jsonl"
    f.write_text("[1, 2]\n" + json.dumps(CHAT) + "\nnot json\n" + '{"text": null}\n')
    r = build_chat_data([f], tmp_path / "sft")
    assert (r.n_in, r.kept) == (4, 1)
    assert r.rejected == {"malformed_row": 2, "bad_roles": 1}
    rejects = {x["reject_detail"] for x in iter_rows(tmp_path / "sft", rejects=True)}
    assert any(d.endswith("chats.jsonl:1: a row must be a JSON object") for d in rejects)
    assert "no messages (or prompt/response) field" in rejects


def _scored(path: Path) -> Path:
    from qurate.contract.files import write_manifest
    from qurate.contract.schema import rows_to_table
    from qurate.contract.stagedir import write_table

    rows = [
        {"id": f"d{i}", "text": "words " * 50, "domain": "math", "quality": 0.5, "n_tokens": 50}
        for i in range(4)
    ]
    write_table(path / "part-00000.parquet", rows_to_table(rows))
    write_manifest(
        path,
        stage="score.apply",
        config_hash="x",
        inputs=[],
        n_in=4,
        n_kept=4,
        rejected_by_reason={},
    )
    return path


def test_mix_refuses_the_same_input_twice(tmp_path: Path):
    # Before: `qurate mix s s` doubled the supply of s without a word (in = 2x its documents).
    import pytest

    from qurate.errors import BadInputError
    from qurate.mixers.inputs import input_shards

    s = _scored(tmp_path / "scored")
    assert len(input_shards([s])) == 1
    with pytest.raises(BadInputError, match="given twice"):
        input_shards([s, tmp_path / "." / "scored"])


def test_a_long_context_stage_cannot_be_named_dots():
    # Before: name ".." wrote the long-context shards over the mix's own part-00000.parquet
    # (854 rows under a manifest that counted 52).
    import pytest
    from pydantic import ValidationError

    from qurate.mixers.config import LongContextStage

    for bad in (".", ".."):
        with pytest.raises(ValidationError, match="not a sub-directory name"):
            LongContextStage(name=bad, max_tokens=100)
    assert LongContextStage(name="ctx.4k", max_tokens=100).name == "ctx.4k"


def test_score_apply_refuses_a_raters_json_without_raters(tmp_path: Path):
    # Before: `{"dimensions": {}}` scored 126 documents with nothing, then
    # "error: ValueError: zip() argument 2 is shorter than argument 1" (exit 1).
    import pytest

    from qurate.errors import BadInputError
    from qurate.score.raters import Raters

    with pytest.raises(BadInputError, match="no such raters directory"):
        Raters(tmp_path / "missing")  # was: "missing: no raters.json"
    for meta in ('{"dimensions": {}}', "[1]", '{"max_chars": 10}', '{"dimensions": {"a": 1}}'):
        (tmp_path / "raters.json").write_text(meta)
        with pytest.raises(BadInputError, match="not a raters.json written by"):
            Raters(tmp_path)


def test_report_skips_a_manifest_of_another_shape(tmp_path: Path):
    # Before: a manifest whose counts were a string made `qurate report` fail with
    # "AttributeError: 'str' object has no attribute 'get'".
    from qurate.report.gather import discover_stages

    good = _scored(tmp_path / "run" / "scored")
    for name, text in (("odd", '{"stage": "x", "counts": "x"}'), ("list", "[1]"), ("bad", "{")):
        (tmp_path / "run" / name).mkdir()
        (tmp_path / "run" / name / "manifest.json").write_text(text)
    assert [d for d, _ in discover_stages(tmp_path / "run")] == [good]


def test_qurate_run_checks_its_run_directory_and_preset_before_curating(tmp_path: Path):
    # Before: run.out naming a file gave a NotADirectoryError traceback file, and an unknown
    # train.preset was found only after curate (and score, and mix) had run.
    import pytest

    from qurate.config import PipelineConfig
    from qurate.errors import BadInputError, ConfigError
    from qurate.run import run_pipeline

    doc = tmp_path / "a.jsonl"
    doc.write_text(json.dumps({"text": "x"}) + "\n")
    afile = tmp_path / "afile"
    afile.write_text("x")
    cfg = PipelineConfig.model_validate({"run": {"inputs": [str(doc)], "out": str(afile)}})
    with pytest.raises(BadInputError, match="exists and is not a directory"):
        run_pipeline(cfg, say=lambda *a: None, progress=False)
    out = tmp_path / "run"
    cfg = PipelineConfig.model_validate(
        {"run": {"inputs": [str(doc)], "out": str(out)}, "train": {"preset": "nosuch"}}
    )
    with pytest.raises(ConfigError, match="train.preset: unknown preset 'nosuch'"):
        run_pipeline(cfg, say=lambda *a: None, progress=False)
    assert not (out / "curated").exists()


def test_mix_into_a_path_with_a_quote(tmp_path: Path):
    # Before: "mix: DuckDB failed: Parser Error: unterminated string literal" (the scratch
    # path went into SQL unquoted).
    from qurate.contract.shards import count_rows
    from qurate.mixers import mix
    from qurate.mixers.config import MixConfig

    s = _scored(tmp_path / "it's scored")
    out = tmp_path / "it's mixed"
    mix([s], out, MixConfig(budget_tokens=150))
    assert count_rows(out) > 0
