"""fastText classifiers trained robustly: the one trainer behind raters, recall and domains.

Known fastText pitfalls handled here (see ENV-NOTES): this build (fasttext-numpy2-wheel 0.9.2)
allocates the input matrix uninitialised, and its initialiser fills ``min(thread, 10)`` blocks
of ``floor(rows x dim / 10)`` floats each, so the last ``rows x dim mod 10`` floats are only
filled by an 11th block. With fewer threads whatever was in that memory stays; training spreads
one huge value into thousands of rows or fails with "Encountered NaN" (at train or predict
time). Two ways out, both here: ``thread >= 11`` (every block filled), or one thread while
glibc fills every ``malloc`` with zeros (``mallopt(M_PERTURB)``): the unfilled rows start at
0 (the output matrix is zeroed too, and the rows still learn). A freed heap block is reused,
so fresh ``mmap`` pages cannot be relied on: weights of 6.7e7 and 2.8e18 came back. Every
trained model's weights are checked (finite and below ``WEIGHT_LIMIT``) and a bad one, or that
error, is retrained with a new seed.

One thread is the default because it is deterministic: more threads train hogwild, so two
runs on the same data differ (the demo's reference classifier weighed 0 in ``quality`` in one
run and 0.27 in the next).
``wordNgrams=2`` with 2M buckets is an 800 MB model, so ``bucket=200000``; and models are
product-quantised with a row cutoff (``.ftz``, ~200 KB). Files are named by content hash,
since datatrove's model cache (and any other) keys by path.
"""

from __future__ import annotations

import hashlib
import re
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from qurate.contract.shards import atomic_write_bytes
from qurate.errors import BadInputError, EngineError


class RaterTrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epoch: int = Field(25, ge=1, description="fastText training epochs")
    lr: float = Field(0.5, gt=0, description="fastText learning rate")
    dim: int = Field(16, ge=4, description="fastText embedding dimension")
    word_ngrams: int = Field(2, ge=1, description="word n-gram length fastText uses as features")
    bucket: int = Field(
        200_000,
        ge=1000,
        description="hash buckets for word n-grams; 200k: the 2M default makes an 800 MB model with bigrams.",
    )
    min_count: int = Field(
        1, ge=1, description="words seen fewer times are dropped from the vocabulary"
    )
    thread: int = Field(
        1,
        ge=1,
        description="fastText threads. 1 (default): deterministic, one seeded thread, so a rerun gives the same raters and the same scores (the weights fastText leaves unwritten start at 0: qurate/llm/fasttext.py); where glibc's mallopt is missing and this is left unset, 12. >= 11: hogwild threads, fastText initialises every weight, every run differs a little. 2-10 are refused.",
    )
    max_retries: int = Field(
        5,
        ge=0,
        description="retrains with a new seed when the trained weights are not finite and small",
    )
    seed: int = Field(0, description="fastText training seed")
    quantize: bool = Field(
        True,
        description="Product-quantise to .ftz, keeping the ``quantize_cutoff`` rows (words and n-gram buckets) with the largest norms: ~200 KB instead of ~13 MB. Quantising all 200k buckets takes minutes (k-means); the cutoff makes it seconds.",
    )
    quantize_cutoff: int = Field(
        10_000, ge=100, description="rows kept when quantising (the largest norms)"
    )
    max_chars: int = Field(
        10_000,
        ge=100,
        description="Characters of each document the rater reads (the judge read a token-truncated head).",
    )

    @field_validator("thread")
    @classmethod
    def _whole_init(cls, v: int) -> int:
        if 1 < v < 11:
            raise ValueError(
                f"thread={v}: 2-10 threads leave fastText weights uninitialised; use 1 "
                "(deterministic) or >= 11"
            )
        return v


# glibc mallopt(M_PERTURB, b): every malloc fills its block with ``b ^ 0xff`` (0xff: zeros).
_M_PERTURB = -6


def _mallopt() -> Any:
    """glibc's ``mallopt``, or None where there is none (not glibc)."""
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return None


def training_threads(cfg: RaterTrainConfig) -> int:
    """The threads fastText trains on: ``cfg.thread``, except that the default (1, which
    needs glibc's mallopt) becomes 12 where there is no mallopt: hogwild, not reproducible,
    but every weight initialised. A ``thread: 1`` the user set stays, and fails clearly."""
    if cfg.thread == 1 and "thread" not in cfg.model_fields_set and _mallopt() is None:
        return 12
    return cfg.thread


