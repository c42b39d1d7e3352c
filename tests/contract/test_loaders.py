"""The contract travels: a stage directory loads as it is in DuckDB, pyarrow, polars and
Hugging Face `datasets`, and shards of schema v1 (`scores` as a map) are still read."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from qurate.contract.schema import SCHEMA_VERSION, SCHEMA_VERSION_KEY, rows_to_table
from qurate.contract.shards import ShardWriter, iter_rows, write_manifest
from qurate.report.stats import run_sql

ROWS = [
    {"id": "a", "text": "alpha", "scores": {"educational_value": 2.5, "fluency": 4.0},
     "quality": 0.7, "lang": "en"},
    {"id": "b", "text": "beta", "scores": None, "quality": None, "lang": "de"},
    {"id": "c", "text": "gamma", "scores": {}, "quality": 0.1, "lang": "en"},
]  # fmt: skip


@pytest.fixture
def stage(tmp_path):
    d = tmp_path / "stage"
    with ShardWriter(d, rows_per_shard=2) as w:
        for r in ROWS:
            w.write(r)
    write_manifest(d, stage="score.apply", config_hash="t", inputs=[], n_in=3, n_kept=3,
                   rejected_by_reason={})  # fmt: skip
    return d


def _fluency(rows):
    return {r["id"]: {s["name"]: s["value"] for s in r["scores"] or []} for r in rows}


def test_duckdb(stage):
    rows = duckdb.sql(
        f"SELECT id, map_from_entries(scores)['fluency'] AS f "
        f"FROM read_parquet('{stage}/*.parquet') ORDER BY id"
    ).fetchall()
    assert rows == [("a", 4.0), ("b", None), ("c", None)]


def test_pyarrow(stage):
    table = ds.dataset(stage, format="parquet", exclude_invalid_files=True).to_table()
    assert table.num_rows == 3 and table.schema.field("scores").type.value_type.names == [
        "name",
        "value",
    ]
    assert _fluency(table.sort_by("id").to_pylist())["a"]["fluency"] == 4.0


def test_polars(stage):
    pl = pytest.importorskip("polars")
    df = pl.read_parquet(str(stage / "*.parquet")).sort("id")
    assert df.height == 3 and _fluency(df.to_dicts())["a"] == {
        "educational_value": 2.5,
        "fluency": 4.0,
    }


def test_hf_datasets(stage, tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    dset = datasets.load_dataset(
        "parquet",
        data_files=str(stage / "part-*.parquet"),
        split="train",
        cache_dir=str(tmp_path / "hf-cache"),
    )
    rows = sorted(dset.to_list(), key=lambda r: r["id"])
    assert len(rows) == 3 and _fluency(rows)["a"]["educational_value"] == 2.5


def test_qurate_stats_shows_scores_as_a_map(stage):
    cols, rows = run_sql(stage, "SELECT id, scores['fluency'] AS f FROM docs ORDER BY id")
    assert rows == [("a", 4.0), ("b", None), ("c", None)]


def test_v1_shards_are_read_and_upgraded(tmp_path):
    """A stage written by an older qurate (scores as map<string, float>, version 1)."""
    d = tmp_path / "v1"
    d.mkdir()
    v2 = rows_to_table(ROWS)
    v1_scores = pa.array(
        [list((r["scores"] or {}).items()) if r["scores"] is not None else None for r in ROWS],
        pa.map_(pa.string(), pa.float32()),
    )
    i = v2.schema.get_field_index("scores")
    v1 = v2.set_column(i, pa.field("scores", v1_scores.type), v1_scores)
    pq.write_table(v1.replace_schema_metadata({SCHEMA_VERSION_KEY: b"1"}), d / "part-00000.parquet")
    write_manifest(d, stage="old", config_hash="t", inputs=[], n_in=3, n_kept=3,
                   rejected_by_reason={})  # fmt: skip
    got = {r["id"]: r["scores"] for r in iter_rows(d)}
    assert got == {"a": {"educational_value": 2.5, "fluency": 4.0}, "b": None, "c": {}}
    cols, rows = run_sql(d, "SELECT id, scores['fluency'] FROM docs ORDER BY id")
    assert rows[0] == ("a", 4.0)
    assert SCHEMA_VERSION == "2"
