"""Benchmark decontamination: drop documents that share a word n-gram with a benchmark.

As in the Qwen2.5 report, a document is contaminated if it contains any 13-gram of a
benchmark text. Both sides go through the same tokenisation
(:mod:`qurate.dedup.tokens`: lowercased words, punctuation ignored, one token per
character in scripts without spaces), and every n-gram is a 64-bit hash, so the index is a
sorted ``uint64`` array and a document is checked with one ``searchsorted``.

:func:`build_decontam_index` reads the benchmark files once (JSONL, optionally ``.gz`` or
``.zst``, or Parquet; a ``text`` field, or several fields, and an optional ``id``) and writes
one ``.npz`` file into the run's work directory, so that every task loads the same index.
Two rules keep clean documents clean:

- an n-gram found in more than ``max_ngram_records`` benchmark records is template text
  (licence headers, "Answer the following question", a shared import line), not content;
  it is left out;
- a benchmark text shorter than ``n`` words is matched as a whole (its own word sequence
  must appear in the document), and texts under ``min_tokens`` words are ignored: a
  three-word answer such as "Paris, France" appears in countless clean documents.

:class:`DecontamFilter` marks a hit with reason ``contaminated`` and detail = the benchmark
record's id (its ``id`` field, else ``file:line``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from datatrove.data import Document

from qurate.contract.compressed import StreamDamage, compression_of, iter_decompressed
from qurate.contract.files import NO_SUCH_FILE, file_problem
from qurate.contract.rejects import QurateFilter
from qurate.dedup.config import DecontamConfig
from qurate.dedup.files import atomic_save
from qurate.dedup.tokens import (
    multi_ngram_hashes,
    ngram_hashes,
    single_char_tokens,
    tokenize_hashes,
)
from qurate.errors import BadInputError, ConfigError

__all__ = ["DecontamConfig", "DecontamFilter", "build_decontam_index", "read_benchmark"]

_INDEX_VERSION = 1


def _open_text(path: Path) -> io.TextIOBase:
    kind = compression_of(path.name)
    if kind is None:
        return path.open("r", encoding="utf-8")
    # Whole, through the readers' damage-aware loop: a truncated or corrupt benchmark is an
    # error (zstandard's own stream reader ends a cut stream without a word, and a benchmark
    # read as 0 records decontaminates nothing).
    with path.open("rb") as raw:
        try:
            data = b"".join(iter_decompressed(raw, kind))
        except StreamDamage as e:
            raise BadInputError(e.describe(str(path))) from None
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


def _fields(cfg: DecontamConfig) -> list[str]:
    return [cfg.text_field] if isinstance(cfg.text_field, str) else list(cfg.text_field)


def _record_texts(rec: object, fields: list[str], where: str) -> list[str]:
    if not isinstance(rec, dict):
        raise BadInputError(
            f"{where}: a benchmark record must be a JSON object, got {type(rec).__name__}"
        )
    present = [f for f in fields if rec.get(f) is not None]
    if not present:
        raise BadInputError(
            f"{where}: benchmark record has no field {' or '.join(map(repr, fields))}"
        )
    out = []
    for f in present:
        value = rec[f]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            out.extend(value)  # e.g. MMLU's list of answer choices
        elif isinstance(value, str):
            out.append(value)
        else:
            raise BadInputError(f"{where}: field {f!r} must be text, got {type(value).__name__}")
    return out


def read_benchmark(path: Path, cfg: DecontamConfig) -> Iterator[tuple[str, list[str]]]:
    """Yield ``(record id, texts)`` for each record of one benchmark file.

    Raises ``BadInputError`` naming the file (and line) for anything unreadable.
    """
    path = Path(path)
    if (why := file_problem(path)) is not None:
        raise BadInputError(f"{path}: {'benchmark file not found' if why == NO_SUCH_FILE else why}")
    fields = _fields(cfg)
    name = path.name.lower()
    if name.endswith(".parquet"):
        try:
            table = pq.read_table(path)
        except Exception as e:  # pyarrow raises several types for corrupt files
            raise BadInputError(f"{path}: not a readable Parquet file ({e})") from None
        missing = [f for f in fields if f not in table.column_names]
        if len(missing) == len(fields):
            raise BadInputError(
                f"{path}: Parquet file has no column {' or '.join(map(repr, fields))}"
            )
        for row_no, rec in enumerate(table.to_pylist(), start=1):
            where = f"{path}: row {row_no}"
            rid = rec.get(cfg.id_field)
            yield (
                (str(rid) if rid is not None else f"{path.name}:{row_no}"),
                _record_texts(rec, fields, where),
            )
        return
    try:
        with _open_text(path) as f:
            for line_no, line in enumerate(f, start=1):
                if line_no == 1:
                    line = line.removeprefix("\ufeff")  # a byte-order mark is not data
                if not line.strip():
                    continue
                where = f"{path}:{line_no}"
                try:
                    rec = json.loads(line)
                except ValueError as e:  # JSONDecodeError, and ints longer than Python parses
                    raise BadInputError(
                        f"{where}: not valid JSON ({getattr(e, 'msg', e)})"
                    ) from None
                texts = _record_texts(rec, fields, where)
                rid = rec.get(cfg.id_field)
                yield (str(rid) if rid is not None else f"{path.name}:{line_no}"), texts
    except UnicodeDecodeError as e:
        raise BadInputError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except (OSError, EOFError) as e:
        raise BadInputError(f"{path}: cannot read ({e})") from None


def build_decontam_index(files: list[Path], out: Path, cfg: DecontamConfig | None = None) -> Path:
    """Index every benchmark n-gram of ``files``; returns the index file's path.

    ``out`` is the index file if it ends in ``.npz``, else a directory that receives
    ``decontam-index.npz``.
    """
    cfg = cfg or DecontamConfig()
    if not files:
        raise ConfigError("decontamination needs at least one benchmark file")
    ids: list[str] = []
    texts: list[str] = []
    owner: list[int] = []
    for path in files:
        before = len(ids)
        for rid, rtexts in read_benchmark(Path(path), cfg):
            for t in rtexts:
                texts.append(t)
                owner.append(len(ids))
            ids.append(rid)
        if len(ids) == before:  # an empty file would decontaminate against nothing, silently
            raise BadInputError(f"{path}: the benchmark file holds no records")
    toks, offs = tokenize_hashes(texts)
    counts = np.diff(offs)
    own = np.asarray(owner, dtype=np.int64)
    long_grams, long_rec = _content_grams(toks, offs, own, cfg.ngram)
    # Texts shorter than n words (but not trivially short): one hash over the whole text.
    short = np.flatnonzero((counts >= cfg.min_tokens) & (counts < cfg.ngram))
    s_grams = np.array(
        [ngram_hashes(toks[offs[i] : offs[i + 1]], int(counts[i]))[0] for i in short],
        dtype=np.uint64,
    )
    s_rec = own[short]
    grams, rec, dropped = _drop_common(
        np.concatenate([long_grams, s_grams]),
        np.concatenate([long_rec, s_rec]),
        cfg.max_ngram_records,
    )
    if not len(grams):
        trivial = int((counts < cfg.min_tokens).sum())
        raise BadInputError(
            f"the benchmarks give no n-gram to match: of {len(texts)} texts, {trivial} are "
            f"under min_tokens ({cfg.min_tokens} words) and {dropped} n-grams were dropped as "
            f"shared by over max_ngram_records ({cfg.max_ngram_records}) records"
        )
    out = Path(out)
    if out.suffix != ".npz":
        out = out / "decontam-index.npz"
    buf = io.BytesIO()
    np.savez(
        buf,
        version=np.array([_INDEX_VERSION]),
        grams=grams,
        rec=rec.astype(np.uint32),
        short_lens=np.unique(counts[short]).astype(np.int64),
        ids=np.frombuffer(json.dumps(ids).encode(), dtype=np.uint8),
        config=np.frombuffer(cfg.model_dump_json().encode(), dtype=np.uint8),
        stats=np.array(
            [len(ids), len(texts), int(short.size), int((counts < cfg.min_tokens).sum()), dropped]
        ),
    )
    atomic_save(out, buf.getvalue())
    return out


def _content_grams(
    toks: np.ndarray, offs: np.ndarray, owner: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """n-gram hashes of every text with their record, minus n-grams of only one-character
    ASCII tokens (digit lists, hex tables: ``0, 1, 2, ..., a, b, c``) that say nothing."""
    if toks.size < n:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    grams = ngram_hashes(toks, n)
    starts = np.arange(grams.size)
    text = np.searchsorted(offs, starts, side="right") - 1
    content = np.concatenate(([0], np.cumsum(~np.isin(toks, single_char_tokens()))))
    keep = (starts + n <= offs[text + 1]) & (content[starts + n] - content[starts] > 0)
    return grams[keep], owner[text[keep]]


def _drop_common(
    grams: np.ndarray, rec: np.ndarray, max_records: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Sorted unique n-grams with one owning record each, minus those in too many records."""
    if grams.size == 0:  # no benchmark text long enough (or an empty benchmark file)
        return grams, rec, 0
    order = np.lexsort((rec, grams))
    grams, rec = grams[order], rec[order]
    pair_new = np.concatenate(([True], (grams[1:] != grams[:-1]) | (rec[1:] != rec[:-1])))
    grams, rec = grams[pair_new], rec[pair_new]  # one entry per (n-gram, record)
    first = np.flatnonzero(np.concatenate(([True], grams[1:] != grams[:-1])))
    n_records = np.diff(np.append(first, grams.size))
    keep = first[n_records <= max_records]
    return grams[keep], rec[keep], int((n_records > max_records).sum())


