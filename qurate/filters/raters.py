"""fastText raters distilled from the LLM judge: one per dimension, plus a domain classifier.

A dimension's rater is a fastText classifier over the judge's rounded score (``__label__0``
.. ``__label__5``); its prediction is the expected score over all labels' probabilities, so
it stays a continuous score like the judge's. The domain classifier predicts the taxonomy
label and its probability.

Known fastText pitfalls handled here (see ENV-NOTES): this build (fasttext-numpy2-wheel 0.9.2)
allocates the input matrix uninitialised, and its initialiser fills ``min(thread, 10)`` blocks
of ``floor(rows x dim / 10)`` floats each, so the last ``rows x dim mod 10`` floats are only
filled by an 11th block. With fewer threads whatever was in that memory stays; training spreads
one huge value into thousands of rows or fails with "Encountered NaN" (at train or predict
time). So we train with ``thread >= 11``, check every trained model's weights (finite and
below ``WEIGHT_LIMIT``) and retrain with a new seed on a bad one or on that error.
``wordNgrams=2`` with 2M buckets is an 800 MB model, so ``bucket=200000``; and models are
product-quantised with a row cutoff (``.ftz``, ~200 KB). Files are named by content hash,
since datatrove's model cache (and any other) keys by path.

A raters directory holds the model files and ``raters.json`` (dimensions -> file, label
scale, judge metadata, agreement metrics); ``Raters.load(dir)`` is all ``apply`` needs.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from qurate.curate.shards import atomic_write_bytes
from qurate.errors import BadInputError, EngineError

RATERS_FILE = "raters.json"
PREPROCESS_VERSION = 1


class RaterTrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epoch: int = Field(25, ge=1)
    lr: float = Field(0.5, gt=0)
    dim: int = Field(16, ge=4)
    word_ngrams: int = Field(2, ge=1)
    # 200k buckets: the 2M default makes an 800 MB model with bigrams.
    bucket: int = Field(200_000, ge=1000)
    min_count: int = Field(1, ge=1)
    # >= 11 makes fastText initialise every weight (see module docstring); no slower on 2 cores.
    thread: int = Field(12, ge=11)
    max_retries: int = Field(5, ge=0)
    seed: int = 0
    # Product-quantise to .ftz, keeping the ``quantize_cutoff`` rows (words and n-gram
    # buckets) with the largest norms: ~200 KB instead of ~13 MB. Quantising all 200k
    # buckets takes minutes (k-means); the cutoff makes it seconds.
    quantize: bool = True
    quantize_cutoff: int = Field(10_000, ge=100)
    # Characters of each document the rater reads (the judge read a token-truncated head).
    max_chars: int = Field(10_000, ge=100)


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
        for attempt in range(cfg.max_retries + 1):
            try:
                model = fasttext.train_supervised(
                    str(train_path),
                    epoch=cfg.epoch,
                    lr=cfg.lr,
                    dim=cfg.dim,
                    wordNgrams=cfg.word_ngrams,
                    bucket=cfg.bucket,
                    minCount=cfg.min_count,
                    thread=cfg.thread,
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
    digest = hashlib.sha256(data).hexdigest()[:16]
    path = out_dir / f"{stem}-{digest}.{'ftz' if cfg.quantize else 'bin'}"
    atomic_write_bytes(path, data)
    return path


@dataclass
class RaterSpec:
    """One trained model: its file and the labels it predicts."""

    name: str
    path: Path
    labels: list[str]


class Raters:
    """Loaded raters; ``predict`` scores a batch of texts on every dimension and the domain."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        meta_path = self.directory / RATERS_FILE
        if not meta_path.is_file():
            raise BadInputError(
                f"{directory}: no {RATERS_FILE} (train raters with `qurate score distill`)"
            )
        try:
            self.meta: dict[str, Any] = json.loads(meta_path.read_text())
        except json.JSONDecodeError as e:
            raise BadInputError(f"{meta_path}: corrupt ({e})") from e
        fasttext = _import_fasttext()
        self.max_chars = int(self.meta.get("max_chars", 10_000))
        self.dimensions: dict[str, Any] = {}
        self.values: dict[str, np.ndarray] = {}
        for name, spec in self.meta["dimensions"].items():
            model = self._load(fasttext, spec["file"])
            self.dimensions[name] = model
            # Map each label of the model to its numeric score.
            self.values[name] = {lab: float(_unlabel(lab)) for lab in model.get_labels()}  # type: ignore[assignment]
        self.domain_model = (
            self._load(fasttext, self.meta["domain"]["file"]) if self.meta.get("domain") else None
        )

    def _load(self, fasttext: Any, name: str) -> Any:
        path = self.directory / name
        if not path.is_file():
            raise BadInputError(f"{path}: rater model file missing")
        try:
            return fasttext.load_model(str(path))
        except ValueError as e:
            raise BadInputError(f"{path}: not a fastText model ({e})") from e

    def predict(
        self, texts: list[str]
    ) -> tuple[dict[str, np.ndarray], list[str | None], np.ndarray]:
        """Per-dimension expected scores, domain labels and domain probabilities."""
        lines = [clean(t, self.max_chars) for t in texts]
        scores: dict[str, np.ndarray] = {}
        for name, model in self.dimensions.items():
            with nan_guard(str(self.directory / self.meta["dimensions"][name]["file"])):
                labels, probs = model.predict(lines, k=-1)
            values = self.values[name]
            scores[name] = np.fromiter(
                (
                    float(np.dot(ps, [values[lab] for lab in ls]))
                    for ls, ps in zip(labels, probs, strict=True)
                ),
                dtype=np.float32,
                count=len(lines),
            )
        domains: list[str | None] = [None] * len(texts)
        dprob = np.full(len(texts), np.nan, dtype=np.float32)
        if self.domain_model is not None:
            with nan_guard(str(self.directory / self.meta["domain"]["file"])):
                labels, probs = self.domain_model.predict(lines, k=1)
            domains = [_unlabel(ls[0]) if ls else None for ls in labels]
            dprob = np.array([ps[0] if len(ps) else np.nan for ps in probs], dtype=np.float32)
        return scores, domains, dprob


def write_raters_meta(directory: Path, meta: dict[str, Any]) -> None:
    atomic_write_bytes(directory / RATERS_FILE, json.dumps(meta, indent=2, sort_keys=True).encode())


def prune_stale(directory: Path, keep: set[str]) -> None:
    """Remove model files of earlier distill runs into the same directory."""
    for p in directory.glob("*.ftz"):
        if p.name not in keep:
            os.remove(p)
    for p in directory.glob("*.bin"):
        if p.name not in keep:
            os.remove(p)
