"""Damaged compressed inputs: the documents before the damage are kept, the damage is one
reject row naming the file and byte offset, and nothing else is lost or raised."""

from __future__ import annotations

import gzip
import json
import os
from io import BytesIO
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from qurate.readers.inputs import DAMAGED, InputReader, list_inputs


def read_all(paths, **kwargs):
    return list(InputReader(list_inputs(paths), **kwargs).run(None, 0, 1))


def reason(doc):
    return doc.metadata.get("reject_reason")


def lines(n: int, start: int = 0) -> bytes:
    # Random hex text: it barely compresses, so a cut lands between many lines.
    return b"".join(
        json.dumps({"id": f"d{i}", "text": os.urandom(200).hex()}).encode() + b"\n"
        for i in range(start, start + n)
    )


def split(docs):
    good = [d for d in docs if not reason(d)]
    bad = [d for d in docs if reason(d)]
    return good, bad


def test_truncated_zst_keeps_earlier_frames_and_names_the_offset(tmp_path: Path):
    frames = [zstandard.ZstdCompressor().compress(lines(5, 5 * k)) for k in range(4)]
    whole = b"".join(frames)
    cut = len(whole) - len(frames[-1]) // 2
    p = tmp_path / "cut.jsonl.zst"
    p.write_bytes(whole[:cut])
    good, bad = split(read_all([p]))
    assert [d.id for d in good] == [f"d{i}" for i in range(15)]
    (damage,) = bad
    assert reason(damage) == DAMAGED
    detail = damage.metadata["reject_detail"]
    assert str(p) in detail and "truncated" in detail and f"of {cut:,}" in detail
    assert "after line 15" in detail


def test_truncated_single_frame_zst_is_a_reject_not_silence(tmp_path: Path):
    body = b"".join(json.dumps({"id": i, "text": "x" * 50}).encode() + b"\n" for i in range(20))
    data = zstandard.ZstdCompressor().compress(body)
    p = tmp_path / "one.jsonl.zst"
    p.write_bytes(data[: len(data) // 2])
    docs = read_all([p])
    assert len(docs) == 1 and reason(docs[0]) == DAMAGED


def test_truncated_gzip_keeps_what_decompressed(tmp_path: Path):
    body = lines(40)
    data = gzip.compress(body)
    p = tmp_path / "cut.jsonl.gz"
    p.write_bytes(data[: int(len(data) * 0.6)])
    good, bad = split(read_all([p]))
    assert 10 < len(good) < 40
    assert [d.id for d in good] == [f"d{i}" for i in range(len(good))]
    (damage,) = bad
    assert reason(damage) == DAMAGED
    assert str(p) in damage.metadata["reject_detail"]
    # The partial line at the cut is the reject's text, for inspection.
    assert damage.text == "" or damage.text.startswith(f'{{"id": "d{len(good)}"')
    assert f"after line {len(good)}" in damage.metadata["reject_detail"]


def test_not_gzip_and_corrupt_gzip_are_rejects_at_their_offset(tmp_path: Path):
    fake = tmp_path / "fake.jsonl.gz"
    fake.write_bytes(lines(3))  # plain JSONL under a .gz name
    (damage,) = read_all([fake])
    assert reason(damage) == DAMAGED
    assert "not a gzip stream" in damage.metadata["reject_detail"]
    assert "compressed byte 0 " in damage.metadata["reject_detail"]

    members = gzip.compress(lines(5)) + gzip.compress(lines(5, 5))
    bad = bytearray(members)
    first = len(gzip.compress(lines(5)))
    for i in range(first + 30, first + 60):
        bad[i] ^= 0xFF
    p = tmp_path / "flipped.jsonl.gz"
    p.write_bytes(bytes(bad))
    good, rejects = split(read_all([p]))
    assert [d.id for d in good][:5] == [f"d{i}" for i in range(5)]  # the intact member
    assert [reason(d) for d in rejects][-1] == DAMAGED


def test_multi_member_gzip_and_multi_frame_zst_read_whole(tmp_path: Path):
    first, second = lines(4), lines(4, 4)
    body = first + second
    gz = tmp_path / "multi.jsonl.gz"
    gz.write_bytes(gzip.compress(first) + gzip.compress(second))
    zs = tmp_path / "multi.jsonl.zst"
    zs.write_bytes(
        zstandard.ZstdCompressor().compress(first) + zstandard.ZstdCompressor().compress(second)
    )
    assert [d.id for d in read_all([gz])] == [f"d{i}" for i in range(8)]
    assert b"".join(gzip.decompress(gz.read_bytes()).splitlines(keepends=True)) == body
    assert [d.id for d in read_all([zs])] == [f"d{i}" for i in range(8)]


def _warc(path: Path, n: int) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for i in range(n):
            body = f"<html><body><p>{os.urandom(400).hex()}</p></body></html>"
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.0")
            writer.write_record(
                writer.create_warc_record(
                    f"http://e.example/{i}",
                    "response",
                    payload=BytesIO(body.encode()),
                    http_headers=headers,
                )
            )


def test_truncated_warc_gz_keeps_earlier_records(tmp_path: Path):
    p = tmp_path / "crawl.warc.gz"
    _warc(p, 4)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 300])
    docs = read_all([p])
    assert len(docs) == 4  # three records and the damage
    assert [d.metadata["meta"]["url"] for d in docs[:3]] == [
        f"http://e.example/{i}" for i in range(3)
    ]
    assert reason(docs[-1]) == DAMAGED
    assert str(p) in docs[-1].metadata["reject_detail"]
    assert "byte" in docs[-1].metadata["reject_detail"]


def test_parquet_with_a_bad_row_group_keeps_the_good_one(tmp_path: Path):
    table = pa.table({"id": [f"r{i}" for i in range(200)], "text": ["word " * 20] * 200})
    p = tmp_path / "pages.parquet"
    pq.write_table(table, p, row_group_size=100, compression="zstd")
    col = pq.read_metadata(p).row_group(1).column(1)
    data = bytearray(p.read_bytes())
    for i in range(col.data_page_offset, col.data_page_offset + 64):
        data[i] ^= 0xFF
    p.write_bytes(bytes(data))
    good, bad = split(read_all([p]))
    assert [d.id for d in good] == [f"r{i}" for i in range(100)]
    (damage,) = bad
    assert reason(damage) == DAMAGED and "row group 1 of 2" in damage.metadata["reject_detail"]
