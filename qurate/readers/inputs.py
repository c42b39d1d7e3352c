"""Input readers: JSONL (plain, .gz, .zst), Parquet, folders of .txt/.md, WARC/WET.

datatrove's readers skip what they cannot parse (a malformed line is logged and dropped, a
record without text is skipped), which breaks ``in == kept + rejected``. Our reader turns
every input record into a ``Document``; a record that cannot be used becomes a document
already marked rejected, with a reason and ``file:line`` in the detail, so it lands in
``rejects/`` instead of vanishing.

Damaged files (a truncated or corrupt ``.gz``/``.zst``/``.warc.gz`` stream, a Parquet page
that does not decode) keep every document read before the damage, and the damage itself
becomes one reject row, reason ``damaged_input``, whose detail names the file and the byte
offset (or row) where it was found; its text is the partial record, if any. The run goes on.

Files are listed once, sorted, and split across tasks by index (``files[rank::world]``), so
the same task always reads the same files in the same order: the dedup stages rely on it.
Listing and the up-front checks live in ``qurate.readers.listing``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from qurate.contract.compressed import (
    StreamDamage,
    compression_of,
    iter_decompressed,
)
from qurate.contract.docs import coerce_field
from qurate.contract.rejects import reject
from qurate.contract.schema import MAPPED_INPUT_FIELDS
from qurate.errors import BadInputError
from qurate.readers.listing import (
    ALL_SUFFIXES,
    JSONL_SUFFIXES,
    PARQUET_SUFFIXES,
    TEXT_SUFFIXES,
    WARC_SUFFIXES,
    InputFile,
    InputPlan,
    SkippedInput,
    list_inputs,
    scan_inputs,
    stem,
)
from qurate.readers.text import check_text

__all__ = [
    "ALL_SUFFIXES",
    "JSONL_SUFFIXES",
    "PARQUET_SUFFIXES",
    "TEXT_SUFFIXES",
    "WARC_SUFFIXES",
    "DAMAGED",
    "InputFile",
    "InputPlan",
    "InputReader",
    "SkippedInput",
    "derived_id",
    "iter_lines",
    "list_inputs",
    "scan_inputs",
]

STAGE = "ingest"
DAMAGED = "damaged_input"
# Raw bytes kept from a record we cannot parse, so the reject is inspectable.
RAW_KEEP = 4096
PARQUET_BATCH_ROWS = 1024
UTF8_BOM = b"\xef\xbb\xbf"
_ABSENT = object()


def check_field_keys(text_key: str, id_key: str) -> None:
    """A ``ValueError`` naming the key when ``text_key`` / ``id_key`` cannot work: an empty
    name matches no input field, and one field for both is popped as the id before the text
    is looked for. Either way every document was rejected as ``missing_text``."""
    for key, value in (("text_key", text_key), ("id_key", id_key)):
        if not value.strip():
            raise ValueError(f"{key}: must name an input field (got {value!r})")
    if text_key == id_key:
        raise ValueError(
            f"text_key and id_key are both {text_key!r}: the id is taken from that field, so "
            "no document would have text; name two different fields"
        )


def derived_id(rel: str, index: int) -> str:
    """A stable id for a record without one: from its file and position, not its content
    (content-derived ids would collide for the duplicates dedup must report)."""
    digest = hashlib.sha1(f"{rel}#{index}".encode()).hexdigest()[:16]
    return f"{stem(Path(rel).name)}-{digest}"


def iter_lines(path: str) -> Iterator[bytes]:
    """The lines of a plain, ``.gz`` or ``.zst`` file, newline included; a UTF-8 byte-order
    mark at the start of the file is dropped (Windows tools write one; it is not data). On a
    damaged stream, :class:`StreamDamage` after the last whole line, with the partial line as
    ``tail``."""
    lines = _file_lines(path)
    first = next(lines, None)
    if first is None:
        return
    yield first.removeprefix(UTF8_BOM)
    yield from lines


def _file_lines(path: str) -> Iterator[bytes]:
    """``iter_lines`` without the byte-order mark rule."""
    kind = compression_of(path)
    with open(path, "rb") as raw:
        if kind is None:
            yield from raw
            return
        parts: list[bytes] = []
        try:
            for data in iter_decompressed(raw, kind):
                start = 0
                while (nl := data.find(b"\n", start)) != -1:
                    parts.append(data[start : nl + 1])
                    yield b"".join(parts)
                    parts = []
                    start = nl + 1
                if start < len(data):
                    parts.append(data[start:])
        except StreamDamage as damage:
            damage.tail = b"".join(parts)
            raise
        if parts:
            yield b"".join(parts)


class InputReader(PipelineStep):
    """Reads this task's share of the input files into Documents; never drops a record."""

    name = "📖 qurate reader"
    type = "📖 - READER"

    def __init__(
        self,
        files: list[InputFile],
        *,
        text_key: str = "text",
        id_key: str = "id",
        max_chars: int = 1_000_000,
        progress_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.files = files
        self.text_key = text_key
        self.id_key = id_key
        self.max_chars = max_chars
        self.progress_dir = progress_dir

    # -- one record -> one Document -------------------------------------------------
    def _make(self, f: InputFile, index: int, record: Any, where: str) -> Document:
        """Map an input record to a Document; an unusable one comes back marked rejected."""
        if not isinstance(record, dict):
            return self._bad(
                f,
                index,
                json.dumps(record)[:RAW_KEEP],
                "bad_type",
                f"{where}: record is a {type(record).__name__}, not an object",
            )
        record = dict(record)
        doc_id = record.pop(self.id_key, None)
        doc_id = derived_id(f.rel, index) if doc_id in (None, "") else str(doc_id)
        text = record.pop(self.text_key, _ABSENT)
        metadata: dict[str, Any] = {"source": f.source}
        meta: dict[str, Any] = {}
        type_errors: list[str] = []
        for key, value in record.items():
            if key in MAPPED_INPUT_FIELDS:
                try:
                    metadata[key] = coerce_field(key, value)
                except TypeError as e:
                    type_errors.append(f"'{key}' has the wrong type ({e})")
                    meta[key] = value
            else:
                meta[key] = value
        if meta:
            metadata["meta"] = meta
        doc = Document(text="", id=doc_id, metadata=metadata)
        if type_errors:
            reject(doc, "bad_type", STAGE, f"{where}: " + "; ".join(type_errors))
        if text is None:
            reject(doc, "missing_text", STAGE, f"{where}: '{self.text_key}' is null")
            doc.text = json.dumps(record, ensure_ascii=False, default=str)[:RAW_KEEP]
        elif text is _ABSENT:
            reject(
                doc,
                "missing_text",
                STAGE,
                f"{where}: no '{self.text_key}' field "
                f"(fields: {', '.join(sorted(record)) or 'none'})",
            )
            doc.text = json.dumps(record, ensure_ascii=False, default=str)[:RAW_KEEP]
        elif not isinstance(text, str):
            reject(
                doc,
                "bad_type",
                STAGE,
                f"{where}: '{self.text_key}' is a {type(text).__name__}, not a string",
            )
            doc.text = json.dumps(text, ensure_ascii=False, default=str)[:RAW_KEEP]
        else:
            doc.text = text
            self._check_text(doc, where)
        return doc

    def _check_text(self, doc: Document, where: str) -> None:
        check_text(doc, where, self.max_chars, STAGE)

    def _bad(self, f: InputFile, index: int, raw: str, reason: str, detail: str) -> Document:
        doc = Document(text=raw, id=derived_id(f.rel, index), metadata={"source": f.source})
        reject(doc, reason, STAGE, detail)
        return doc

    # -- formats --------------------------------------------------------------------
    def _damaged(self, f: InputFile, index: int, raw: bytes, detail: str) -> Document:
        """The reject row that records where a file is damaged (what follows is lost)."""
        text = raw[:RAW_KEEP].decode("utf-8", "replace")
        return self._bad(f, index, text, DAMAGED, f"{detail}; the rest of the file is unreadable")

    def read_jsonl(self, f: InputFile) -> Iterator[Document]:
        lineno = 0
        try:
            for lineno, raw in enumerate(iter_lines(f.path), start=1):
                where = f"{f.path}:{lineno}"
                if not raw.strip():
                    continue  # blank lines are not records
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    yield self._bad(
                        f,
                        lineno,
                        raw.decode("utf-8", "replace")[:RAW_KEEP],
                        "invalid_utf8",
                        f"{where}: invalid UTF-8 ({e.reason} at byte {e.start})",
                    )
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    yield self._bad(
                        f,
                        lineno,
                        line[:RAW_KEEP],
                        "malformed_json",
                        f"{where}: {e.msg} at column {e.colno}",
                    )
                    continue
                except RecursionError:
                    yield self._bad(
                        f, lineno, line[:RAW_KEEP], "malformed_json", f"{where}: nested too deeply"
                    )
                    continue
                except ValueError as e:  # valid JSON Python refuses: an int of > 4300 digits
                    yield self._bad(f, lineno, line[:RAW_KEEP], "malformed_json", f"{where}: {e}")
                    continue
                yield self._make(f, lineno, record, where)
        except StreamDamage as d:
            detail = f"{d.describe(f.path)}, after line {lineno}"
            yield self._damaged(f, lineno + 1, getattr(d, "tail", b""), detail)
        except OSError as e:
            raise BadInputError(f"{f.path}: cannot read ({e})") from e

    def read_parquet(self, f: InputFile) -> Iterator[Document]:
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(f.path)
        except Exception as e:
            raise BadInputError(f"{f.path}: truncated or corrupt Parquet file ({e})") from e
        if self.text_key not in pf.schema_arrow.names:
            raise BadInputError(
                f"{f.path}: no '{self.text_key}' column "
                f"(columns: {', '.join(pf.schema_arrow.names)}); set text_key in the config"
            )
        index = 0
        for group in range(pf.num_row_groups):
            # A batch at a time, not the whole group as Python dicts: a writer may put a file
            # in one row group (500k rows took 1.2 GB here instead of 0.3 GB).
            batches = pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=[group])
            while True:
                try:
                    batch = next(batches, None)
                except Exception as e:  # a page that does not decode: the rest is lost
                    why = str(e).splitlines()[0] if str(e) else type(e).__name__
                    detail = (
                        f"{f.path}: row group {group} of {pf.num_row_groups} does not decode "
                        f"({why}), after row {index}"
                    )
                    yield self._damaged(f, index + 1, b"", detail)
                    return
                if batch is None:
                    break
                for record in batch.to_pylist():
                    index += 1
                    yield self._make(f, index, record, f"{f.path}:row {index}")

    def read_text(self, f: InputFile) -> Iterator[Document]:
        try:
            raw = Path(f.path).read_bytes()
        except OSError as e:
            raise BadInputError(f"{f.path}: cannot read ({e})") from e
        doc_id = f.rel
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            doc = Document(
                text=raw.decode("utf-8", "replace"),
                id=doc_id,
                metadata={"source": f.source, "meta": {"path": f.rel}},
            )
            reject(
                doc,
                "invalid_utf8",
                STAGE,
                f"{f.path}: invalid UTF-8 ({e.reason} at byte {e.start})",
            )
            yield doc
            return
        text = text.removeprefix("\ufeff")  # a byte-order mark is not text
        doc = Document(text=text, id=doc_id, metadata={"source": f.source, "meta": {"path": f.rel}})
        self._check_text(doc, f.path)
        yield doc

    def read_warc(self, f: InputFile) -> Iterator[Document]:
        from qurate.readers.warc import read_warc

        return read_warc(self, f)

    # -- the step -------------------------------------------------------------------
    def run(
        self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1
    ) -> DocumentsPipeline:
        readers = {
            "jsonl": self.read_jsonl,
            "parquet": self.read_parquet,
            "text": self.read_text,
            "warc": self.read_warc,
        }
        progress = _Progress(self.progress_dir, rank)
        for f in self.files[rank::world_size]:
            for doc in readers[f.kind](f):
                self.stat_update("documents")
                progress.tick(len(doc.text))
                yield doc
            progress.file_done(os.path.getsize(f.path))
        progress.close()


class _Progress:
    """Per-task progress in a small JSON file that the parent process polls for its bar."""

    def __init__(self, directory: str | None, rank: int) -> None:
        self.path = Path(directory) / f"{rank:05d}.json" if directory else None
        self.docs = 0
        self.chars = 0
        self.bytes_done = 0
        self._last = 0.0

    def tick(self, chars: int) -> None:
        self.docs += 1
        self.chars += chars
        if self.path is not None and self.docs % 256 == 0:
            self._flush()

    def file_done(self, size: int) -> None:
        self.bytes_done += size
        self._flush()

    def close(self) -> None:
        self._flush()

    def _flush(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"docs": self.docs, "chars": self.chars, "bytes": self.bytes_done})
        )
        os.replace(tmp, self.path)
