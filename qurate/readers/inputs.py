"""Input readers: JSONL (plain, .gz, .zst), Parquet, folders of .txt/.md, WARC/WET.

datatrove's readers skip what they cannot parse (a malformed line is logged and dropped, a
record without text is skipped), which breaks ``in == kept + rejected``. Our reader turns
every input record into a ``Document``; a record that cannot be used becomes a document
already marked rejected, with a reason and ``file:line`` in the detail, so it lands in
``rejects/`` instead of vanishing.

Files are listed once, sorted, and split across tasks by index (``files[rank::world]``), so
the same task always reads the same files in the same order: the dedup stages rely on it.
Paths that cannot be used at all (missing, unreadable, a corrupt Parquet footer) fail the
run before any work starts, with a one-line error naming the file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from qurate.contract.docs import coerce_field
from qurate.contract.rejects import reject
from qurate.contract.schema import MAPPED_INPUT_FIELDS
from qurate.errors import BadInputError

STAGE = "ingest"
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".jsonl.zst", ".json.zst")
TEXT_SUFFIXES = (".txt", ".md", ".rst", ".text", ".markdown")
PARQUET_SUFFIXES = (".parquet",)
WARC_SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz", ".arc.gz")
ALL_SUFFIXES = JSONL_SUFFIXES + TEXT_SUFFIXES + PARQUET_SUFFIXES + WARC_SUFFIXES
# Raw bytes kept from a record we cannot parse, so the reject is inspectable.
RAW_KEEP = 4096


@dataclass(frozen=True)
class InputFile:
    """One file to read: its path, format, and the name used for derived ids and `source`."""

    path: str
    kind: str  # jsonl | parquet | text | warc
    rel: str  # path relative to the input argument, prefixed by that argument's name
    source: str  # default `source` column value


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    for kind, suffixes in (
        ("jsonl", JSONL_SUFFIXES),
        ("parquet", PARQUET_SUFFIXES),
        ("warc", WARC_SUFFIXES),
        ("text", TEXT_SUFFIXES),
    ):
        if name.endswith(suffixes):
            return kind
    return None


def _check_readable(path: Path, kind: str) -> None:
    if not os.access(path, os.R_OK):
        raise BadInputError(f"{path}: permission denied")
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            pq.read_metadata(path)
        except Exception as e:
            raise BadInputError(f"{path}: truncated or corrupt Parquet file ({e})") from e


def list_inputs(paths: list[str | Path]) -> list[InputFile]:
    """Expand input arguments (files or folders) to a sorted list of readable input files."""
    files: list[InputFile] = []
    for arg in paths:
        root = Path(arg)
        if not root.exists():
            raise BadInputError(f"{root}: no such file or directory")
        if root.is_dir():
            found = sorted(p for p in root.rglob("*") if p.is_file() and _kind(p))
            if not found:
                raise BadInputError(
                    f"{root}: no input files here (looked for {', '.join(ALL_SUFFIXES)})"
                )
            for p in found:
                if any(part.startswith(".") for part in p.relative_to(root).parts):
                    continue
                kind = _kind(p)
                _check_readable(p, kind)
                rel = f"{root.name}/{p.relative_to(root).as_posix()}"
                files.append(InputFile(str(p), kind, rel, source=root.name))
        else:
            kind = _kind(root)
            if kind is None:
                raise BadInputError(
                    f"{root}: unknown input format (expected one of {', '.join(ALL_SUFFIXES)})"
                )
            _check_readable(root, kind)
            files.append(InputFile(str(root), kind, root.name, source=_stem(root.name)))
    return files


def _stem(name: str) -> str:
    for suffix in sorted(ALL_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def derived_id(rel: str, index: int) -> str:
    """A stable id for a record without one: from its file and position, not its content
    (content-derived ids would collide for the duplicates dedup must report)."""
    digest = hashlib.sha1(f"{rel}#{index}".encode()).hexdigest()[:16]
    return f"{_stem(Path(rel).name)}-{digest}"


def _open_binary(path: str) -> io.BufferedIOBase:
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.open(path, "rb")
    if lower.endswith(".zst"):
        import zstandard

        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(open(path, "rb")))
    return open(path, "rb")


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
        text = record.pop(self.text_key, None)
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
        text = doc.text
        if not text.strip():
            reject(doc, "empty", STAGE, f"{where}: empty or whitespace-only text")
        elif len(text) > self.max_chars:
            reject(
                doc,
                "too_long",
                STAGE,
                f"{where}: {len(text):,} characters > max_chars {self.max_chars:,}",
            )
        elif text.count("\x00") > max(1, len(text) // 100):
            reject(doc, "binary", STAGE, f"{where}: {text.count(chr(0))} NUL bytes (binary data?)")

    def _bad(self, f: InputFile, index: int, raw: str, reason: str, detail: str) -> Document:
        doc = Document(text=raw, id=derived_id(f.rel, index), metadata={"source": f.source})
        reject(doc, reason, STAGE, detail)
        return doc

    # -- formats --------------------------------------------------------------------
    def read_jsonl(self, f: InputFile) -> Iterator[Document]:
        try:
            stream = _open_binary(f.path)
            with stream:
                for lineno, raw in enumerate(stream, start=1):
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
                    yield self._make(f, lineno, record, where)
        except (OSError, EOFError) as e:
            raise BadInputError(f"{f.path}: cannot read ({e})") from e

    def read_parquet(self, f: InputFile) -> Iterator[Document]:
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(f.path)
            if self.text_key not in pf.schema_arrow.names:
                raise BadInputError(
                    f"{f.path}: no '{self.text_key}' column (columns: {', '.join(pf.schema_arrow.names)}); "
                    "set text_key in the config"
                )
            index = 0
            for batch in pf.iter_batches(batch_size=1024):
                for record in batch.to_pylist():
                    index += 1
                    yield self._make(f, index, record, f"{f.path}:row {index}")
        except BadInputError:
            raise
        except Exception as e:
            raise BadInputError(f"{f.path}: truncated or corrupt Parquet file ({e})") from e

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
        doc = Document(text=text, id=doc_id, metadata={"source": f.source, "meta": {"path": f.rel}})
        self._check_text(doc, f.path)
        yield doc

    def read_warc(self, f: InputFile) -> Iterator[Document]:
        from warcio.archiveiterator import ArchiveIterator

        from qurate.readers.html import html_to_text

        try:
            with open(f.path, "rb") as stream:
                for index, record in enumerate(ArchiveIterator(stream), start=1):
                    if record.rec_type not in ("response", "conversion", "resource"):
                        continue  # requests, metadata, warcinfo: not documents
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
                        ctype = (
                            record.http_headers.get_header("Content-Type") or ""
                            if record.http_headers
                            else ""
                        )
                        if record.http_headers and "html" not in ctype.lower():
                            doc.text = payload[:RAW_KEEP].decode("utf-8", "replace")
                            reject(doc, "not_html", STAGE, f"{where}: content type {ctype!r}")
                            yield doc
                            continue
                        html = payload.decode("utf-8", "replace")
                        text = html_to_text(html)
                        if not text:
                            doc.text = html[:RAW_KEEP]
                            reject(
                                doc,
                                "extraction_failed",
                                STAGE,
                                f"{where}: no main text in the HTML",
                            )
                            yield doc
                            continue
                        doc.text = text
                    self._check_text(doc, where)
                    yield doc
        except BadInputError:
            raise
        except Exception as e:
            raise BadInputError(f"{f.path}: cannot read WARC ({e})") from e

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
