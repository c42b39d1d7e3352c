"""Stage 2 of dedup: exact pairs, verified near pairs, clusters, survivors.

:class:`ExactDedupIndex` splits the 128-bit exact hashes into ranges of the high half; each
task merges its range of every stage-1 task's sorted file and pairs every copy with the first
occurrence (lowest task, then index).

:class:`DedupCluster` (one task) reads the exact pairs and the LSH candidate pairs, keeps a
candidate pair only if the Jaccard similarity estimated from the two documents' full
signatures (the fraction of equal MinHash values) is at least ``threshold`` and, for texts
long enough, every corresponding part (by position) matches too: LSH with few
rows per band finds heavily edited copies, verification throws out the unrelated documents
that share a band by chance or by boilerplate. Connected components of the accepted pairs
are found with a vectorised union-find (min-label hooking plus pointer jumping); node numbers
are assigned in (task, index) order, so the smallest label of a component is its survivor.
It writes one result file per stage-1 task: each duplicate's index, its survivor's id, and
whether it is an exact copy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from qurate.dedup.config import DedupConfig
from qurate.dedup.files import EXACT_DTYPE, DedupLayout, atomic_json, atomic_save
from qurate.dedup.minhash import PAIR_DTYPE
from qurate.errors import EngineError

_VERIFY_CHUNK = 65536  # candidate pairs compared at once (2 x chunk x hashes x 4 bytes)
RESULT_SCHEMA = pa.schema([("idx", pa.uint32()), ("survivor", pa.string()), ("kind", pa.string())])


class ExactDedupIndex(PipelineStep):
    """Stage 2: exact-duplicate pairs for hash range ``rank`` of ``world_size``."""

    type = "🫂 - DEDUP"
    name = "🎯 qurate exact dedup index"

    def __init__(self, work_dir: str | Path) -> None:
        super().__init__()
        self.layout = DedupLayout(work_dir)

    def run(
        self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1
    ) -> DocumentsPipeline:
        lay = self.layout
        lo_b = (rank << 64) // world_size
        hi_b = ((rank + 1) << 64) // world_size
        parts, tasks = [], []
        with self.track_time():
            for meta in lay.read_metas():
                t = meta["rank"]
                recs = np.fromfile(lay.exact(t), dtype=EXACT_DTYPE)
                hi = recs["hi"]
                a = np.searchsorted(hi, np.uint64(lo_b), side="left")
                b = (
                    hi.size
                    if hi_b >= 1 << 64
                    else np.searchsorted(hi, np.uint64(hi_b), side="left")
                )
                parts.append(recs[a:b])
                tasks.append(np.full(b - a, t, dtype=np.uint32))
            recs = np.concatenate(parts) if parts else np.zeros(0, EXACT_DTYPE)
            task = np.concatenate(tasks) if tasks else np.zeros(0, np.uint32)
            order = np.lexsort((recs["idx"], task, recs["lo"], recs["hi"]))
            recs, task = recs[order], task[order]
            same = (recs["hi"][1:] == recs["hi"][:-1]) & (recs["lo"][1:] == recs["lo"][:-1])
            # Position of each record's group head (first occurrence) via a running maximum.
            head = np.maximum.accumulate(
                np.where(np.concatenate(([False], same)), 0, np.arange(recs.size))
            )
            dup = np.flatnonzero(np.concatenate(([False], same)))
            pairs = np.empty(dup.size, dtype=PAIR_DTYPE)
            pairs["t1"], pairs["i1"] = task[head[dup]], recs["idx"][head[dup]]
            pairs["t2"], pairs["i2"] = task[dup], recs["idx"][dup]
            self.stat_update("exact_duplicates", value=int(dup.size))
            atomic_save(lay.exact_pairs_dir / f"{rank:05d}.dups", pairs.tobytes())
        return iter(())


def _read_pairs(files: list[Path]) -> np.ndarray:
    arrs = [np.fromfile(f, dtype=PAIR_DTYPE) for f in files]
    return np.concatenate(arrs) if arrs else np.zeros(0, dtype=PAIR_DTYPE)


def _keys(t: np.ndarray, i: np.ndarray) -> np.ndarray:
    return (t.astype(np.uint64) << np.uint64(32)) | i.astype(np.uint64)


def connected_components(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Label of every node 0..n-1 = the smallest node of its component (edges u[k]-v[k])."""
    labels = np.arange(n, dtype=np.int64)
    while True:
        lu, lv = labels[u], labels[v]
        if np.array_equal(lu, lv):
            return labels
        low = np.minimum(lu, lv)
        # Hook each root onto the smallest label it is joined to, then flatten the trees.
        np.minimum.at(labels, lu, low)
        np.minimum.at(labels, lv, low)
        while True:
            nxt = labels[labels]
            if np.array_equal(nxt, labels):
                break
            labels = nxt


