"""The JSONL readers of `synth filter` / `post data` and of `ablate` / `eval` on the same
hostile files the curate reader handles: BOM, .zst, damaged streams, huge integers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import zstandard

from qurate.ablate.inputs import read_rows
from qurate.errors import BadInputError
from qurate.synth.samples import iter_records_or_problems

ROWS = [{"text": f"document number {i}", "prompt": f"p{i}"} for i in range(40)]
BODY = b"".join(json.dumps(r).encode() + b"\n" for r in ROWS)


def _files(tmp_path: Path) -> dict[str, Path]:
    out = {
        "bom": tmp_path / "bom.jsonl",
        "zst": tmp_path / "a.jsonl.zst",
        "cut_gz": tmp_path / "cut.jsonl.gz",
        "bigint": tmp_path / "big.jsonl",
    }
    out["bom"].write_bytes(b"\xef\xbb\xbf" + BODY)
    out["zst"].write_bytes(zstandard.ZstdCompressor().compress(BODY))
    gz = gzip.compress(BODY)
    out["cut_gz"].write_bytes(gz[: len(gz) * 2 // 3])
    out["bigint"].write_bytes(b'{"text": "x", "n": 1' + b"0" * 5000 + b"}\n")
    return out


def test_synth_and_post_reader(tmp_path: Path):
    # Before: a BOM made line 1 a malformed row; a .zst file was read as plain bytes (every
    # line malformed); a cut .gz refused the whole file.
    f = _files(tmp_path)
    for name in ("bom", "zst"):
        got = list(iter_records_or_problems(f[name]))
        assert [rec for _, rec, _ in got] == ROWS, name
    got = list(iter_records_or_problems(f["cut_gz"]))
    good = [rec for _, rec, _ in got if rec is not None]
    assert 0 < len(good) < len(ROWS) and good == ROWS[: len(good)]
    problem = got[-1][2]
    assert got[-1][1] is None and "at compressed byte" in problem and "unreadable" in problem


def test_ablate_and_eval_reader(tmp_path: Path):
    # Before: BOM -> "not valid JSON", .zst refused, a cut .gz an EOFError traceback, a huge
    # integer a ValueError traceback.
    f = _files(tmp_path)
    for name in ("bom", "zst"):
        rows, facts = read_rows(f[name])
        assert [r["text"] for r in rows] == [r["text"] for r in ROWS] and facts["kind"] == "jsonl"
    with pytest.raises(BadInputError, match="at compressed byte"):
        read_rows(f["cut_gz"])
    with pytest.raises(BadInputError, match=r"big.jsonl:1: not valid JSON"):
        read_rows(f["bigint"])