class DecontamIndex:
    """A loaded index: membership tests for the n-grams of a batch of texts."""

    def __init__(self, path: str | Path) -> None:
        try:
            with np.load(path) as z:
                if int(z["version"][0]) != _INDEX_VERSION:
                    raise ConfigError(
                        f"{path}: decontamination index from another qurate version; rebuild it"
                    )
                self.grams = z["grams"]
                self.rec = z["rec"]
                self.short_lens = [int(x) for x in z["short_lens"]]
                self.ids: list[str] = json.loads(z["ids"].tobytes())
                self.cfg = DecontamConfig.model_validate_json(z["config"].tobytes())
        except (OSError, ValueError, KeyError) as e:
            raise BadInputError(f"{path}: not a qurate decontamination index ({e})") from None

    def first_hits(self, texts: list[str]) -> list[str | None]:
        """For each text, the id of the benchmark record it shares an n-gram with, or None."""
        out: list[str | None] = [None] * len(texts)
        if self.grams.size == 0 or not texts:
            return out
        toks, offs = tokenize_hashes(texts)
        for grams, text_of in multi_ngram_hashes(
            toks, offs, [self.cfg.ngram, *self.short_lens]
        ).values():
            pos = np.minimum(np.searchsorted(self.grams, grams), self.grams.size - 1)
            hit = np.flatnonzero(self.grams[pos] == grams)
            if hit.size == 0:
                continue
            for doc, g in zip(text_of[hit].tolist(), hit.tolist(), strict=True):
                if out[doc] is None:
                    out[doc] = self.ids[int(self.rec[pos[g]])]
        return out


class DecontamFilter(QurateFilter):
    """Mark documents sharing a benchmark n-gram: reason ``contaminated``, detail = record id."""

    name = "decontam"
    stage = "decontam"
    batch_size = 64

    def __init__(self, index_path: str | Path, cfg: DecontamConfig | None = None) -> None:
        super().__init__()
        self.index_path = Path(index_path)
        if not self.index_path.is_file():
            raise ConfigError(
                f"decontamination index {self.index_path} not found (build_decontam_index first)"
            )
        self.cfg = cfg
        self._index: DecontamIndex | None = None  # loaded in the worker, not pickled

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_index"] = None  # each worker loads the file itself
        return state

    @property
    def index(self) -> DecontamIndex:
        if self._index is None:
            self._index = DecontamIndex(self.index_path)
            if self.cfg is not None and self.cfg.ngram != self._index.cfg.ngram:
                raise ConfigError(
                    f"decontamination index {self.index_path} uses {self._index.cfg.ngram}-grams, "
                    f"config says {self.cfg.ngram}: rebuild the index"
                )
        return self._index

    def filter(self, doc: Document) -> bool | tuple:
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple]:
        hits = self.index.first_hits([d.text for d in batch])
        return [True if h is None else (False, "contaminated", h) for h in hits]
