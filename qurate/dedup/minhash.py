"""Fast MinHash signatures and LSH candidate pairs, in datatrove's on-disk formats.

Signatures: every text of a batch is tokenised and shingled in numpy
(:mod:`qurate.dedup.tokens`); each of the ``bands * rows`` MinHash values is the
minimum over the text's shingles of a multiply-shift hash ``(a * x + b) mod 2**64 >> 32``
(Dietzfelbinger's universal family: one multiply, one add, one shift, no modulo), computed
as a (shingles x hashes) matrix and reduced per text with ``np.minimum.reduceat``. Values
are 32-bit, so the bucket files are exactly what datatrove's ``MinhashDedupSignature`` writes
with ``HashConfig(precision=32)``: per bucket and task, sorted records of ``rows`` uint32
values and the uint32 document index. datatrove's ``MinhashDedupBuckets`` reads them
unchanged (:func:`datatrove_minhash_config` gives the matching config).

Candidate pairs: :class:`MinhashBucketPairs` replaces datatrove's heap merge (one Python
object per signature) with one numpy sort per bucket and writes datatrove's ``.dups``
format, ``(task_a, doc_a, task_b, doc_b)`` as four uint32. Where datatrove pairs only
neighbours in a bucket, small buckets here give every pair, so a document that collides with
an unrelated one cannot hide its real duplicate from verification.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.dedup.minhash import MinhashConfig
from datatrove.utils.hashing import HashConfig

from qurate.dedup.config import DedupConfig
from qurate.dedup.files import atomic_save
from qurate.dedup.tokens import _POS_MULT, batch_ngram_hashes, fmix64, tokenize_hashes

_U32_CAP = np.uint64(0xFFFFFFFE)  # datatrove's reader stops at a first value == 2**32-1
_SHIFT = np.uint64(32)
_ROWS_PER_CHUNK = 1024  # shingles per (hashes x shingles) block: cache-sized, bounds memory
PAIR_DTYPE = np.dtype([("t1", "<u4"), ("i1", "<u4"), ("t2", "<u4"), ("i2", "<u4")])


def datatrove_minhash_config(cfg: DedupConfig) -> MinhashConfig:
    """The datatrove config that reads our bucket files (for its ``MinhashDedupBuckets``)."""
    return MinhashConfig(
        n_grams=cfg.ngram,
        num_buckets=cfg.bands,
        hashes_per_bucket=cfg.rows,
        seed=cfg.seed,
        # hash_fc only names datatrove's own shingle hash, which is not used to read files;
        # "sha1" skips the (slow) installed-package check that "xxhash" runs on every config.
        hash_config=HashConfig(precision=32, hash_fc="sha1"),
    )


def hash_params(cfg: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of every MinHash function: ``a`` odd, both 64-bit, fixed by the seed."""
    gen = np.random.default_rng(cfg.seed)
    a = gen.integers(0, 2**63, size=cfg.num_hashes, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = gen.integers(0, 2**63, size=cfg.num_hashes, dtype=np.uint64) * np.uint64(2)
    return a, b


def minhash_from_shingles(
    grams: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Signatures ``uint32[n_texts, H]`` and a mask of texts that had any shingle."""
    n = offsets.size - 1
    # (hashes x texts): each block row is contiguous for reduceat, ~2x faster than texts x hashes
    sig = np.full((a.size, n), _U32_CAP, dtype=np.uint64)
    counts = np.diff(offsets)
    owner = np.repeat(np.arange(n), counts)
    b_col = b[:, None]
    for c0 in range(0, grams.size, _ROWS_PER_CHUNK):
        x = grams[c0 : c0 + _ROWS_PER_CHUNK]
        own = owner[c0 : c0 + _ROWS_PER_CHUNK]
        block = np.multiply.outer(a, x)  # wraps mod 2**64: that is the hash family
        block += b_col
        block >>= _SHIFT
        seg = np.flatnonzero(np.concatenate(([True], own[1:] != own[:-1])))
        mins = np.minimum.reduceat(block, seg, axis=1)
        docs = own[seg]
        sig[:, docs] = np.minimum(sig[:, docs], mins)
    return np.ascontiguousarray(np.minimum(sig, _U32_CAP).T.astype(np.uint32)), counts > 0


def minhash_texts(texts: Sequence[str], cfg: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of a batch of texts: ``(uint32[n, bands*rows], has_signature)``."""
    a, b = hash_params(cfg)
    toks, offs = tokenize_hashes(texts)
    grams, goffs = batch_ngram_hashes(toks, offs, cfg.ngram)
    return minhash_from_shingles(grams, goffs, a, b)


def band_keys(rows: np.ndarray) -> np.ndarray:
    """One 64-bit key per band record (its ``rows`` values mixed), for a single sort."""
    acc = rows[:, 0].astype(np.uint64) * _POS_MULT[0]
    for k in range(1, rows.shape[1]):
        acc += rows[:, k].astype(np.uint64) * _POS_MULT[k]
    return fmix64(acc)


def sig_record_dtype(rows: int) -> np.dtype:
    """datatrove's bucket record: ``rows`` little-endian uint32 values, then the doc index."""
    return np.dtype([(f"field{i + 1}", "<u4") for i in range(rows)] + [(f"field{rows + 1}", "<u4")])


def group_pairs(task: np.ndarray, idx: np.ndarray, keys: np.ndarray, max_group: int) -> np.ndarray:
    """Pairs of records sharing a key: all pairs in groups up to ``max_group``, else star + chain.

    Members are ordered by (task, index), so the first is the would-be survivor.
    """
    order = np.lexsort((idx, task, keys))
    k = keys[order]
    t = task[order]
    i = idx[order]
    bounds = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1], [True])))
    starts, sizes = bounds[:-1], np.diff(bounds)
    out: list[np.ndarray] = []

    def emit(a_pos: np.ndarray, b_pos: np.ndarray) -> None:
        rec = np.empty(a_pos.size, dtype=PAIR_DTYPE)
        rec["t1"], rec["i1"], rec["t2"], rec["i2"] = t[a_pos], i[a_pos], t[b_pos], i[b_pos]
        out.append(rec)

    for m in np.unique(sizes[sizes >= 2]):
        g0 = starts[sizes == m]
        if m <= max_group:
            ia, ib = np.triu_indices(int(m), k=1)
            emit((g0[:, None] + ia).ravel(), (g0[:, None] + ib).ravel())
        else:
            for s in g0:
                members = np.arange(s, s + m)
                emit(np.full(m - 1, s), members[1:])  # star from the first
                emit(members[1:-1], members[2:])  # chain of neighbours
    return np.concatenate(out) if out else np.zeros(0, dtype=PAIR_DTYPE)


