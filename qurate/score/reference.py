"""A DCLM-style reference classifier: how much a document looks like reference-quality text.

DCLM's best filter is a fastText classifier of high-quality reference text (instruction data,
ELI5) against a random sample of the pool being filtered: what the pool has more of than the
reference is what gets filtered out. ``score distill`` trains one (``--reference PATH...``)
next to the raters, and ``score apply`` adds P(reference) as the ``reference`` component,
weighted, like every signal, by how well it tells documents from their word-shuffled copies.

The default reference (``default``) is the bundled sample's real text: man pages and the
Debian Reference in 9 languages, the Python docs, the KJV and fortune anthologies, source code
in 8 languages and sympy's docstrings (``qurate/data/sample``, provenance in SOURCES.md; the
damaged copies in ``web.jsonl`` are left out). It is fair to measure it on the held-out eval
corpus: that corpus is cut from the other side of ``bench/corpus_sources.split_of`` and shares
no text with the sample. It is small and technical, so on a real crawl pass your own
reference (e.g. Wikipedia, textbooks, a curated instruction set): JSONL/Parquet files with a
``text`` field, stage directories, or folders of .txt/.md files.

Measured (bench/RESULTS.md): a weak signal on machine-made junk that passes curate; its own
check decides its weight.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import xxhash

from qurate.contract.files import files_under
from qurate.contract.shards import MANIFEST, iter_rows, read_manifest
from qurate.errors import BadInputError
from qurate.llm.fasttext import (
    RaterTrainConfig,
    clean,
    load_model,
    nan_guard,
    train_classifier,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
DEFAULT_FILES = ("docs.jsonl", "literature.jsonl.gz", "code.parquet", "math.jsonl")
LABEL = "__label__reference"


def _read_file(path: Path) -> list[str]:
    name = path.name
    if name.endswith((".jsonl", ".jsonl.gz")):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
            return [str(json.loads(line).get("text") or "") for line in f if line.strip()]
    if name.endswith(".parquet"):
        return [t or "" for t in pq.read_table(path, columns=["text"]).column("text").to_pylist()]
    if name.endswith((".txt", ".md")):
        return [path.read_text(encoding="utf-8", errors="replace")]
    raise BadInputError(f"{path}: reference text must be .jsonl(.gz), .parquet, .txt or .md")


def load_reference(paths: list[str]) -> tuple[list[str], list[str]]:
    """The reference texts of ``paths`` ('default', files, folders, stage directories) and the
    resolved sources."""
    texts: list[str] = []
    sources: list[str] = []
    for spec in paths:
        if spec == "default":
            files = [SAMPLE / f for f in DEFAULT_FILES]
        else:
            p = Path(spec)
            if not p.exists():
                raise BadInputError(f"{spec}: no such reference file or directory")
            if p.is_dir() and (p / MANIFEST).is_file():
                texts += [r["text"] or "" for r in iter_rows(p, columns=["text"])]
                sources.append(str(p))
                continue
            files = files_under(p) if p.is_dir() else [p]
        for f in files:
            texts += _read_file(f)
            sources.append(str(f))
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise BadInputError(f"{', '.join(paths)}: no reference text")
    return texts, sources


def pool_sample(annotations: Path, fallback: list[str], n: int, seed: int = 0) -> list[str]:
    """A random sample of ``n`` documents of the pool the annotations were drawn from (the
    annotate stage's input), chosen by a hash of the id; ``fallback`` when it is gone."""
    inputs = (
        read_manifest(annotations).get("inputs") if (annotations / MANIFEST).is_file() else None
    )
    pool = Path(inputs[0]) if inputs else None
    if pool is None or not (pool / MANIFEST).is_file():
        return fallback[:n]
    keyed = [
        (xxhash.xxh64_intdigest(r["id"], seed=seed), r["text"] or "")
        for r in iter_rows(pool, columns=["id", "text"])
    ]
    keyed.sort(key=lambda kv: kv[0])
    return [t for _, t in keyed[:n] if t.strip()]


def train_reference(
    reference: list[str], pool: list[str], out_dir: Path, cfg: RaterTrainConfig, seed: int = 0
) -> Path:
    """fastText reference-vs-pool classifier; at most as many reference documents as pool ones
    (a seeded sample), so neither class swamps the other."""
    if len(reference) > len(pool):
        rng = np.random.default_rng(seed)
        reference = [
            reference[i] for i in sorted(rng.choice(len(reference), len(pool), replace=False))
        ]
    texts = reference + pool
    labels = ["reference"] * len(reference) + ["pool"] * len(pool)
    return train_classifier(texts, labels, out_dir, "reference", cfg)


class ReferenceClassifier:
    """``predict(texts)`` -> P(reference) per text."""

    def __init__(self, path: str | Path, max_chars: int = 10_000) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise BadInputError(f"{self.path}: reference classifier file missing")
        self.model = load_model(self.path)
        if LABEL not in self.model.get_labels():  # a foreign model scored P(reference) 0 for all
            raise BadInputError(
                f"{self.path}: not a reference classifier (no {LABEL} label); "
                "run `qurate score distill` again"
            )
        self.max_chars = max_chars

    def predict(self, texts: list[str]) -> np.ndarray:
        lines = [clean(t, self.max_chars) for t in texts]
        with nan_guard(str(self.path)):
            labels, probs = self.model.predict(lines, k=-1)
        return np.clip(
            [
                dict(zip(ls, ps, strict=True)).get(LABEL, 0.0)
                for ls, ps in zip(labels, probs, strict=True)
            ],
            0.0,
            1.0,
        ).astype(np.float64)
