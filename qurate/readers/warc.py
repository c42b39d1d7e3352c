"""WARC / WET / ARC files: one document per response, resource or conversion record.

HTML goes through datatrove's Trafilatura extractor (``qurate.readers.html``); a record
that is not HTML is a ``not_html`` reject, one without main text ``extraction_failed``.
A ``.gz`` archive is decompressed by ``qurate.contract.compressed``, not by warcio, which
ends a truncated gzip member quietly (the last record came out cut short and looked whole);
damage of any kind ends the file with one ``damaged_input`` reject naming the byte offset,
after the records read before it. A non-empty file in which warcio finds no record at all
is damage too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from datatrove.data import Document
from warcio.archiveiterator import ArchiveIterator

from qurate.contract.compressed import (
    DecompressedFile,
    StreamDamage,
    compression_of,
    iter_decompressed,
)
from qurate.contract.rejects import reject
from qurate.readers.html import html_to_text
from qurate.readers.inputs import RAW_KEEP, STAGE, InputFile, InputReader, derived_id


def read_warc(reader: InputReader, f: InputFile) -> Iterator[Document]:
    """The documents of a WARC/WET file (plain or gzip), then a ``damaged_input`` row if it breaks."""
    index = 0
    with open(f.path, "rb") as stream:
        # Decompressed here, not by warcio: warcio ends a truncated gzip member quietly,
        # so the last record would come out cut short and look whole.
        kind = compression_of(f.path)
        records = ArchiveIterator(DecompressedFile(stream, kind) if kind else stream)
        while True:
            try:
                record = next(records)
                index += 1
                if record.rec_type is None:  # warcio parses junk as a record without a type
                    raise ValueError("not a WARC record: no WARC-Type header")
                if record.rec_type not in ("response", "conversion", "resource"):
                    continue  # requests, metadata, warcinfo: not documents
                doc = _warc_doc(reader, f, index, record)
            except StopIteration:
                if index == 0 and _has_content(f.path, kind):  # warcio ends quietly on junk
                    yield reader._damaged(f, 1, b"", f"{f.path}: no WARC record in this file")
                return
            except StreamDamage as d:
                yield reader._damaged(
                    f, index + 1, b"", f"{d.describe(f.path)}, after record {index}"
                )
                return
            except Exception as e:  # warcio: bad headers, a record cut short, ...
                size = os.path.getsize(f.path)
                offset = records.offset if getattr(records, "offset", None) else stream.tell()
                msg = str(e).splitlines()[0] if str(e) else type(e).__name__
                detail = (
                    f"{f.path}: damaged WARC record ({msg}) at byte {offset:,} of {size:,}, "
                    f"after record {index - 1}"
                )
                yield reader._damaged(f, index + 1, b"", detail)
                return
            yield doc


def _warc_doc(reader: InputReader, f: InputFile, index: int, record: Any) -> Document:

    headers = record.rec_headers
    url = headers.get_header("WARC-Target-URI")
    doc_id = headers.get_header("WARC-Record-ID") or derived_id(f.rel, index)
    meta = {"url": url, "date": headers.get_header("WARC-Date")}
    payload = record.content_stream().read()
    where = f"{f.path}:record {index}"
    doc = Document(text="", id=doc_id, metadata={"source": f.source, "meta": meta})
    if record.rec_type == "conversion":
        doc.text = payload.decode("utf-8", "replace")
    else:
        ctype = record.http_headers.get_header("Content-Type") or "" if record.http_headers else ""
        if record.http_headers and "html" not in ctype.lower():
            doc.text = payload[:RAW_KEEP].decode("utf-8", "replace")
            reject(doc, "not_html", STAGE, f"{where}: content type {ctype!r}")
            return doc
        html = payload.decode("utf-8", "replace")
        text = html_to_text(html)
        if not text:
            doc.text = html[:RAW_KEEP]
            reject(doc, "extraction_failed", STAGE, f"{where}: no main text in the HTML")
            return doc
        doc.text = text
    reader._check_text(doc, where)
    return doc


def _has_content(path: str, kind: str | None) -> bool:
    """Whether a file holds anything but NULs and whitespace (decompressed, if it is)."""
    with open(path, "rb") as raw:
        chunks = iter_decompressed(raw, kind) if kind else iter(lambda: raw.read(1 << 16), b"")
        try:
            return any(chunk.strip(b"\x00 \t\r\n") for chunk in chunks)
        except StreamDamage:
            return True
