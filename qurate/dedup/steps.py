"""Exact and MinHash-LSH near-dedup for ``qurate curate``: three stages over a work directory.

Stage 1, inside the per-task curate pipeline, :class:`DedupSignatures` (a datatrove
``MinhashDedupSignature`` with a vectorised signature) passes every document through and
writes, for its task, the ids of all documents, an exact hash (xxh3-128 of the casefolded,
whitespace-collapsed text) and a MinHash signature per live document.

Stage 2, once every stage-1 task has finished, :func:`run_dedup_index` (or the steps from
:func:`dedup_index_pipelines`, for a cluster executor) finds exact pairs (hash-range
partitions), LSH candidate pairs (one band per task), verifies every candidate pair by the
Jaccard similarity estimated from the two full signatures (``threshold``), joins exact and
verified pairs into clusters (union-find), and writes per task the documents to drop with
their cluster's survivor: the document with the lowest (task, index), so for exact copies the
first occurrence.

Stage 3, re-reading each task's stored documents, :class:`DedupFilter` marks each duplicate
rejected with reason ``duplicate`` and detail = the survivor's id.

What must hold between the stages (checked; a violation is an ``EngineError``, never a
silently wrong result):

- stage 1 and stage 3 run with the same number of tasks, and task ``r`` of stage 3 reads the
  same documents, in the same order, as task ``r`` of stage 1: *all* of them, rejected ones
  included (a rejected document gets no signature but still counts in the index). Stage 3
  checks each document's id against the id stage 1 stored at that index, and the count;
- :class:`DedupSignatures` comes after every other filter of stage 1: a document rejected
  later would take its cluster's copies down with it;
- every stage uses the same :class:`DedupConfig` (stage 2 checks stage 1's copy).

Scale: stage 1 keeps one batch of documents plus per-task compact arrays (20 bytes a
document for exact hashes; signatures go to disk as they are made); stage 2 holds one hash
partition or one band of all documents at a time, then the pairs and the cluster members.
No step holds documents' text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
from datatrove.utils.batching import batched

from qurate.contract.rejects import is_rejected, reject
from qurate.dedup.cluster import DedupCluster, ExactDedupIndex
from qurate.dedup.config import DedupConfig
from qurate.dedup.files import EXACT_DTYPE, DedupLayout, atomic_json, atomic_save
from qurate.dedup.minhash import (
    MinhashBucketPairs,
    datatrove_minhash_config,
    hash_params,
    minhash_from_shingles,
    sig_record_dtype,
)
from qurate.dedup.tokens import batch_ngram_hashes, tokenize_hashes
from qurate.errors import EngineError

__all__ = [
    "DedupConfig",
    "DedupSignatures",
    "DedupFilter",
    "run_dedup_index",
    "dedup_index_pipelines",
    "exact_key",
]

STAGE_EXACT = "dedup_exact"
STAGE_NEAR = "dedup_minhash"


def exact_key(text: str) -> tuple[int, int]:
    """128-bit hash of the casefolded, whitespace-collapsed text, as (high, low) 64-bit halves."""
    h = xxhash.xxh3_128_intdigest(
        " ".join(text.casefold().split()).encode("utf-8", "surrogatepass")
    )
    return h >> 64, h & 0xFFFFFFFFFFFFFFFF


class DedupSignatures(MinhashDedupSignature):
    """Stage 1: pass documents through; write ids, exact hashes and MinHash signatures.

    Signatures are datatrove's 32-bit bucket files (``minhash/sigs``), so datatrove's own
    ``MinhashDedupBuckets`` can read them, plus the full signature per document for verifying
    candidate pairs. The document index counts every document of the task, rejected ones too.
    """

    name = "🎯 qurate dedup signatures"

    def __init__(
        self, work_dir: str | Path, cfg: DedupConfig | None = None, batch_size: int = 256
    ) -> None:
        # Not MinhashDedupSignature.__init__: it loads a word tokeniser we do not use.
        PipelineStep.__init__(self)
        self.layout = DedupLayout(work_dir)
        self.cfg = cfg or DedupConfig()
        self.config = datatrove_minhash_config(self.cfg)
        self.num_hashes = self.cfg.num_hashes
        self.batch_size = batch_size
        self.skip_existing_sigs = False
        self._ab: tuple[np.ndarray, np.ndarray] | None = None

    # The per-document API of the parent, kept working (same signature values as run()).
    def get_shingles(self, text: str) -> np.ndarray:
        toks, offs = tokenize_hashes([text])
        grams, _ = batch_ngram_hashes(toks, offs, self.cfg.ngram)
        return grams.reshape((-1, 1))

    def get_signature(self, shingles: np.ndarray) -> list[list[int]]:
        sig = self.signatures_of(shingles.reshape(-1), np.array([0, shingles.size]))[0][0]
        return [x.tolist() for x in np.split(sig, self.cfg.bands)]

    def signatures_of(
        self, grams: np.ndarray, offsets: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        if self._ab is None:
            self._ab = hash_params(self.cfg)
        return minhash_from_shingles(grams, offsets, *self._ab)

    def segment_signatures(self, grams: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Per text, the signatures of its ``segments`` equal parts side by side, then its
        shingle count (n x k*h+1)."""
        cfg = self.cfg
        if self._ab is None:
            self._ab = hash_params(self.cfg)
        a, b = self._ab
        counts = np.diff(offsets)
        k = np.arange(cfg.segments)
        bounds = (offsets[:-1, None] + (counts[:, None] * k) // cfg.segments).ravel()
        seg_offs = np.append(bounds, offsets[-1])
        sig, _ = minhash_from_shingles(
            grams, seg_offs, a[: cfg.segment_hashes], b[: cfg.segment_hashes]
        )
        sig = sig.reshape(counts.size, cfg.segments * cfg.segment_hashes)
        # Last column: the shingle count (short texts skip the part-by-part check).
        return np.hstack([sig, np.minimum(counts, 2**32 - 1).astype(np.uint32)[:, None]])

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        lay, cfg = self.layout, self.cfg
        lay.success.unlink(missing_ok=True)  # stage 2 must be redone after any stage-1 task
        lay.meta(rank).unlink(missing_ok=True)
        full_path, full_tmp = lay.full_sig(rank), lay.full_sig(rank).with_suffix(".tmp")
        ids_tmp = lay.ids(rank).with_suffix(".tmp")
        for p in (full_tmp, ids_tmp):
            p.parent.mkdir(parents=True, exist_ok=True)
        exact_parts: list[np.ndarray] = []
        sig_idx: list[np.ndarray] = []
        n_docs = 0
        # A failed attempt may have left these open in a worker that has not exited yet:
        # new files (not truncated old ones) keep its late writes out of this attempt's.
        for p in (full_tmp, ids_tmp):
            p.unlink(missing_ok=True)
        ids_writer = pq.ParquetWriter(ids_tmp, pa.schema([("id", pa.string())]))
        try:
            with open(full_tmp, "wb") as full_f:
                for batch in batched(data, self.batch_size):
                    with self.track_time("batch"):
                        live = [k for k, doc in enumerate(batch) if not is_rejected(doc)]
                        idx = np.array(live, dtype=np.uint32) + np.uint32(n_docs)
                        texts = [batch[k].text for k in live]
                        if cfg.exact and live:
                            exact_parts.append(self._exact_records(texts, idx))
                        if cfg.near and live:
                            toks, offs = tokenize_hashes(texts)
                            grams, goffs = batch_ngram_hashes(toks, offs, cfg.ngram)
                            sig, has = self.signatures_of(grams, goffs)
                            if cfg.segments:
                                sig = np.hstack([sig, self.segment_signatures(grams, goffs)])
                            full_f.write(sig[has].tobytes())
                            sig_idx.append(idx[has])
                        ids_writer.write_table(pa.table({"id": [doc.id for doc in batch]}))
                    n_docs += len(batch)
                    self.stat_update("total", value=len(batch))
                    self.stat_update("signed", value=len(live))
                    yield from batch
        finally:  # also when the reader fails: never leave the writer to the GC
            ids_writer.close()
        self._finish(rank, world_size, n_docs, exact_parts, sig_idx, full_tmp, full_path, ids_tmp)

    def _exact_records(self, texts: list[str], idx: np.ndarray) -> np.ndarray:
        rec = np.empty(len(texts), dtype=EXACT_DTYPE)
        keys = [exact_key(t) for t in texts]
        rec["hi"] = np.fromiter((k[0] for k in keys), dtype=np.uint64, count=len(keys))
        rec["lo"] = np.fromiter((k[1] for k in keys), dtype=np.uint64, count=len(keys))
        rec["idx"] = idx
        return rec

    def _finish(
        self,
        rank: int,
        world_size: int,
        n_docs: int,
        exact_parts: list[np.ndarray],
        sig_idx: list[np.ndarray],
        full_tmp: Path,
        full_path: Path,
        ids_tmp: Path,
    ) -> None:
        lay, cfg = self.layout, self.cfg
        with self.track_time("write"):
            if cfg.exact:
                ex = np.concatenate(exact_parts) if exact_parts else np.zeros(0, EXACT_DTYPE)
                ex.sort(order=["hi", "lo", "idx"])
                atomic_save(lay.exact(rank), ex.tobytes())
            n_sigs = 0
            if cfg.near:
                idx = np.concatenate(sig_idx) if sig_idx else np.zeros(0, np.uint32)
                n_sigs = int(idx.size)
                full = np.fromfile(full_tmp, dtype=np.uint32).reshape(n_sigs, cfg.full_width)
                rec_dtype = sig_record_dtype(cfg.rows)
                for b in range(cfg.bands):
                    rec = np.empty(n_sigs, dtype=rec_dtype)
                    for j in range(cfg.rows):
                        rec[f"field{j + 1}"] = full[:, b * cfg.rows + j]
                    rec[f"field{cfg.rows + 1}"] = idx
                    rec.sort(order=list(rec_dtype.names))  # datatrove's readers need sorted records
                    atomic_save(
                        lay.sig_dir / f"bucket_{b:03d}" / f"{rank:05d}.minhash.sig", rec.tobytes()
                    )
                del full
                atomic_save(lay.full_idx(rank), idx.tobytes())
                full_tmp.replace(full_path)
            else:
                full_tmp.unlink(missing_ok=True)
            ids_tmp.replace(lay.ids(rank))
            # Written last: its presence says every other file of this task is complete.
            atomic_json(
                lay.meta(rank),
                {
                    "rank": rank,
                    "world_size": world_size,
                    "n_docs": n_docs,
                    "n_signatures": n_sigs,
                    "config": cfg.model_dump(),
                },
            )


class DedupFilter(PipelineStep):
    """Stage 3: mark the duplicates of task ``rank`` (reason ``duplicate``, detail = survivor id).

    Must read the same documents in the same order as stage-1 task ``rank`` (see the module
    docstring); a mismatch raises ``EngineError`` naming the task and index.
    """

    type = "🫂 - DEDUP"
    name = "🎯 qurate dedup filter"

    def __init__(self, work_dir: str | Path) -> None:
        super().__init__()
        self.layout = DedupLayout(work_dir)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        lay = self.layout
        if not lay.success.exists():
            raise EngineError(
                f"dedup: stage 2 has not finished in {lay.root} (run run_dedup_index first)"
            )
        done = json.loads(lay.success.read_text())
        if done["world_size"] != world_size:
            raise EngineError(
                f"dedup: stage 1 ran with {done['world_size']} tasks but this stage runs with {world_size}"
            )
        ids = pq.read_table(lay.ids(rank)).column("id").to_pylist()
        res = pq.read_table(lay.result(rank)).to_pydict()
        dups = {i: (s, k) for i, s, k in zip(res["idx"], res["survivor"], res["kind"], strict=True)}
        n = 0
        for n, doc in enumerate(data, start=1):
            i = n - 1
            if i >= len(ids) or ids[i] != doc.id:
                expected = ids[i] if i < len(ids) else "<end of task>"
                raise EngineError(
                    f"dedup: task {rank} document {i} has id {doc.id!r} but stage 1 saw {expected!r}: "
                    "stage 3 must read the same documents in the same order"
                )
            self.stat_update("total")
            hit = dups.get(i)
            if hit is not None and not is_rejected(doc):
                survivor, kind = hit
                reject(doc, "duplicate", STAGE_EXACT if kind == "exact" else STAGE_NEAR, survivor)
                self.stat_update("dropped", f"dropped_{kind}")
            else:
                self.stat_update("forwarded")
            yield doc
        if n != len(ids):
            raise EngineError(f"dedup: task {rank} read {n} documents but stage 1 saw {len(ids)}")


def dedup_index_pipelines(
    work_dir: str | Path, cfg: DedupConfig, workers: int = 1
) -> list[tuple[list[PipelineStep], int]]:
    """Stage 2 as datatrove pipelines ``(steps, tasks)``, to run in order on any executor."""
    lay = DedupLayout(work_dir)
    out: list[tuple[list[PipelineStep], int]] = []
    if cfg.exact:
        out.append(([ExactDedupIndex(work_dir)], max(1, workers)))
    if cfg.near:
        out.append(
            ([MinhashBucketPairs(lay.sig_dir, lay.pairs_dir, cfg)], max(1, min(workers, cfg.bands)))
        )
    out.append(([DedupCluster(work_dir, cfg)], 1))
    return out


def run_dedup_index(work_dir: str | Path, cfg: DedupConfig, workers: int = 1) -> dict[str, int]:
    """Run stage 2 in this process (task by task); returns the cluster counts.

    A finished index (``result/_SUCCESS.json``, removed by any stage-1 task that runs again)
    is not recomputed.
    """
    lay = DedupLayout(work_dir)
    if lay.success.exists():
        return json.loads(lay.success.read_text())["counts"]
    for steps, tasks in dedup_index_pipelines(work_dir, cfg, workers):
        for rank in range(tasks):
            for step in steps:
                _drain(step.run(None, rank, tasks))
    return json.loads(lay.success.read_text())["counts"]


def _drain(result: Iterable[Document] | None) -> None:
    if result is not None:
        for _ in result:
            pass
