"""Parquet shards -> packed training batches, deterministic and resumable.

Only the shard contract is read: a directory of ``part-*.parquet`` files with a ``text``
column (other columns, e.g. the mixer's ``n_tokens`` and ``domain``, are ignored).

**Streams.** A global batch is ``n_streams`` micro-batches, one from each stream; stream
``k`` reads the shards ``perm[k::n_streams]`` of each epoch's seeded shard permutation (or,
when there are fewer shards than streams, rows ``k, k+S, ...`` of every shard). A process
handles a contiguous range of streams: one process with 4 accumulation steps and four
processes with one step each see exactly the same global batch, which is what makes data
parallelism testable against a single process and keeps the data order when a run is
resumed on a different number of GPUs.

**Bounded memory.** A stream holds one Parquet record batch of text and its tokens at a
time. Texts are tokenized a record batch at a time with ``encode_batch``, which runs on
all cores. Documents inside a record batch are shuffled with a seed derived from
(seed, epoch, shard, batch), so the order is a pure function of the seed.

**Packing.** ``concat``: documents, each followed by ``<|endoftext|>``, are concatenated
and cut into rows of ``seq_len`` (+1 for the shifted labels); ``no_split``: a document is
never cut (longer ones are truncated), a row that cannot take the next document is padded
and the padding is masked out of the loss. ``no_split`` keeps the mixer's long-context
composition (40% of sequences at the stage's maximum length, 60% shorter) intact: each
max-length sequence fills exactly one row. Every token carries a document id; the model
masks attention across documents and restarts positions at each document.

**Empty texts.** A text that is empty or only whitespace carries nothing to learn but its
EOS; it is skipped (in training and in the held-out eval rows) and counted: ``Stream.empty``
is the number a stream skipped in its first epoch, which the trainer logs as
``skipped_empty_text``.

**Resumption.** ``state_dict()`` holds, per stream, the epoch, shard position, record batch,
row and the unconsumed token buffer; ``load_state_dict`` continues exactly where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import torch
from tokenizers import Tokenizer

from qurate.contract.files import require_shard_file
from qurate.errors import BadInputError
from qurate.train.loss import IGNORE_INDEX
from qurate.train.tokenizer import TOKEN_DTYPE, encode, eos_id

Packing = Literal["auto", "concat", "no_split"]
RECORD_BATCH_ROWS = 1024
EVAL_ROW_MOD = 100  # with few shards, rows i % 100 == 99 (1%) are held out for eval
EVAL_SHARD_MIN = 10  # from this many shards on, the last shard is the held-out set


def list_shards(path: str | Path) -> list[Path]:
    """The ``part-*.parquet`` shards of a stage directory; each must have a text column."""
    d = Path(path)
    if d.exists() and not d.is_dir():  # it was called missing, which it is not
        raise BadInputError(f"{d} is a file, not a stage directory of part-*.parquet shards")
    if not d.is_dir():
        raise BadInputError(f"data directory {d} does not exist")
    shards = sorted(d.glob("part-*.parquet"))
    if not shards:
        raise BadInputError(f"{d} has no part-*.parquet shards: point --data at a stage directory")
    for s in shards:
        require_shard_file(s)  # a FIFO blocked the trainer on open
        try:
            schema = pq.read_schema(s)
        except (OSError, pa.ArrowException) as e:
            raise BadInputError(f"cannot read shard {s}: {e}") from None
        if "text" not in schema.names or not (
            pa.types.is_string(schema.field("text").type)
            or pa.types.is_large_string(schema.field("text").type)
        ):
            raise BadInputError(f"{s} has no string 'text' column; the trainer reads text shards")
    return shards


def resolve_packing(path: str | Path, packing: Packing) -> Literal["concat", "no_split"]:
    """``auto`` keeps sequences whole in a directory the mixer wrote for a long-context
    stage (``MIX/long_context/NAME``, manifest stage ``mix-long-context``), else concatenates."""
    if packing != "auto":
        return packing
    manifest = Path(path) / "manifest.json"
    try:
        meta = json.loads(manifest.read_text()) if manifest.is_file() else {}
    except (OSError, json.JSONDecodeError):
        meta = {}
    if not isinstance(meta, dict):
        return "concat"
    long = meta.get("stage") == "mix-long-context" or isinstance(meta.get("long_context"), dict)
    return "no_split" if long else "concat"


def split_eval(shards: list[Path], evaluate: bool = True) -> tuple[list[Path], list[Path], int]:
    """(train shards, eval shards, row modulus). With many shards the last one is held out
    (modulus 0: no row split); with fewer than ``EVAL_SHARD_MIN`` (where one shard would be too
    large a share), rows ``i % m == m - 1`` of every shard are, ``m`` = ``EVAL_ROW_MOD`` (1%).
    When no shard reaches ``EVAL_ROW_MOD`` rows (a small ``qurate mix`` output), ``m`` is the
    largest shard's row count, so one row is held out instead of none; without eval
    (``evaluate`` false) or with a single row nothing is held out (modulus 0)."""
    if len(shards) >= EVAL_SHARD_MIN:
        return shards[:-1], shards[-1:], 0
    if not evaluate:
        return shards, [], 0
    most = max((pq.ParquetFile(s).metadata.num_rows for s in shards), default=0)
    mod = min(EVAL_ROW_MOD, most)
    return (shards, shards, mod) if mod >= 2 else (shards, [], 0)


@dataclass
class _Pos:
    epoch: int = 0
    shard: int = 0  # index into this stream's shard list for the epoch
    batch: int = 0  # record batch within the shard
    row: int = 0  # row within the (shuffled) record batch


@dataclass
class Stream:
    """One deterministic stream of packed rows (see the module docstring)."""

    shards: list[Path]
    tokenizer: Tokenizer
    seq_len: int
    seed: int
    index: int = 0
    n_streams: int = 1
    packing: Literal["concat", "no_split"] = "concat"
    row_filter: Callable[[int], bool] | None = None  # on the row index within a shard
    shuffle: bool = True
    pos: _Pos = field(default_factory=_Pos)

    def __post_init__(self) -> None:
        self.eos = eos_id(self.tokenizer)
        self._buf = np.zeros(0, dtype=TOKEN_DTYPE)
        self._doc = np.zeros(0, dtype=np.int64)
        self._valid = np.zeros(0, dtype=bool)
        self._next_doc = 0
        self.empty = 0  # empty or whitespace-only texts skipped in the first epoch
        self._docs: list[np.ndarray] | None = None  # tokens of the current record batch
        self._reader: Iterator[pa.RecordBatch] | None = None
        self._reader_at: tuple[int, int, int] | None = None  # (epoch, shard, next batch)

    # ---------------------------------------------------------------- document source

    def _epoch_shards(self, epoch: int) -> list[tuple[int, Path]]:
        order = np.arange(len(self.shards))
        if self.shuffle:
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.shards))
        pairs = [(int(i), self.shards[i]) for i in order]
        if len(self.shards) >= self.n_streams:
            return pairs[self.index :: self.n_streams]
        return pairs

    def _keep_row(self, i: int) -> bool:
        if len(self.shards) < self.n_streams and i % self.n_streams != self.index:
            return False
        return self.row_filter is None or self.row_filter(i)

    def _load_batch(self) -> bool:
        """Tokenize the record batch at ``pos``; False at the end of the shard."""
        p = self.pos
        shard_id, path = self._epoch_shards(p.epoch)[p.shard]
        if self._reader_at != (p.epoch, p.shard, p.batch):
            self._reader = pq.ParquetFile(path).iter_batches(
                batch_size=RECORD_BATCH_ROWS, columns=["text"]
            )
            for _ in range(p.batch):  # resuming mid-shard: skip without tokenizing
                next(self._reader, None)
        batch = next(self._reader, None)  # type: ignore[arg-type]
        if batch is None:
            return False
        self._reader_at = (p.epoch, p.shard, p.batch + 1)
        base = p.batch * RECORD_BATCH_ROWS
        texts = batch.column(0).to_pylist()
        mine = [t for i, t in enumerate(texts) if self._keep_row(base + i)]
        keep = [t for t in mine if t and not t.isspace()]  # whitespace: nothing to learn
        if p.epoch == 0:
            self.empty += len(mine) - len(keep)
        docs = encode(self.tokenizer, keep) if keep else []
        if self.shuffle and docs:
            rng = np.random.default_rng([self.seed, p.epoch, shard_id, p.batch])
            docs = [docs[i] for i in rng.permutation(len(docs))]
        self._docs = docs
        return True

    def _next_doc_tokens(self) -> np.ndarray:
        """The next document's tokens (without EOS), advancing the position."""
        whole_epoch_empty = False  # set when an epoch is started from its beginning
        while True:
            if self._docs is not None and self.pos.row < len(self._docs):
                doc = self._docs[self.pos.row]
                self.pos.row += 1
                return doc
            p = self.pos
            if self._docs is not None:  # finished this record batch
                p.batch, p.row, self._docs = p.batch + 1, 0, None
            if p.shard >= len(self._epoch_shards(p.epoch)):
                if whole_epoch_empty and len(self.shards) < self.n_streams and self.index:
                    # it was called "no text to train on": there is text, too little of it
                    raise BadInputError(
                        f"too few documents in {self.shards[0].parent} for a batch of "
                        f"{self.n_streams} rows a step: row {self.index} takes documents "
                        f"{self.index}, {self.index + self.n_streams}, ... of each shard and "
                        "there are none; lower --batch-tokens (or raise --seq-len), or give "
                        "more data"
                    )
                if whole_epoch_empty:
                    raise BadInputError(
                        f"no text to train on in {self.shards[0].parent} "
                        f"(stream {self.index} of {self.n_streams} found no non-empty document)"
                    )
                p.epoch, p.shard, p.batch, p.row = p.epoch + 1, 0, 0, 0
                whole_epoch_empty = True
                continue
            if not self._load_batch():
                p.shard, p.batch, p.row, self._docs = p.shard + 1, 0, 0, None

    # ---------------------------------------------------------------- packing

    def _append(self, tokens: np.ndarray, doc: int, valid: bool) -> None:
        n = len(tokens)
        self._buf = np.concatenate([self._buf, tokens.astype(TOKEN_DTYPE, copy=False)])
        self._doc = np.concatenate([self._doc, np.full(n, doc, dtype=np.int64)])
        self._valid = np.concatenate([self._valid, np.full(n, valid, dtype=bool)])

    def _fill(self, need: int) -> None:
        """Grow the buffer to at least ``need`` tokens."""
        while len(self._buf) < need:
            doc = np.append(self._next_doc_tokens(), np.asarray([self.eos], TOKEN_DTYPE))
            d, self._next_doc = self._next_doc, self._next_doc + 1
            if self.packing == "no_split":
                doc = doc[: self.seq_len + 1]
                room = need - len(self._buf)
                if len(self._buf) and len(doc) > room:
                    # pad this row instead of cutting the document; it starts the next row
                    self._append(np.full(room, self.eos, TOKEN_DTYPE), -1 - d, False)
            self._append(doc, d, True)

    def next_row(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tokens, doc ids, loss mask) of length seq_len + 1."""
        n = self.seq_len + 1
        self._fill(n)
        row = self._buf[:n], self._doc[:n], self._valid[:n]
        # concat: the last token is shared with the next row (it is this row's final label
        # and the next row's first input); no_split rows start on a document boundary
        cut = n if self.packing == "no_split" else n - 1
        self._buf, self._doc, self._valid = self._buf[cut:], self._doc[cut:], self._valid[cut:]
        return row

    def next_batch(self, rows: int) -> dict[str, torch.Tensor]:
        """A micro-batch: input_ids, labels (IGNORE_INDEX where masked), doc_ids."""
        toks, docs, valid = zip(*(self.next_row() for _ in range(rows)), strict=True)
        t = torch.from_numpy(np.stack(toks).astype(np.int64))
        d = torch.from_numpy(np.stack(docs))
        v = torch.from_numpy(np.stack(valid))
        labels = t[:, 1:].clone()
        labels[~v[:, 1:]] = IGNORE_INDEX
        # a padding token predicts nothing, and nothing predicts it
        labels[~v[:, :-1]] = IGNORE_INDEX
        return {"input_ids": t[:, :-1], "labels": labels, "doc_ids": d[:, :-1]}

    # ---------------------------------------------------------------- checkpoint state

    def state_dict(self) -> dict[str, Any]:
        p = self.pos
        return {
            "epoch": p.epoch,
            "shard": p.shard,
            "batch": p.batch,
            # the record batch is re-read and re-tokenized on load, so the row is enough
            "row": p.row if self._docs is not None else 0,
            "in_batch": self._docs is not None,
            "next_doc": self._next_doc,
            "empty": self.empty,
            "buf": torch.from_numpy(self._buf.astype(np.int64)),
            "doc": torch.from_numpy(self._doc.copy()),
            "valid": torch.from_numpy(self._valid.copy()),
        }

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.pos = _Pos(int(s["epoch"]), int(s["shard"]), int(s["batch"]), 0)
        self._reader_at = None
        self._docs = None
        if s["in_batch"] and self.pos.shard < len(self._epoch_shards(self.pos.epoch)):
            if self._load_batch():
                self.pos.row = int(s["row"])
        self._next_doc = int(s["next_doc"])
        self.empty = int(s.get("empty", 0))  # the re-read record batch is not counted twice
        self._buf = s["buf"].numpy().astype(TOKEN_DTYPE)
        self._doc = s["doc"].numpy().astype(np.int64)
        self._valid = s["valid"].numpy().astype(bool)


class Loader:
    """The streams this process owns; ``next_step()`` returns its micro-batches of one step."""

    def __init__(
        self,
        shards: list[Path],
        tokenizer: Tokenizer,
        *,
        seq_len: int,
        micro_batch: int,
        n_streams: int,
        rank: int,
        world: int,
        seed: int,
        packing: Literal["concat", "no_split"],
        row_filter: Callable[[int], bool] | None = None,
    ) -> None:
        per_rank = n_streams // world
        self.micro_batch = micro_batch
        self.streams = [
            Stream(
                shards,
                tokenizer,
                seq_len,
                seed,
                index=rank * per_rank + i,
                n_streams=n_streams,
                packing=packing,
                row_filter=row_filter,
            )
            for i in range(per_rank)
        ]

    def next_step(self) -> list[dict[str, torch.Tensor]]:
        return [s.next_batch(self.micro_batch) for s in self.streams]

    @property
    def empty(self) -> int:
        """Empty or whitespace-only texts this process's streams skipped (first epoch)."""
        return sum(s.empty for s in self.streams)

    def state_dict(self) -> dict[str, Any]:
        return {"streams": {s.index: s.state_dict() for s in self.streams}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for s in self.streams:
            if s.index not in state["streams"]:
                raise BadInputError(
                    "the checkpoint's data state does not cover this run's streams: keep the "
                    "global batch (micro_batch_size x streams) of the original run"
                )
            s.load_state_dict(state["streams"][s.index])


def eval_batches(
    shards: list[Path],
    tokenizer: Tokenizer,
    *,
    seq_len: int,
    micro_batch: int,
    n_batches: int,
    row_mod: int,
) -> list[dict[str, torch.Tensor]]:
    """A fixed list of held-out micro-batches (the first rows of the eval split, unshuffled;
    ``row_mod`` from ``split_eval``: rows ``i % row_mod == row_mod - 1``, all rows when 0)."""
    if not shards:
        return []
    stream = Stream(
        shards,
        tokenizer,
        seq_len,
        seed=0,
        shuffle=False,
        row_filter=(lambda i: i % row_mod == row_mod - 1) if row_mod else None,
    )
    return [stream.next_batch(micro_batch) for _ in range(n_batches)]


def train_row_filter(row_mod: int) -> Callable[[int], bool] | None:
    """Rows the training streams may use (everything but ``split_eval``'s eval rows)."""
    return (lambda i: i % row_mod != row_mod - 1) if row_mod else None


def iter_texts(shards: list[Path]) -> Iterator[str]:
    """Every text that is not empty or whitespace, streamed a record batch at a time
    (tokenizer training)."""
    for s in shards:
        for batch in pq.ParquetFile(s).iter_batches(batch_size=RECORD_BATCH_ROWS, columns=["text"]):
            yield from (t for t in batch.column(0).to_pylist() if t and not t.isspace())


def _counts_tokens(schema: pa.Schema) -> bool:
    # a float column can hold NaN (int(NaN) raised), a string one has no sum: neither counts
    return "n_tokens" in schema.names and pa.types.is_integer(schema.field("n_tokens").type)


def estimate_tokens(shards: list[Path]) -> int:
    """Tokens in one epoch: the ``n_tokens`` column when every shard has a usable one (whole
    numbers, none negative), else chars / 4."""
    total = 0
    if all(_counts_tokens(pq.read_schema(s)) for s in shards):
        for s in shards:
            col = pq.read_table(s, columns=["n_tokens"]).column(0)
            if (pc.min(col).as_py() or 0) < 0:  # not a count: estimate from the text instead
                total = 0
                break
            total += int(pc.sum(col).as_py() or 0)
        if total:
            return total
    for s in shards:
        col = pq.read_table(s, columns=["text"]).column(0)
        total += int(pc.sum(pc.utf8_length(col)).as_py() or 0)
    return -(-total // 4)  # rounded up: a few characters are still text to train on
