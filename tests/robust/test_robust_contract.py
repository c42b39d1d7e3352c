"""Stage directories and configs under hostile use: an empty result, a directory as a file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from qurate.contract.config import load_yaml
from qurate.contract.files import write_manifest
from qurate.contract.schema import DOC_SCHEMA
from qurate.dedup.decontam import build_decontam_index
from qurate.errors import BadInputError, ConfigError


def test_a_stage_that_keeps_nothing_still_loads_in_duckdb_and_polars(tmp_path: Path):
    # Before: no part-*.parquet at all, so the README's `FROM 'out/curated/*.parquet'` and
    # `pl.read_parquet` failed on a valid, finished stage ("No files found").
    out = tmp_path / "curated"
    out.mkdir()
    write_manifest(
        out, stage="curate", config_hash="x", inputs=[], n_in=0, n_kept=0, rejected_by_reason={}
    )
    assert duckdb.sql(f"SELECT count(*) FROM '{out}/*.parquet'").fetchall() == [(0,)]
    frame = pl.read_parquet(f"{out}/*.parquet")
    assert frame.height == 0 and frame.columns == DOC_SCHEMA.names


def test_the_empty_shard_is_only_for_document_stages_without_shards(tmp_path: Path):
    models = tmp_path / "raters"
    models.mkdir()
    write_manifest(
        models,
        stage="score.distill",
        config_hash="x",
        inputs=[],
        n_in=0,
        n_kept=0,
        rejected_by_reason={},
    )
    assert not list(models.glob("*.parquet"))
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "part-00003.parquet").write_bytes(b"")  # a stage's own shard stays alone
    write_manifest(
        mixed, stage="mix", config_hash="x", inputs=[], n_in=0, n_kept=0, rejected_by_reason={}
    )
    assert [p.name for p in mixed.glob("*.parquet")] == ["part-00003.parquet"]


def test_an_empty_benchmark_file_is_a_one_line_error(tmp_path: Path):
    # First: IndexError in the n-gram de-duplication, the run's only message a traceback file.
    # Then an empty index that matched nothing, so curate reported no contamination as if it
    # had checked; now the file is named (tests/dedup/test_decontam.py has the messages).
    bench = tmp_path / "bench.jsonl"
    bench.write_text("")
    short = tmp_path / "short.jsonl"
    short.write_text(json.dumps({"text": "too short to count"}) + "\n")
    for f in (bench, short):
        with pytest.raises(BadInputError):
            build_decontam_index([f], tmp_path / f"{f.stem}.npz")


def test_a_directory_given_as_config_says_so(tmp_path: Path):
    with pytest.raises(ConfigError, match="is a directory, not a config file"):
        load_yaml(tmp_path)


def test_a_key_given_twice_in_a_config_is_an_error_not_a_silent_override(tmp_path: Path):
    # Before: PyYAML kept the second `curate:` block, so `dedup: {bands: 0}` vanished silently.
    cfg = tmp_path / "p.yaml"
    cfg.write_text("curate: {dedup: {bands: 0}}\ncurate: {max_chars: 5}\n")
    with pytest.raises(ConfigError, match=r"p.yaml:2: .*'curate' is given twice"):
        load_yaml(cfg)
    cfg.write_text("curate:\n  max_chars: 5\n  text_key: a\n  max_chars: 6\n")
    with pytest.raises(ConfigError, match="'max_chars' is given twice"):
        load_yaml(cfg)
    cfg.write_text("base: &b {max_chars: 5}\ncurate:\n  <<: *b\n  text_key: t\n")  # merges stay
    assert load_yaml(cfg)["curate"] == {"max_chars": 5, "text_key": "t"}


def test_benchmark_files_read_like_inputs(tmp_path: Path):
    # Before: a truncated .zst benchmark read as 0 records (decontaminating nothing, silently),
    # a BOM was "not valid JSON", a huge integer a ValueError traceback.
    import gzip

    import zstandard

    from qurate.dedup.decontam import DecontamConfig, read_benchmark
    from qurate.errors import BadInputError

    line = json.dumps({"id": "b1", "text": "a benchmark question with enough words"}) + "\n"
    two = tmp_path / "two.jsonl.zst"  # two frames, both read
    c = zstandard.ZstdCompressor()
    two.write_bytes(c.compress(line.encode()) + c.compress(line.replace("b1", "b2").encode()))
    assert [rid for rid, _ in read_benchmark(two, DecontamConfig())] == ["b1", "b2"]
    cut = tmp_path / "cut.jsonl.zst"
    cut.write_bytes(c.compress((line * 50).encode())[:-7])
    with pytest.raises(BadInputError, match="truncated"):
        list(read_benchmark(cut, DecontamConfig()))
    cut_gz = tmp_path / "cut.jsonl.gz"  # gzip goes through the same damage-aware reader
    cut_gz.write_bytes(gzip.compress((line * 50).encode())[:-9])
    with pytest.raises(BadInputError, match="cut.jsonl.gz: truncated"):
        list(read_benchmark(cut_gz, DecontamConfig()))
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + line.encode())
    assert [rid for rid, _ in read_benchmark(bom, DecontamConfig())] == ["b1"]
    big = tmp_path / "big.jsonl"
    big.write_text('{"text": "x", "n": 1' + "0" * 5000 + "}\n")
    with pytest.raises(BadInputError, match=r"big.jsonl:1: not valid JSON"):
        list(read_benchmark(big, DecontamConfig()))
