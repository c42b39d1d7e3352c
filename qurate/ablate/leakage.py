"""Leakage: evaluation texts that also occur in an arm, so a good number can be explained.

Three checks, all on the dedup machinery (:mod:`qurate.dedup`), per arm and evaluation:

- **exact**: the casefolded, whitespace-collapsed text hash (``dedup.steps.exact_key``);
- **near**: MinHash signatures (``dedup.minhash.minhash_texts``, the curate dedup's shingles
  and hash family); an eval text whose estimated Jaccard with an arm text reaches
  ``jaccard`` in any LSH band bucket;
- **ngram**: any word ``n``-gram (13 by default, the decontamination rule of the Qwen2.5
  report) shared with the arm (``dedup.tokens``: lowercased words, punctuation ignored).

A flagged eval text is not removed: the report shows the share per arm, and the user decides.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from qurate.dedup.config import DedupConfig
from qurate.dedup.minhash import minhash_texts
from qurate.dedup.steps import exact_key
from qurate.dedup.tokens import multi_ngram_hashes, tokenize_hashes


class ArmIndex:
    """What the leakage checks need of one arm's texts: exact keys, n-grams, signatures."""

    def __init__(self, texts: list[str], *, ngram: int = 13, dedup: DedupConfig | None = None):
        self.n = ngram
        self.cfg = dedup or DedupConfig()
        self.exact = {exact_key(t) for t in texts}
        toks, offs = tokenize_hashes(texts)
        grams = multi_ngram_hashes(toks, offs, [ngram]).get(ngram)
        self.grams = np.unique(grams[0]) if grams is not None else np.zeros(0, np.uint64)
        sig, has = minhash_texts(texts, self.cfg) if texts else (np.zeros((0, 0)), np.zeros(0))
        self.sig = sig[has.astype(bool)] if len(texts) else sig
        self.buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
        r = self.cfg.rows
        for i, row in enumerate(self.sig):
            for b in range(self.cfg.bands):
                self.buckets[(b, row[b * r : (b + 1) * r].tobytes())].append(i)

    def check(self, texts: list[str], *, jaccard: float) -> dict[str, list[int]]:
        """Indices of ``texts`` that leak, by check (``exact``, ``near``, ``ngram``, ``any``)."""
        exact = [i for i, t in enumerate(texts) if exact_key(t) in self.exact]
        toks, offs = tokenize_hashes(texts)
        ngram: set[int] = set()
        grams = multi_ngram_hashes(toks, offs, [self.n]).get(self.n)
        if grams is not None and self.grams.size:
            h, owner = grams
            pos = np.searchsorted(self.grams, h).clip(max=self.grams.size - 1)
            ngram = {int(o) for o in np.unique(owner[self.grams[pos] == h])}
        near: set[int] = set()
        if len(self.sig):
            sig, has = minhash_texts(texts, self.cfg)
            r = self.cfg.rows
            for i, row in enumerate(sig):
                if not has[i]:
                    continue
                cands = {
                    j
                    for b in range(self.cfg.bands)
                    for j in self.buckets.get((b, row[b * r : (b + 1) * r].tobytes()), ())
                }
                if any(float(np.mean(self.sig[j] == row)) >= jaccard for j in cands):
                    near.add(i)
        return {
            "exact": exact,
            "near": sorted(near),
            "ngram": sorted(ngram),
            "any": sorted(set(exact) | near | ngram),
        }


def leakage_table(
    arms: dict[str, list[str]], evals: dict[str, list[str]], *, ngram: int, jaccard: float
) -> dict[str, dict[str, dict[str, int]]]:
    """``{arm: {eval: {"exact": k, "near": k, "ngram": k, "any": k, "docs": n}}}``."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for arm, texts in arms.items():
        index = ArmIndex(texts, ngram=ngram)
        out[arm] = {}
        for name, etexts in evals.items():
            hits = index.check(etexts, jaccard=jaccard)
            out[arm][name] = {k: len(v) for k, v in hits.items()} | {"docs": len(etexts)}
    return out
