"""The data contract: pinned schema, atomic shards, manifest invariant, DuckDB stats."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from qurate.contract.schema import DOC_SCHEMA, REJECT_SCHEMA, SCHEMA_VERSION, schema_version
from qurate.contract.shards import (
    ShardWriter,
    iter_rows,
    read_manifest,
    shard_paths,
    write_manifest,
)
from qurate.errors import BadInputError
from qurate.report import stats as st


def make_stage(d: Path) -> None:
    with ShardWriter(d, rows_per_shard=2) as w:
        for i, lang in enumerate(["en", "en", "zh", "de", "en"]):
            w.write(
                {
                    "id": f"k{i}",
                    "text": "x" * (i + 1),
                    "lang": lang,
                    "n_chars": i + 1,
                    "n_tokens": i,
                    "scores": {"educational_value": 2.5},
                    "meta": {"url": f"u{i}"},
                }
            )
    with ShardWriter(d / "rejects", rejects=True) as w:
        w.write(
            {
                "id": "r0",
                "text": "dup",
                "lang": "en",
                "reject_reason": "duplicate",
                "stage": "dedup",
                "reject_detail": "k0",
            }
        )
        w.write({"id": "r1", "text": "bad", "reject_reason": "malformed_json", "stage": "ingest"})


def test_shards_are_pinned_zstd_and_versioned(tmp_path: Path):
    make_stage(tmp_path)
    paths = shard_paths(tmp_path)
    assert [p.name for p in paths] == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    for p in paths:
        assert pq.read_schema(p).remove_metadata().equals(DOC_SCHEMA.remove_metadata())
        assert schema_version(pq.read_schema(p)) == SCHEMA_VERSION
        assert pq.ParquetFile(p).metadata.row_group(0).column(0).compression == "ZSTD"
    (rej,) = shard_paths(tmp_path, rejects=True)
    assert pq.read_schema(rej).remove_metadata().equals(REJECT_SCHEMA.remove_metadata())
    rows = list(iter_rows(tmp_path))
    assert rows[0]["scores"] == {"educational_value": 2.5}
    assert not list(tmp_path.glob(".*tmp"))  # no temp files left behind


def test_manifest_refuses_lost_documents(tmp_path: Path):
    with pytest.raises(AssertionError, match="10 documents in but 7 kept"):
        write_manifest(
            tmp_path,
            stage="x",
            config_hash="h",
            inputs=[],
            n_in=10,
            n_kept=7,
            rejected_by_reason={"empty": 2},
        )
    m = write_manifest(
        tmp_path,
        stage="x",
        config_hash="h",
        inputs=["a"],
        n_in=10,
        n_kept=7,
        rejected_by_reason={"empty": 2, "duplicate": 1},
    )
    assert (
        read_manifest(tmp_path)["counts"]
        == m["counts"]
        == {"in": 10, "kept": 7, "rejected": 3, "rejected_by_reason": {"duplicate": 1, "empty": 2}}
    )


def test_stats_cover_kept_and_rejects(tmp_path: Path):
    make_stage(tmp_path)
    assert st.summary(tmp_path) == {"kept": 5, "rejected": 2, "in": 7, "chars": 15, "tokens": 10}
    cols, rows = st.stats_by(tmp_path, "lang")
    by = {r[0]: r for r in rows}
    assert cols[:3] == ["lang", "kept", "rejected"]
    assert by["en"][1:3] == (3, 1) and by["zh"][1:3] == (1, 0) and by["(none)"][1:3] == (0, 1)
    cols, rows = st.stats_by(tmp_path, "reject_reason")
    assert {r[0]: r[1] for r in rows} == {"duplicate": 1, "malformed_json": 1}
    cols, rows = st.run_sql(
        tmp_path, "SELECT reject_detail FROM rejects WHERE reject_reason = 'duplicate'"
    )
    assert rows == [("k0",)]
    cols, rows = st.run_sql(tmp_path, "SELECT scores['educational_value'] FROM docs LIMIT 1")
    assert rows == [(2.5,)]
    with pytest.raises(BadInputError, match="--sql"):
        st.run_sql(tmp_path, "SELECT nope FROM docs")
    with pytest.raises(BadInputError, match="choose one of"):
        st.stats_by(tmp_path, "colour")


def test_stats_on_a_directory_without_shards(tmp_path: Path):
    with pytest.raises(BadInputError, match="no Parquet shards"):
        st.summary(tmp_path)
    with pytest.raises(BadInputError, match="no such directory"):
        st.summary(tmp_path / "missing")
