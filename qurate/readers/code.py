"""Code trees: one document per source file (``qurate augment ingest --domain code``).

The id is the path under the input argument (``repo/src/main.py``); ``meta`` holds the path
and the language. The file goes through the readers' one text check
(``qurate.readers.text``), so a binary or empty file is a reject, never lost.
"""

from __future__ import annotations

from pathlib import Path

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from qurate.contract.rejects import reject
from qurate.errors import BadInputError
from qurate.readers.text import check_text

RAW_KEEP = 4096


class CodeFileReader(PipelineStep):
    """One document per source file: id = path under the input, ``meta`` path + language."""

    name = "📖 code files"
    type = "📖 - READER"

    def __init__(
        self,
        files: list[tuple[str, str, str]],
        *,
        max_chars: int = 1_000_000,
        source: str | None = None,
        stage: str = "augment_ingest",
    ) -> None:
        super().__init__()
        self.files = files
        self.max_chars = max_chars
        self.source = source
        self.stage = stage

    def read(self, path: str, rel: str, language: str) -> Document:
        meta = {"path": rel, "language": language}
        source = self.source or rel.split("/", 1)[0]
        try:
            raw = Path(path).read_bytes()
        except OSError as e:
            raise BadInputError(f"{path}: cannot read ({e})") from e
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            doc = Document(
                text=raw[:RAW_KEEP].decode("utf-8", "replace"),
                id=rel,
                metadata={"source": source, "meta": meta},
            )
            reject(
                doc,
                "invalid_utf8",
                self.stage,
                f"{path}: invalid UTF-8 ({e.reason} at byte {e.start})",
            )
            return doc
        doc = Document(text=text, id=rel, metadata={"source": source, "meta": meta})
        check_text(doc, path, self.max_chars, self.stage)
        return doc

    def run(
        self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1
    ) -> DocumentsPipeline:
        for path, rel, language in self.files[rank::world_size]:
            self.stat_update("documents", f"lang_{language}")
            yield self.read(path, rel, language)
