"""Decompress ``.gz`` and ``.zst`` streams ourselves, so damage has a place and a size.

Python's ``gzip`` module raises on a truncated file (the run aborted with a 200-line
traceback) and ``zstandard``'s stream reader returns a clean end of file on a truncated
frame (the documents vanished, exit 0). Here both formats go through one loop over their
incremental decompressors, which:

- yields every decompressed byte it could recover, in order, so the documents read before
  the damage are kept;
- handles multi-member gzip and multi-frame zstd (``pigz``, ``pzstd``, ``cat a.gz b.gz``);
- ends, when the data is damaged (truncated, not this format at all, a bad block or
  checksum), by raising :class:`StreamDamage` with the compressed byte offset where the
  damage was found, the total size and the number of bytes decompressed until then.

Every compressed input format the readers know (JSONL ``.gz``/``.zst``, WARC ``.warc.gz``)
turns that into one reject row ``damaged_input`` naming the file and offset (see
``qurate.readers.inputs``, and the decontamination index reads benchmarks through it).
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Iterator
from typing import BinaryIO

CHUNK = 1 << 16


class StreamDamage(Exception):
    """The compressed stream is damaged at ``offset`` (bytes into the file of ``size``)."""

    def __init__(self, reason: str, offset: int, size: int, decompressed: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset
        self.size = size
        self.decompressed = decompressed

    def describe(self, path: str) -> str:
        """One line naming the file, the offset and what was recovered before it."""
        return (
            f"{path}: {self.reason} at compressed byte {self.offset:,} of {self.size:,} "
            f"({self.decompressed:,} bytes decompressed before it)"
        )


def compression_of(path: str) -> str | None:
    """``"gzip"``, ``"zstd"`` or ``None`` (plain) from the file name."""
    lower = path.lower()
    if lower.endswith(".gz"):
        return "gzip"
    if lower.endswith(".zst"):
        return "zstd"
    return None


def _gzip_decompressor():
    return zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer, CRC checked


def _zstd_decompressor():
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj()


def iter_decompressed(raw: BinaryIO, kind: str, size: int | None = None) -> Iterator[bytes]:
    """Decompressed chunks of ``raw`` (a binary file) in order; :class:`StreamDamage` at the end
    if the stream is damaged. ``kind`` is ``"gzip"`` or ``"zstd"``."""
    if kind == "gzip":
        make, errors = _gzip_decompressor, (zlib.error,)
    elif kind == "zstd":
        import zstandard

        make, errors = _zstd_decompressor, (zstandard.ZstdError,)
    else:
        raise ValueError(f"unknown compression {kind!r}")
    if size is None:
        try:
            size = os.fstat(raw.fileno()).st_size
        except (AttributeError, OSError, ValueError):
            size = -1
    offset = 0  # compressed bytes handed to decompressors so far
    out = 0
    dec = make()
    started = False  # the current member/frame has received input
    pending = b""
    while True:
        chunk = pending or raw.read(CHUNK)
        pending = b""
        if not chunk:
            break
        try:
            data = dec.decompress(chunk)
        except errors as e:
            raise StreamDamage(_reason(e, kind), offset, size, out) from e
        started = True
        if data:
            out += len(data)
            yield data
        if dec.eof:
            rest = dec.unused_data
            offset += len(chunk) - len(rest)
            if rest.strip(b"\x00"):  # the next member or frame; trailing NUL padding is allowed
                dec, started, pending = make(), False, rest
            elif rest:
                dec, started = make(), False
        else:
            offset += len(chunk)
    if started and not dec.eof:
        raise StreamDamage(
            "truncated (the stream ends inside a compressed block)", offset, size, out
        )


def _reason(error: Exception, kind: str) -> str:
    text = str(error).strip().rstrip(".")
    if kind == "gzip" and "header" in text:
        return f"not a gzip stream ({text})"
    if kind == "zstd" and ("unknown frame" in text.lower() or "magic" in text.lower()):
        return f"not a zstd stream ({text})"
    return f"corrupt {kind} data ({text})"


class DecompressedFile(io.RawIOBase):
    """A read-only file over :func:`iter_decompressed`, for parsers that want a file (warcio).
    A damaged stream raises :class:`StreamDamage` from ``read`` once the good bytes are out."""

    def __init__(self, raw: BinaryIO, kind: str) -> None:
        super().__init__()
        self._chunks = iter_decompressed(raw, kind)
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        while not self._buf:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buf = chunk
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n