class MinhashBucketPairs(PipelineStep):
    """Stage 2a: candidate pairs per LSH band; task ``r`` handles bands ``r, r+W, ...``.

    Reads ``<sig_dir>/bucket_XXX/*.minhash.sig`` (any number of stage-1 tasks), writes
    ``<pairs_dir>/XXXXX_00.dups``. Memory: one band of all documents (``rows * 4 + 8`` bytes
    per document).
    """

    type = "🫂 - DEDUP"
    name = "🎯 qurate MinHash buckets"

    def __init__(self, sig_dir: str | Path, pairs_dir: str | Path, cfg: DedupConfig) -> None:
        super().__init__()
        self.sig_dir = Path(sig_dir)
        self.pairs_dir = Path(pairs_dir)
        self.cfg = cfg

    def run(
        self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1
    ) -> DocumentsPipeline:
        dtype = sig_record_dtype(self.cfg.rows)
        for bucket in range(rank, self.cfg.bands, world_size):
            with self.track_time():
                files = sorted((self.sig_dir / f"bucket_{bucket:03d}").glob("*.minhash.sig"))
                recs, tasks = [], []
                for f in files:
                    r = np.fromfile(f, dtype=dtype)
                    recs.append(r)
                    tasks.append(np.full(r.size, int(f.name.split(".")[0]), dtype=np.uint32))
                if recs:
                    allr = np.concatenate(recs)
                    rows = np.stack([allr[f"field{j + 1}"] for j in range(self.cfg.rows)], axis=1)
                    pairs = group_pairs(
                        np.concatenate(tasks),
                        allr[f"field{self.cfg.rows + 1}"],
                        band_keys(rows),
                        self.cfg.max_group,
                    )
                else:
                    pairs = np.zeros(0, dtype=PAIR_DTYPE)
                self.stat_update("candidate_pairs", value=int(pairs.size))
                atomic_save(self.pairs_dir / f"{bucket:05d}_00.dups", pairs.tobytes())
        return iter(())
