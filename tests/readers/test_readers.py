"""Every input record becomes a document or a reject with a reason; bad paths fail early."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from qurate.errors import BadInputError
from qurate.readers.inputs import InputReader, list_inputs


def read_all(paths, **kwargs):
    reader = InputReader(list_inputs(paths), **kwargs)
    return list(reader.run(None, 0, 1))


def reason(doc):
    return doc.metadata.get("reject_reason")


def test_jsonl_variants_keep_ids_map_fields_and_derive_stable_ids(tmp_path: Path):
    rows = [
        {"id": "a", "text": "hello world", "source": "web", "url": "http://x"},
        {"text": "no id here", "domain": "news"},
    ]
    body = "".join(json.dumps(r) + "\n" for r in rows).encode()
    (tmp_path / "plain.jsonl").write_bytes(body)
    (tmp_path / "gz.jsonl.gz").write_bytes(gzip.compress(body))
    (tmp_path / "zst.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(body))
    for name in ("plain.jsonl", "gz.jsonl.gz", "zst.jsonl.zst"):
        docs = read_all([tmp_path / name])
        assert [d.text for d in docs] == ["hello world", "no id here"]
        assert docs[0].id == "a"
        assert docs[0].metadata["source"] == "web"
        assert docs[0].metadata["meta"] == {"url": "http://x"}
        assert docs[1].metadata["domain"] == "news"
        assert docs[1].metadata["source"] == name.split(".")[0]
        assert not any(reason(d) for d in docs)
    again = read_all([tmp_path / "plain.jsonl"])
    assert again[1].id == read_all([tmp_path / "plain.jsonl"])[1].id != ""


def test_bad_records_are_rejects_with_file_and_line(tmp_path: Path):
    p = tmp_path / "bad.jsonl"
    p.write_bytes(
        b'{"id": "ok", "text": "fine text"}\n'
        b'{"id": "broken", "text": "no closing\n'
        b'{"id": "bytes", "text": "caf\xe9"}\n'
        b'{"id": "empty", "text": "   \\n  "}\n'
        b'{"id": "missing", "body": "wrong field"}\n'
        b'{"id": "type", "text": 42}\n'
        b'{"id": "qual", "text": "typed", "quality": "high"}\n'
        b"[1, 2, 3]\n"
        b'{"id": "nul", "text": "\\u0000\\u0000\\u0000\\u0000"}\n'
    )
    docs = read_all([p], max_chars=100)
    got = {
        d.id if reason(d) not in ("malformed_json", "invalid_utf8") else reason(d): reason(d)
        for d in docs
    }
    assert len(docs) == 9  # nothing lost
    assert got["ok"] is None
    assert got["malformed_json"] == "malformed_json"
    assert got["invalid_utf8"] == "invalid_utf8"
    assert got["empty"] == "empty"
    assert got["missing"] == "missing_text"
    assert got["type"] == "bad_type"
    assert got["qual"] == "bad_type"
    assert got["nul"] == "binary"
    details = {reason(d): d.metadata.get("reject_detail", "") for d in docs if reason(d)}
    assert f"{p}:2" in details["malformed_json"]
    assert f"{p}:3" in details["invalid_utf8"]
    assert "no 'text' field" in details["missing_text"]


def test_huge_document_is_rejected_not_crashing(tmp_path: Path):
    p = tmp_path / "big.jsonl"
    big = "word " * (10 * 1024 * 1024)  # 50 MB of text
    p.write_text(json.dumps({"id": "big", "text": big}) + "\n")
    (doc,) = read_all([p], max_chars=1_000_000)
    assert reason(doc) == "too_long"
    assert len(doc.text) == len(big)  # kept whole in rejects, not truncated


def test_parquet_and_text_folders(tmp_path: Path):
    table = pa.table(
        {
            "id": ["p1", "p2"],
            "content": ["first doc", "second doc"],
            "lang": ["en", "en"],
            "extra": [1, 2],
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    docs = read_all([tmp_path / "t.parquet"], text_key="content")
    assert [d.id for d in docs] == ["p1", "p2"]
    assert docs[0].metadata["lang"] == "en" and docs[0].metadata["meta"] == {"extra": 1}
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_text("# Title\n\nBody text.")
    (folder / "sub" / "b.txt").write_text("Another note.")
    (folder / "ignored.bin").write_bytes(b"\x00\x01")
    docs = read_all([folder])
    assert sorted(d.id for d in docs) == ["notes/a.md", "notes/sub/b.txt"]


def test_unusable_paths_fail_before_work_with_one_line(tmp_path: Path):
    with pytest.raises(BadInputError, match="no such file"):
        list_inputs([tmp_path / "nope.jsonl"])
    trunc = tmp_path / "trunc.parquet"
    pq.write_table(pa.table({"text": ["x" * 1000] * 100}), trunc)
    trunc.write_bytes(trunc.read_bytes()[:300])
    with pytest.raises(BadInputError, match="corrupt Parquet"):
        list_inputs([trunc])
    with pytest.raises(BadInputError, match="unknown input format"):
        (tmp_path / "x.csvx").write_text("a")
        list_inputs([tmp_path / "x.csvx"])
    missing_col = tmp_path / "nocol.parquet"
    pq.write_table(pa.table({"body": ["x"]}), missing_col)
    with pytest.raises(BadInputError, match="no 'text' column"):
        read_all([missing_col])


def test_warc_html_is_extracted(tmp_path: Path):
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    paragraphs = "".join(
        f"<p>Paragraph {i} explains how rivers carve valleys over thousands of years of erosion.</p>"
        for i in range(6)
    )
    html = f"<html><body><nav>Home | About</nav><article><h1>Rivers</h1>{paragraphs}</article></body></html>"
    path = tmp_path / "crawl.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body, ctype in (
            ("http://a.example/rivers", html, "text/html"),
            ("http://a.example/img.png", "PNG", "image/png"),
        ):
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.0")
            rec = writer.create_warc_record(
                url, "response", payload=BytesIO(body.encode()), http_headers=headers
            )
            writer.write_record(rec)
    docs = read_all([path])
    assert len(docs) == 2
    page, image = docs
    assert "carve valleys" in page.text and "Home | About" not in page.text
    assert page.metadata["meta"]["url"] == "http://a.example/rivers"
    assert reason(image) == "not_html"
