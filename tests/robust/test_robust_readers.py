"""Hostile input files the readers must turn into rejects with a reason, never a crash.

Each case was found by running `qurate curate` on it (the robustness sweep): before the fix
it failed the run or gave a reason that said the wrong thing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from qurate.contract.rejects import REJECT_DETAIL, REJECT_REASON
from qurate.readers.inputs import InputReader, scan_inputs

GOOD = "A plain sentence about rivers, with enough words to be a document. " * 3


def read(paths: list[Path]) -> list:
    return list(InputReader(scan_inputs(paths).files).run(None, 0, 1))


def test_an_integer_python_refuses_is_one_malformed_line_not_a_failed_task(tmp_path: Path):
    # Valid JSON, but Python's int() refuses more than 4300 digits: the task used to fail.
    f = tmp_path / "a.jsonl"
    big = "1" + "0" * 5000
    f.write_text(f'{{"text": "{GOOD}", "n": {big}}}\n{json.dumps({"text": GOOD})}\n')
    docs = read([f])
    assert len(docs) == 2
    assert docs[0].metadata[REJECT_REASON] == "malformed_json"
    assert "a.jsonl:1" in docs[0].metadata[REJECT_DETAIL]
    assert REJECT_REASON not in docs[1].metadata


def test_a_utf8_bom_before_the_first_line_is_not_data(tmp_path: Path):
    f = tmp_path / "bom.jsonl"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps({"text": GOOD}).encode() + b"\n")
    t = tmp_path / "notes"
    t.mkdir()
    (t / "a.txt").write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    docs = read([f, t])
    assert [REJECT_REASON in d.metadata for d in docs] == [False, False]
    assert docs[0].text == GOOD and docs[1].text == GOOD


def test_null_text_is_named_null_not_missing(tmp_path: Path):
    f = tmp_path / "n.jsonl"
    f.write_text('{"text": null, "x": 1}\n{"x": 1}\n')
    docs = read([f])
    assert [d.metadata[REJECT_REASON] for d in docs] == ["missing_text", "missing_text"]
    assert docs[0].metadata[REJECT_DETAIL].endswith("'text' is null")
    assert "no 'text' field" in docs[1].metadata[REJECT_DETAIL]


def _stage_dir(path: Path) -> None:
    path.mkdir(parents=True)
    pq.write_table(pa.table({"id": ["k1"], "text": [GOOD]}), path / "part-00000-00000.parquet")
    (path / "rejects").mkdir()
    pq.write_table(pa.table({"id": ["r1"], "text": ["junk"]}), path / "rejects" / "part-0.parquet")
    (path / "stats").mkdir()
    (path / "stats" / "1-filter.json").write_text('[\n  {"name": "x"}\n]\n')
    (path / "manifest.json").write_text(json.dumps({"stage": "curate"}, indent=2))


def test_a_stage_directory_in_an_input_folder_gives_only_its_kept_documents(tmp_path: Path):
    # Walked as a plain folder, a curate output fed its manifest and stats lines to the JSONL
    # reader (hundreds of malformed_json rejects) and its rejects back in as documents.
    root = tmp_path / "runs"
    _stage_dir(root / "curated")
    (root / "more.jsonl").write_text(json.dumps({"text": GOOD + " more"}) + "\n")
    plan = scan_inputs([root])
    assert [Path(f.path).name for f in plan.files] == ["part-00000-00000.parquet", "more.jsonl"]
    skipped = {Path(s.path).name for s in plan.skipped}
    assert skipped == {"rejects", "stats", "manifest.json"}
    docs = read([root])
    assert [d.id for d in docs][0] == "k1" and len(docs) == 2
    assert not any(REJECT_REASON in d.metadata for d in docs)
    # the stage directory given directly is the same
    assert [d.id for d in read([root / "curated"])] == ["k1"]


def test_an_unfinished_stage_directory_is_still_a_plain_folder(tmp_path: Path):
    d = tmp_path / "partial"
    _stage_dir(d)
    (d / "manifest.json").unlink()
    shutil.rmtree(d / "stats")
    names = sorted(Path(f.path).name for f in scan_inputs([d]).files)
    assert names == ["part-0.parquet", "part-00000-00000.parquet"]
