"""MinHash signature speed: qurate's DedupSignatures vs datatrove's stock MinhashDedupSignature.

Usage: .venv/bin/python bench/dedup_signatures.py [--mb 8]

Both steps run their full ``run()`` (signatures + sorted bucket files on disk) over the same
documents: the Python standard library's source files, cut into ~4 KB documents (real code and
prose that every Python install has). Stock runs with its default config (5-grams, 14x8);
ours with qurate's default (word 2-grams, 32x4 = 128 hashes vs stock's 112, plus the exact
hashes and document ids it also writes). Last line: ``ratio=<qurate docs/s / stock docs/s>``.
"""

from __future__ import annotations

import argparse
import sysconfig
import tempfile
import time
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature

from qurate.dedup.steps import DedupConfig, DedupSignatures
from qurate.dedup.tokens import char_table


def load_docs(mb: float) -> list[Document]:
    docs: list[Document] = []
    size = 0
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for i in range(0, len(text), 4000):
            chunk = text[i : i + 4000]
            docs.append(Document(text=chunk, id=f"{path.name}:{i}"))
            size += len(chunk.encode())
            if size >= mb * 1e6:
                return docs
    return docs


def timed(step, docs: list[Document]) -> float:
    t0 = time.perf_counter()
    for _ in step.run(iter(docs), 0, 1) or ():
        pass
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=8.0, help="MB of text")
    args = ap.parse_args()
    docs = load_docs(args.mb)
    mb = sum(len(d.text.encode()) for d in docs) / 1e6
    char_table()  # one-off per process (0.5 s): not part of the steady state
    with tempfile.TemporaryDirectory() as tmp:
        # Warm both up (lazy imports, tables) on a few documents outside the timing.
        timed(MinhashDedupSignature(f"{tmp}/w1", config=MinhashConfig()), docs[:20])
        timed(DedupSignatures(f"{tmp}/w2", DedupConfig()), docs[:20])
        stock = MinhashDedupSignature(f"{tmp}/stock", config=MinhashConfig())
        t_stock = timed(stock, docs)
        ours = DedupSignatures(f"{tmp}/ours", DedupConfig())
        t_ours = timed(ours, docs)
    print(f"{len(docs)} docs, {mb:.1f} MB")
    print(
        f"stock MinhashDedupSignature: {len(docs) / t_stock:8.0f} docs/s  {mb / t_stock:6.2f} MB/s"
    )
    print(f"qurate DedupSignatures:      {len(docs) / t_ours:8.0f} docs/s  {mb / t_ours:6.2f} MB/s")
    print(f"ratio={t_stock / t_ours:.2f}")


if __name__ == "__main__":
    main()