@contextmanager
def zero_filled_malloc() -> Iterator[None]:
    """While inside, glibc's ``malloc`` returns zero-filled memory (``M_PERTURB``); what
    ``thread=1`` training needs (module docstring). Freed blocks are filled too, so keep the
    block short. EngineError where mallopt is missing (not glibc)."""
    mallopt = _mallopt()
    if mallopt is None:
        raise EngineError(
            "thread=1 (deterministic fastText) needs glibc's mallopt to zero-fill its "
            "weights; use thread >= 11 on this platform (augment recall: deterministic: false)"
        )
    if not mallopt(_M_PERTURB, 0xFF):
        raise EngineError("mallopt(M_PERTURB) refused: cannot zero-fill fastText's weights")
    try:
        yield
    finally:
        mallopt(_M_PERTURB, 0)


def clean(text: str, max_chars: int = 10_000) -> str:
    """fastText input: one line, lower case, whitespace collapsed (same in train and predict)."""
    # str.split() is ~8x faster than a \s+ regex here and splits on the same characters.
    return " ".join(text[:max_chars].lower().split())


def _label(name: str) -> str:
    return "__label__" + name.replace(" ", "_")


def _unlabel(label: str) -> str:
    return label[len("__label__") :].replace("_", " ")


def _import_fasttext() -> Any:
    import fasttext

    return fasttext


# A trained model's file is named ``<stem>-<sha256[:16]>.<bin|ftz>`` (``train_classifier``).
_DIGEST_NAME = re.compile(r"-([0-9a-f]{16})\.(?:bin|ftz)$")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


_MAGIC, _MAX_VERSION = 793712314, 12
_KSUB = 256  # centroids per sub-quantiser (fastText's ProductQuantizer)


class _Layout:
    """A walk over a fastText ``.bin``/``.ftz`` file's sections, checking each size against
    the bytes that are there. fastText's own loader trusts the sizes it reads: a file cut
    short inside the dictionary makes it loop for minutes over a failed stream, one cut in a
    matrix asks for terabytes."""

    def __init__(self, data: memoryview) -> None:
        self.data, self.at = data, 0

    def take(self, n: int, what: str) -> int:
        if n < 0 or self.at + n > len(self.data):
            raise ValueError(f"cut short in the {what} (needs {n} bytes at offset {self.at})")
        start, self.at = self.at, self.at + n
        return start

    def num(self, fmt: str, what: str) -> int:
        return struct.unpack_from(fmt, self.data, self.take(struct.calcsize(fmt), what))[0]

    def dense(self, what: str) -> None:
        m, n = self.num("<q", what), self.num("<q", what)
        if m < 0 or n < 0:
            raise ValueError(f"negative {what} shape {m} x {n}")
        self.take(4 * m * n, what)

    def pq(self, what: str) -> None:
        dim = self.num("<i", what)
        for _ in range(3):  # nsubq, dsub, lastdsub
            self.num("<i", what)
        self.take(4 * dim * _KSUB, what)

    def quantised(self, what: str) -> None:
        qnorm = self.num("<?", what)
        m, _n = self.num("<q", what), self.num("<q", what)
        self.take(self.num("<i", what), what)  # codes
        self.pq(what)
        if qnorm:
            self.take(m, what)  # norm codes
            self.pq(what)


def check_layout(path: Path) -> None:
    """Raise ValueError naming the first section of ``path`` that is not all there."""
    import mmap

    with open(path, "rb") as f:
        if f.seek(0, 2) == 0:
            raise ValueError("empty file")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            data = memoryview(mm)
            try:
                _walk(_Layout(data))
            finally:
                data.release()


def _walk(w: _Layout) -> None:
    if w.num("<i", "header") != _MAGIC:
        raise ValueError("no fastText header")
    if not 0 < w.num("<i", "header") <= _MAX_VERSION:
        raise ValueError("unknown fastText version")
    w.take(12 * 4 + 8, "arguments")  # 12 int32 arguments, then the learning rate (double)
    size, _nwords, _nlabels = (w.num("<i", "dictionary") for _ in range(3))
    _ntokens, prune = w.num("<q", "dictionary"), w.num("<q", "dictionary")
    if size < 0 or prune < -1:  # -1: a dictionary that was never pruned
        raise ValueError("negative dictionary size")
    data = w.data.obj  # the mmap: find() without copying
    for _ in range(size):
        end = data.find(b"\0", w.at)
        if end < 0:
            raise ValueError("cut short in the dictionary")
        w.take(end + 1 - w.at + 8 + 1, "dictionary")  # word, count (int64), type (int8)
    w.take(8 * max(prune, 0), "dictionary")
    quant_input = w.num("<?", "input matrix")
    w.quantised("input matrix") if quant_input else w.dense("input matrix")
    qout = w.num("<?", "output matrix")
    w.quantised("output matrix") if quant_input and qout else w.dense("output matrix")
    if w.at != len(w.data):
        raise ValueError(f"{len(w.data) - w.at} bytes after the output matrix")


