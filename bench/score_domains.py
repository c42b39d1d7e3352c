"""Build the shipped domain classifier (``qurate/data/domains_v1.ftz``) and measure it held out.

Usage:

    .venv/bin/python bench/score_domains.py [--write] [--eval bench/data/eval]

Training text: the bundled sample (``qurate/data/sample``, real redistributable text, see its
SOURCES.md), labelled by the package each record comes from, in the judge's taxonomy:
man pages, the Debian Reference and the Python docs are ``technology``; the KJV and the
fortune anthologies ``literature``; source files ``code``; sympy's docstrings ``math``. The
damaged copies in ``web.jsonl`` are left out. ``--write`` saves the model into the package.

Held-out accuracy: the curate eval corpus (``bench/setup-eval.sh``), whose texts come from the
other side of ``corpus_sources.split_of`` (no shared text) and from six languages the sample
does not have (nl, sv, uk, tr, cs, pt prose): ``docs`` -> technology, ``literature`` ->
literature, ``code`` -> code (it has no math). Prints accuracy, per-label recall and the
confusion; the last line is ``accuracy=...``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "qurate" / "data" / "sample"
TECHNOLOGY = ("manpages", "debian-reference", "python3.11-doc")
LITERATURE = ("bible-kjv-text", "fortunes")


def label_of(source: str) -> str | None:
    pkg = source.split(":", 1)[0]
    if pkg.startswith(TECHNOLOGY):
        return "technology"
    if pkg.startswith(LITERATURE):
        return "literature"
    if pkg == "sympy":
        return "math"
    return None


def training_set() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for name in ("docs.jsonl", "math.jsonl"):
        for line in (SAMPLE / name).open(encoding="utf-8"):
            r = json.loads(line)
            if label_of(r["source"]):
                texts.append(r["text"])
                labels.append(label_of(r["source"]))
    for line in gzip.open(SAMPLE / "literature.jsonl.gz", "rt", encoding="utf-8"):
        r = json.loads(line)
        texts.append(r["text"])
        labels.append("literature")
    for t in pq.read_table(SAMPLE / "code.parquet", columns=["text"]).column("text").to_pylist():
        texts.append(t)
        labels.append("code")
    return texts, labels


def held_out(eval_dir: Path) -> tuple[list[str], list[str]]:
    kinds = {"docs": "technology", "literature": "literature", "code": "code"}
    labels = {j["id"]: j for j in map(json.loads, (eval_dir / "labels.jsonl").open())}
    texts, truth = [], []
    for line in (eval_dir / "corpus.jsonl").open(encoding="utf-8"):
        d = json.loads(line)
        lab = labels[d["id"]]
        if lab["label"] == "good" and lab["kind"] in kinds and lab["dup_of"] is None:
            texts.append(d["text"])
            truth.append(kinds[lab["kind"]])
    return texts, truth


def main() -> None:
    from qurate.llm.fasttext import RaterTrainConfig, train_classifier
    from qurate.score.domains import DOMAINS_MODEL, DomainClassifier

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval", type=Path, default=ROOT / "bench/data/eval")
    ap.add_argument("--write", action="store_true", help=f"save the model to {DOMAINS_MODEL}")
    args = ap.parse_args()
    texts, labels = training_set()
    print(f"training: {len(texts)} documents {dict(Counter(labels))}")
    cfg = RaterTrainConfig(epoch=25, dim=32, word_ngrams=2, max_chars=4000)
    with tempfile.TemporaryDirectory() as tmp:
        path = train_classifier(texts, labels, Path(tmp), "domains", cfg)
        if args.write:
            shutil.copyfile(path, DOMAINS_MODEL)
            print(f"wrote {DOMAINS_MODEL} ({DOMAINS_MODEL.stat().st_size // 1024} KB)")
        clf = DomainClassifier(path)
        ev_texts, truth = held_out(args.eval)
        pred, _ = clf.predict(ev_texts)
    names = sorted(set(truth) | set(pred))
    conf = Counter(zip(truth, pred, strict=True))
    acc = sum(conf[(t, t)] for t in names) / len(truth)
    print(f"held out: {len(truth)} documents {dict(Counter(truth))}")
    print("truth \\ predicted  " + " ".join(f"{n:>11}" for n in names))
    for t in names:
        row = " ".join(f"{conf[(t, p)]:>11}" for p in names)
        n = sum(conf[(t, p)] for p in names)
        print(f"{t:<18} {row}   recall {conf[(t, t)] / n if n else float('nan'):.3f}")
    print(f"accuracy={acc:.3f}")


if __name__ == "__main__":
    main()
