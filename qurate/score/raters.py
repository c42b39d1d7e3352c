"""fastText raters distilled from the LLM judge: one per dimension, plus a domain classifier.

A dimension's rater is a fastText classifier over the judge's rounded score (``__label__0``
.. ``__label__5``); its prediction is the expected score over all labels' probabilities, so
it stays a continuous score like the judge's. The domain classifier predicts the taxonomy
label and its probability.

Training goes through :mod:`qurate.llm.fasttext` (the fastText pitfalls are handled there).

A raters directory holds the model files and ``raters.json`` (dimensions -> file, label
scale, judge metadata, agreement metrics); ``Raters.load(dir)`` is all ``apply`` needs.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qurate.contract.shards import atomic_write_bytes
from qurate.errors import BadInputError
from qurate.llm.fasttext import _label, _unlabel, clean, load_model, nan_guard

RATERS_FILE = "raters.json"
PREPROCESS_VERSION = 1


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
        self.meta: dict[str, Any] = read_meta(self.directory)
        self.max_chars = int(self.meta.get("max_chars", 10_000))
        self.dimensions: dict[str, Any] = {}
        self.values: dict[str, np.ndarray] = {}
        for name, spec in self.meta["dimensions"].items():
            model = self._load(spec["file"])
            self.dimensions[name] = model
            # Map each label of the model to its numeric score.
            self.values[name] = _scores_of(model.get_labels(), self.directory / spec["file"])  # type: ignore[assignment]
        self.domain_model = (
            self._load(self.meta["domain"]["file"]) if self.meta.get("domain") else None
        )
        # fastText labels cannot hold spaces: map each back to the taxonomy's own spelling.
        self.domain_names = {
            _label(name): name for name in (self.meta.get("domain") or {}).get("labels", [])
        }
        if self.domain_model is not None and self.domain_names:
            foreign = sorted(set(self.domain_model.get_labels()) - set(self.domain_names))
            if foreign:  # lid.176 as the domain model labelled every document "en", exit 0
                raise BadInputError(
                    f"{self.directory / self.meta['domain']['file']}: not this directory's "
                    f"domain model (labels {', '.join(_unlabel(x) for x in foreign[:5])} are "
                    "not in raters.json); run `qurate score distill` again"
                )

    def _load(self, name: str) -> Any:
        path = self.directory / name
        if not path.is_file():
            raise BadInputError(f"{path}: rater model file missing")
        return load_model(path, "rater model", "run `qurate score distill` again")

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
            domains = [
                self.domain_names.get(ls[0], _unlabel(ls[0])) if ls else None for ls in labels
            ]
            dprob = np.array([ps[0] if len(ps) else np.nan for ps in probs], dtype=np.float32)
        return scores, domains, dprob


def _scores_of(labels: list[str], path: Path) -> dict[str, float]:
    """A rater's labels as the scores they stand for; a model whose labels are not scores (a
    domain or language model named as a rater) is a one-line error, not a ValueError."""
    try:
        return {lab: float(_unlabel(lab)) for lab in labels}
    except ValueError:
        shown = ", ".join(_unlabel(x) for x in labels[:5])
        raise BadInputError(
            f"{path}: not a rater model (its labels {shown} are not scores); "
            "run `qurate score distill` again"
        ) from None


def read_meta(directory: Path) -> dict[str, Any]:
    """The checked ``raters.json`` of a raters directory, or a one-line error saying what is
    wrong (``apply`` calls it before it starts a run, so a bad one leaves nothing behind)."""
    meta_path = directory / RATERS_FILE
    if directory.exists() and not directory.is_dir():  # it was "no such raters directory"
        raise BadInputError(f"{directory}: not a directory (give the `qurate score distill` -o)")
    if not directory.is_dir():
        raise BadInputError(f"{directory}: no such raters directory (`qurate score distill` -o)")
    if not meta_path.is_file():
        raise BadInputError(
            f"{directory}: no {RATERS_FILE} (train raters with `qurate score distill`)"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:  # not UTF-8: was a traceback
        raise BadInputError(f"{meta_path}: corrupt ({e})") from e
    if (why := _meta_problem(meta)) is not None:
        raise BadInputError(
            f"{meta_path}: not a raters.json written by `qurate score distill` ({why})"
        )
    return meta


def _meta_problem(meta: Any) -> str | None:
    """What makes a loaded raters.json unusable, or None. A hand-edited one without raters
    scored every document with nothing and failed deep in ``apply`` (a zip of unequal length)."""
    if not isinstance(meta, dict):
        return f"a {type(meta).__name__}, not an object"
    dims = meta.get("dimensions")
    if not isinstance(dims, dict) or not dims:
        return "no raters under 'dimensions'"
    for name, spec in dims.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("file"), str):
            return f"dimension {name!r} names no model 'file'"
    domain = meta.get("domain")
    if domain is not None and not (
        isinstance(domain, dict) and isinstance(domain.get("file"), str)
    ):
        return "'domain' names no model 'file'"
    if domain is not None and not _strings(domain.get("labels", [])):
        return "'domain.labels' is not a list of labels"
    reference = meta.get("reference")
    if reference and not (isinstance(reference, dict) and isinstance(reference.get("file"), str)):
        return "'reference' names no model 'file'"
    version = meta.get("preprocess_version", PREPROCESS_VERSION)
    if version != PREPROCESS_VERSION:  # recorded by distill, and never compared: texts were
        # cleaned one way for training and another for scoring, without a word
        return (
            f"its raters read text cleaned by preprocessing version {version!r}, this qurate "
            f"cleans with version {PREPROCESS_VERSION}; run `qurate score distill` again"
        )
    max_chars = meta.get("max_chars", 1)
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
        return f"'max_chars' is {max_chars!r}, not a count of characters"
    return _check_problem(meta.get("judge_check"))


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_problem(check: Any) -> str | None:
    """What makes the judge check a raters.json carries (it scales the raters' weight in
    ``apply``) unusable: a hand-edited ``"x"``, a null or NaN reliability, an AUC without the
    number of documents behind it were tracebacks after the models had loaded."""
    if not check:
        return None
    if not isinstance(check, dict):
        return f"'judge_check' is a {type(check).__name__}, not an object"
    reliability = check.get("reliability", 1.0)
    if not _finite(reliability) or not 0 <= reliability <= 1:
        return f"'judge_check.reliability' is {reliability!r}, not a number in [0, 1]"
    auc, n = check.get("auc"), check.get("n")
    if auc is not None and not (_finite(auc) and isinstance(n, int) and not isinstance(n, bool)):
        return "'judge_check' needs a finite 'auc' and the count 'n' it was measured on"
    return None


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


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