class DedupCluster(PipelineStep):
    """Stage 2 (one task): verify candidate pairs, cluster, write per-task duplicate lists."""

    type = "🫂 - DEDUP"
    name = "🎯 qurate dedup cluster"

    def __init__(self, work_dir: str | Path, cfg: DedupConfig) -> None:
        super().__init__()
        self.layout = DedupLayout(work_dir)
        self.cfg = cfg

    def run(
        self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1
    ) -> DocumentsPipeline:
        if world_size != 1:
            raise EngineError("dedup: the cluster step runs as exactly one task")
        lay, cfg = self.layout, self.cfg
        metas = lay.read_metas()
        if metas[0]["config"] != cfg.model_dump():
            raise EngineError("dedup: stage 1 ran with a different dedup config; rerun stage 1")
        with self.track_time():
            exact = (
                _read_pairs(sorted(lay.exact_pairs_dir.glob("*.dups")))
                if cfg.exact
                else _read_pairs([])
            )
            near = (
                _read_pairs(sorted(lay.pairs_dir.glob("*.dups"))) if cfg.near else _read_pairs([])
            )
            near = self._verify(_unique_pairs(near))
            a = np.concatenate([_keys(exact["t1"], exact["i1"]), _keys(near["t1"], near["i1"])])
            b = np.concatenate([_keys(exact["t2"], exact["i2"]), _keys(near["t2"], near["i2"])])
            nodes, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
            labels = connected_components(inv[: a.size], inv[a.size :], nodes.size)
            is_dup = labels != np.arange(nodes.size)
            dup_keys, surv_keys = nodes[is_dup], nodes[labels[is_dup]]
            exact_members = np.isin(dup_keys, _keys(exact["t2"], exact["i2"]))
            counts = {
                "clusters": int(np.unique(labels[is_dup]).size),
                "duplicates": int(dup_keys.size),
                "exact_duplicates": int(exact_members.sum()),
                "near_duplicates": int((~exact_members).sum()),
                "verified_pairs": int(near.size),
            }
            self._write_results(metas, dup_keys, surv_keys, exact_members)
            for k, v in counts.items():
                self.stat_update(k, value=v)
            atomic_json(
                lay.success,
                {"world_size": len(metas), "counts": counts, "config": cfg.model_dump()},
            )
        return iter(())

    def _verify(self, pairs: np.ndarray) -> np.ndarray:
        """Keep the candidate pairs whose estimated Jaccard is at least the threshold."""
        lay, cfg = self.layout, self.cfg
        h, width = cfg.num_hashes, cfg.full_width
        if pairs.size == 0:
            return pairs
        sigs: dict[int, tuple[np.ndarray, np.ndarray]] = {}

        def rows(t: int, idx: np.ndarray) -> np.ndarray:
            if t not in sigs:
                ids = np.fromfile(lay.full_idx(t), dtype=np.uint32)
                mat = (
                    np.memmap(lay.full_sig(t), dtype=np.uint32, mode="r", shape=(ids.size, width))
                    if ids.size
                    else None
                )
                sigs[t] = (ids, mat)
            ids, mat = sigs[t]
            return mat[np.searchsorted(ids, idx)]

        keep = np.zeros(pairs.size, dtype=bool)
        order = np.lexsort((pairs["t2"], pairs["t1"]))
        pairs = pairs[order]
        grp = np.flatnonzero(
            np.concatenate(
                (
                    [True],
                    (pairs["t1"][1:] != pairs["t1"][:-1]) | (pairs["t2"][1:] != pairs["t2"][:-1]),
                    [True],
                )
            )
        )
        for s, e in zip(grp[:-1], grp[1:], strict=True):
            for c in range(s, e, _VERIFY_CHUNK):
                p = pairs[c : min(e, c + _VERIFY_CHUNK)]
                ra, rb = rows(int(p["t1"][0]), p["i1"]), rows(int(p["t2"][0]), p["i2"])
                eq = ra == rb
                ok = eq[:, :h].mean(axis=1) >= cfg.threshold
                if cfg.segments:
                    end = h + cfg.segments * cfg.segment_hashes
                    parts = (
                        eq[:, h:end].reshape(p.size, cfg.segments, cfg.segment_hashes).mean(axis=2)
                    )
                    # Short texts have too few shingles per part for a stable estimate.
                    long = (
                        np.minimum(ra[:, end], rb[:, end])
                        >= cfg.segments * cfg.segment_min_shingles
                    )
                    ok &= ~long | (parts.min(axis=1) >= cfg.segment_threshold)
                keep[c : c + p.size] = ok
        self.stat_update("candidate_pairs", value=int(pairs.size))
        self.stat_update("rejected_pairs", value=int((~keep).sum()))
        return pairs[keep]

    def _write_results(
        self,
        metas: list[dict],
        dup_keys: np.ndarray,
        surv_keys: np.ndarray,
        exact_members: np.ndarray,
    ) -> None:
        lay = self.layout
        dup_t = (dup_keys >> np.uint64(32)).astype(np.int64)
        dup_i = (dup_keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        surv_t = (surv_keys >> np.uint64(32)).astype(np.int64)
        surv_i = (surv_keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
        survivor_ids = np.empty(dup_keys.size, dtype=object)
        # Survivor ids are looked up one stage-1 task at a time.
        for t in np.unique(surv_t):
            sel = np.flatnonzero(surv_t == t)
            ids = pq.read_table(lay.ids(int(t))).column("id")
            survivor_ids[sel] = ids.take(pa.array(surv_i[sel])).to_numpy(zero_copy_only=False)
        kinds = np.where(exact_members, "exact", "near")
        for meta in metas:
            t = meta["rank"]
            sel = np.flatnonzero(dup_t == t)
            sel = sel[np.argsort(dup_i[sel], kind="stable")]
            table = pa.table(
                {
                    "idx": dup_i[sel],
                    "survivor": survivor_ids[sel].tolist(),
                    "kind": kinds[sel].tolist(),
                },
                schema=RESULT_SCHEMA,
            )
            tmp = lay.result(t).with_suffix(".tmp")
            tmp.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, tmp)
            tmp.replace(lay.result(t))


def _unique_pairs(pairs: np.ndarray) -> np.ndarray:
    """Drop repeated candidate pairs (the same pair found in several bands)."""
    if pairs.size == 0:
        return pairs
    a, b = _keys(pairs["t1"], pairs["i1"]), _keys(pairs["t2"], pairs["i2"])
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((hi, lo))
    lo, hi = lo[order], hi[order]
    first = np.concatenate(([True], (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])))
    keep = first & (lo != hi)
    lo, hi = lo[keep], hi[keep]
    out = np.empty(lo.size, dtype=PAIR_DTYPE)
    out["t1"], out["i1"] = lo >> np.uint64(32), lo & np.uint64(0xFFFFFFFF)
    out["t2"], out["i2"] = hi >> np.uint64(32), hi & np.uint64(0xFFFFFFFF)
    return out