def load_model(path: Path, what: str = "fastText model", redo: str = "train it again") -> Any:
    """The fastText model in ``path``, or a one-line error naming it as ``what``.

    A file named by ``train_classifier`` must hold the bytes its name hashes: fastText reads
    a truncated file as huge sizes and dies with ``std::bad_alloc`` (or worse) instead of
    saying it is corrupt. Otherwise fastText reports a file that is not a model as
    ValueError, and a damaged one as MemoryError or RuntimeError."""
    m = _DIGEST_NAME.search(path.name)
    if m and _digest(path.read_bytes()) != m.group(1):
        raise BadInputError(
            f"{path}: corrupt {what} (its content does not match the hash in its name: "
            f"truncated or edited; {redo})"
        )
    try:
        check_layout(path)
    except OSError as e:
        raise BadInputError(f"{path}: cannot read the {what} ({e.strerror or e})") from None
    except ValueError as e:
        raise BadInputError(
            f"{path}: not a fastText model, or not all of one ({e}; {redo})"
        ) from None
    try:
        return _import_fasttext().load_model(str(path))
    except (ValueError, MemoryError, RuntimeError) as e:
        raise BadInputError(f"{path}: not a fastText model ({e})") from e


# A trained fastText weight stays well under this (measured max ~5 input, ~10 output over
# dims 8-64, 10-100 epochs, lr 0.1-1.0); uninitialised memory left in the matrix does not.
WEIGHT_LIMIT = 100.0


def max_abs_weight(model: Any) -> float:
    """The largest |weight| of an unquantised model's input and output matrices (``inf`` if
    any is not finite). Reads the matrices in place, block by block."""
    worst = 0.0
    for matrix in (model.f.getInputMatrix(), model.f.getOutputMatrix()):
        a = np.asarray(matrix)  # a view of fastText's buffer, not a copy
        for start in range(0, a.shape[0], 65_536):
            block = a[start : start + 65_536]
            if not np.isfinite(block).all():
                return float("inf")
            worst = max(worst, float(np.abs(block).max(initial=0.0)))
    return worst


@contextmanager
def nan_guard(model_name: str) -> Iterator[None]:
    """fastText's "Encountered NaN" at predict time as a one-line error naming the model."""
    try:
        yield
    except RuntimeError as e:
        if "NaN" not in str(e):
            raise
        raise EngineError(
            f"{model_name}: fastText predicted NaN: the model holds non-finite weights "
            "(a broken training run); retrain it"
        ) from e


def train_classifier(
    texts: list[str], labels: list[str], out_dir: Path, stem: str, cfg: RaterTrainConfig
) -> Path:
    """Train one fastText classifier, save it under a content-hashed name, return the path."""
    fasttext = _import_fasttext()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        train_path = Path(tmp) / "train.txt"
        with open(train_path, "w", encoding="utf-8") as f:
            for t, y in zip(texts, labels, strict=True):
                f.write(f"{_label(y)} {clean(t, cfg.max_chars)}\n")
        model = None
        last: Exception | None = None
        threads = training_threads(cfg)
        for attempt in range(cfg.max_retries + 1):
            try:
                with zero_filled_malloc() if threads == 1 else nullcontext():
                    model = fasttext.train_supervised(
                        str(train_path),
                        epoch=cfg.epoch,
                        lr=cfg.lr,
                        dim=cfg.dim,
                        wordNgrams=cfg.word_ngrams,
                        bucket=cfg.bucket,
                        minCount=cfg.min_count,
                        thread=threads,
                        seed=cfg.seed + attempt,
                        verbose=0,
                    )
            except RuntimeError as e:  # "Encountered NaN": retry with a new seed
                if "NaN" not in str(e):
                    raise
                last = e
                continue
            worst = max_abs_weight(model)
            if worst <= WEIGHT_LIMIT:
                break
            model = None
            last = RuntimeError(
                f"weights up to {worst:.3g} (limit {WEIGHT_LIMIT:g}): uninitialised memory "
                "left in the model, or a learning rate too high"
            )
        if model is None:
            raise EngineError(
                f"fastText training of {stem} failed {cfg.max_retries + 1} times: {last}"
            )
        if cfg.quantize:
            model.quantize(input=None, retrain=False, cutoff=cfg.quantize_cutoff, qnorm=True)
        tmp_model = Path(tmp) / "model.bin"
        model.save_model(str(tmp_model))
        data = tmp_model.read_bytes()
    path = out_dir / f"{stem}-{_digest(data)}.{'ftz' if cfg.quantize else 'bin'}"
    atomic_write_bytes(path, data)
    return path
