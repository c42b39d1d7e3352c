"""Micro-benchmark: qurate's filter steps vs datatrove's four stock quality filters.

Both run over the same documents, in the same process, as chains (a rejected document is not
looked at again by later rules, in either chain):

- baseline: datatrove's GopherRepetitionFilter -> GopherQualityFilter -> C4QualityFilter ->
  FineWebQualityFilter, stock defaults (spaCy word tokenisation, as in FineWeb's recipe);
- qurate: Heuristics alone (the same rule families), WebFilter alone (line removal and the
  web-junk rules, run before the heuristics in curate), and the full filter chain
  Normalize -> LanguageID (fastText lid.176) -> WebFilter -> Heuristics.

Input: the bundled sample corpus (``qurate/data/sample``), or a JSONL file with a ``text``
field given as the first argument. Each text is repeated ``--repeat`` times (distinct copies)
so the timing covers enough work. Prints docs/s for each and, last,
``ratio=<qurate heuristics / stock>``.

    .venv/bin/python bench/filters_micro.py [--repeat 3] [corpus.jsonl]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import pyarrow.parquet as pq
from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)

from qurate.filters.heuristics.rules import Heuristics
from qurate.filters.langid import LanguageID
from qurate.filters.normalize import Normalize
from qurate.filters.web.rules import WebFilter

SAMPLE = Path(__file__).resolve().parent.parent / "qurate" / "data" / "sample"


def load_texts(path: Path | None) -> list[str]:
    if path is not None:
        with path.open(encoding="utf-8") as f:
            return [json.loads(line)["text"] for line in f if line.strip()]
    texts: list[str] = []
    for p in sorted(SAMPLE.glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in p.open(encoding="utf-8") if line.strip()]
    for p in sorted(SAMPLE.glob("*.jsonl.gz")):
        with gzip.open(p, "rt", encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f if line.strip()]
    for p in sorted(SAMPLE.glob("*.parquet")):
        texts += pq.read_table(p, columns=["text"]).column("text").to_pylist()
    return [t for t in texts if isinstance(t, str) and t.strip()]


def run_chain(steps, texts: list[str]) -> tuple[float, int]:
    # A space appended per copy makes each text distinct, so datatrove's lru_cache on word
    # splitting cannot serve one document's copies from the cache.
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    t0 = time.perf_counter()
    data = iter(docs)
    for step in steps:
        data = step.run(data) if hasattr(step, "run") else step(data)
    kept = sum(1 for d in data if "reject_reason" not in d.metadata)
    return time.perf_counter() - t0, kept


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    base = load_texts(args.corpus)
    texts = [t + " " * r for r in range(args.repeat) for t in base]
    n_mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts)} documents, {n_mb:.1f} MB of text")

    stock = [
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(),
        FineWebQualityFilter(),
    ]
    Heuristics().filter(Document(text=base[0], id="warm"))  # compile regexes outside the timing
    LanguageID().filter(Document(text=base[0], id="warm"))  # load the model outside the timing
    list(stock[1].run(iter([Document(text=base[0], id="warm")])))  # load spaCy likewise

    t_stock, k_stock = run_chain(stock, texts)
    t_ours, k_ours = run_chain([Heuristics()], texts)
    t_web, k_web = run_chain([WebFilter()], texts)
    t_full, k_full = run_chain([Normalize(), LanguageID(), WebFilter(), Heuristics()], texts)
    n = len(texts)
    for name, t, k in (
        ("stock datatrove (Gopher rep + Gopher quality + C4 + FineWeb)", t_stock, k_stock),
        ("qurate Heuristics (same rule families)", t_ours, k_ours),
        ("qurate WebFilter (web rules and line removal)", t_web, k_web),
        ("qurate Normalize + LanguageID + WebFilter + Heuristics", t_full, k_full),
    ):
        print(f"{name:64s} {n / t:9.0f} docs/s {n_mb / t:7.2f} MB/s  kept {k}/{n}")
    print(f"full chain vs stock: {t_stock / t_full:.2f}x; WebFilter / Heuristics time: "
          f"{t_web / t_ours:.2f}")  # fmt: skip
    print(f"ratio={t_stock / t_ours:.2f}")


if __name__ == "__main__":
    main()
