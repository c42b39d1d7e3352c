"""Ids are unique in a stage directory: a repeated input id is renamed ``<id>~n`` and the
input's id kept in ``meta.original_id``; nothing is dropped for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import qurate.dedup.ids as ids_mod
from qurate.contract.executors import ExecutorConfig
from qurate.contract.shards import iter_rows
from qurate.curate.config import CurateConfig
from qurate.curate.pipeline import curate
from qurate.dedup.config import DedupConfig
from tests.conftest import GOOD_EN


def _two_shards(folder: Path) -> list[Path]:
    """Two files numbered the same way (ids 0, 1, 2), one id repeated inside a file."""
    folder.mkdir()
    a = [{"id": i, "text": GOOD_EN[i]} for i in range(3)]
    b = [{"id": i, "text": GOOD_EN[3 + i]} for i in range(3)]
    b.append({"id": 0, "text": "Too short."})  # a third "0", and a reject
    for name, rows in (("a.jsonl", a), ("b.jsonl", b)):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return sorted(folder.glob("*.jsonl"))


def _rows(out: Path) -> list[dict]:
    return list(iter_rows(out)) + list(iter_rows(out, rejects=True))


@pytest.mark.parametrize(("dedup", "workers"), [(True, 2), (False, 1)])
def test_repeated_ids_are_renamed_and_kept(tmp_path: Path, dedup: bool, workers: int):
    files = _two_shards(tmp_path / "in")
    cfg = CurateConfig() if dedup else CurateConfig(dedup=DedupConfig(exact=False, near=False))
    out = tmp_path / "out"
    result = curate(files, out, cfg, executor=ExecutorConfig(workers=workers), progress=False)
    rows = _rows(out)
    assert len(rows) == 7 == result.manifest["counts"]["in"]
    got = [r["id"] for r in rows]
    assert len(set(got)) == len(got)  # unique across kept and rejected
    by_text = {r["text"]: r for r in rows}
    assert by_text[GOOD_EN[0]]["id"] == "0"  # the first occurrence keeps its id
    assert by_text[GOOD_EN[3]]["id"] == "0~2"
    assert json.loads(by_text[GOOD_EN[3]]["meta"])["original_id"] == "0"
    assert by_text["Too short."]["id"] == "0~3"
    assert {by_text[GOOD_EN[4]]["id"], by_text[GOOD_EN[5]]["id"]} == {"1~2", "2~2"}
    assert all(r["reject_reason"] != "duplicate_id" for r in rows if "reject_reason" in r)
    assert result.manifest["renamed_ids"] == 4


def test_index_ranges_agree_and_a_hash_collision_renames_nothing(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    docs = tmp_path / "docs"
    docs.mkdir()
    pq.write_table(pa.table({"id": ["x", "y", "x"]}), docs / "00000.parquet")
    pq.write_table(pa.table({"id": ["y", "z"]}), docs / "00001.parquet")

    def renames(world: int, out: Path) -> set[tuple]:
        for rank in range(world):
            list(ids_mod.IdIndex(docs, out).run(None, rank, world))
        return {
            (r["task"], r["idx"], r["id"])
            for p in out.glob("*.parquet")
            for r in pq.read_table(p).to_pylist()
        }

    expected = {(0, 2, "x~2"), (1, 0, "y~2")}
    assert renames(1, tmp_path / "one") == expected
    assert renames(3, tmp_path / "three") == expected
    assert ids_mod.renamed_count(tmp_path / "three") == 2
    # Every id hashing alike: only equal strings are renamed.
    monkeypatch.setattr(ids_mod, "_hash", lambda names: ids_mod.np.zeros(len(names), "u8"))
    assert renames(2, tmp_path / "collide") == expected
