"""Dedup synthetic documents against each other and against the real pool.

This reuses the curate stage's definitions, so "duplicate" means the same thing everywhere:
:func:`qurate.dedup.steps.exact_key` (casefolded, whitespace-collapsed text hash) for exact
copies, and :func:`qurate.dedup.minhash.minhash_texts` / ``band_keys`` signatures with
the same :class:`DedupConfig` (word n-grams, bands x rows, verified Jaccard threshold) for
near copies.

Synthetic data is small next to the pool, so the index is built over the synthetic side
only: the pool (any stage directories) is streamed in batches, each pool document's band
keys are looked up in the synthetic index, and candidate pairs are verified by the Jaccard
estimated from the two full signatures. Memory is O(synthetic documents); the pool is read
once. Within the synthetic set the documents are visited in priority order (best reward
first), so of a group of near-copies the best one survives.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from qurate.contract.shards import check_stage_dir, iter_batches
from qurate.dedup.config import DedupConfig
from qurate.dedup.minhash import band_keys, minhash_texts
from qurate.dedup.steps import exact_key


class _Index:
    def __init__(self, cfg: DedupConfig) -> None:
        self.cfg = cfg
        self.exact: dict[tuple[int, int], str] = {}
        self.bands: list[dict[int, list[int]]] = [defaultdict(list) for _ in range(cfg.bands)]
        self.sigs: list[np.ndarray] = []
        self.ids: list[str] = []

    def keys(self, sigs: np.ndarray) -> np.ndarray:
        n = sigs.shape[0]
        b = sigs.reshape(n, self.cfg.bands, self.cfg.rows)
        return np.stack([band_keys(b[:, j, :]) for j in range(self.cfg.bands)], axis=1)

    def add(
        self, doc_id: str, ex: tuple[int, int], sig: np.ndarray | None, keys: np.ndarray | None
    ) -> None:
        self.exact.setdefault(ex, doc_id)
        if sig is not None and keys is not None:
            pos = len(self.ids)
            self.ids.append(doc_id)
            self.sigs.append(sig)
            for j, k in enumerate(keys.tolist()):
                self.bands[j][k].append(pos)

    def match(
        self, ex: tuple[int, int], sig: np.ndarray | None, keys: np.ndarray | None
    ) -> str | None:
        if self.cfg.exact and ex in self.exact:
            return self.exact[ex]
        if not self.cfg.near or sig is None or keys is None:
            return None
        seen: set[int] = set()
        for j, k in enumerate(keys.tolist()):
            for pos in self.bands[j].get(k, ()):
                if pos in seen:
                    continue
                seen.add(pos)
                if float((self.sigs[pos] == sig).mean()) >= self.cfg.threshold:
                    return self.ids[pos]
        return None


def find_duplicates(
    ids: list[str],
    texts: list[str],
    cfg: DedupConfig,
    pool: list[str] | None = None,
    batch_size: int = 1024,
) -> list[str | None]:
    """For each text (in priority order), the id of the document it duplicates: a pool
    document, or an earlier text of the list. None for the survivors."""
    out: list[str | None] = [None] * len(texts)
    if not texts or not (cfg.exact or cfg.near):
        return out
    ex = [exact_key(t) for t in texts]
    sigs, has = minhash_texts(texts, cfg)
    idx = _Index(cfg)
    keys = idx.keys(sigs)
    # Every synthetic document in one index (for pool lookups): position -> list index.
    synth = _Index(cfg)
    by_exact: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i in range(len(texts)):
        by_exact[ex[i]].append(i)
        synth.add(str(i), ex[i], sigs[i] if has[i] else None, keys[i] if has[i] else None)
    for d in pool or []:
        check_stage_dir(d)
        for batch in iter_batches(d, columns=["id", "text"], batch_size=batch_size):
            pids = batch.column("id").to_pylist()
            ptexts = [t or "" for t in batch.column("text").to_pylist()]
            psigs, phas = minhash_texts(ptexts, cfg)
            pkeys = synth.keys(psigs)
            for j, t in enumerate(ptexts):
                sig, k = (psigs[j], pkeys[j]) if phas[j] else (None, None)
                _pool_match(synth, by_exact, out, str(pids[j]), exact_key(t), sig, k)
    for i in range(len(texts)):
        sig, k = (sigs[i], keys[i]) if has[i] else (None, None)
        if out[i] is None:
            out[i] = idx.match(ex[i], sig, k)
        if out[i] is None:
            idx.add(ids[i], ex[i], sig, k)
    return out


def _pool_match(
    synth: _Index,
    by_exact: dict[tuple[int, int], list[int]],
    out: list[str | None],
    pool_id: str,
    ex: tuple[int, int],
    sig: np.ndarray | None,
    keys: np.ndarray | None,
) -> None:
    """Mark every synthetic document that this pool document duplicates."""
    cfg = synth.cfg
    if cfg.exact:
        for i in by_exact.get(ex, ()):
            if out[i] is None:
                out[i] = pool_id
    if not cfg.near or sig is None or keys is None:
        return
    for j, k in enumerate(keys.tolist()):
        for pos in synth.bands[j].get(k, ()):
            i = int(synth.ids[pos])
            if out[i] is None and float((synth.sigs[pos] == sig).mean()) >= cfg.threshold:
                out[i] = pool_id
