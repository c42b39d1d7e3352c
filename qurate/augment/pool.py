"""The pool a recall runs over: its shards read, sampled, scored and written.

``qurate augment recall`` keeps one float32 per pool document per round in memory and
streams the ``text`` column shard by shard; these are the pieces that touch the pool's
Parquet files (split out of ``recall.py``; the rounds are in ``rounds.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from qurate.augment.classifier import NOT_RECALLED, SCORE_KEY, RecallClassifier
from qurate.augment.prior import math_priors
from qurate.contract.schema import scores_dict
from qurate.contract.shards import (
    ShardWriter,
    check_doc_columns,
    check_schema_version,
    check_stage_dir,
    shard_paths,
)
from qurate.errors import BadInputError

STAGE = "recall"
_BATCH = 2048


@dataclass
class Pool:
    shards: list[Path]
    rows: list[int]
    tokens: list[np.ndarray] = field(default_factory=list)
    chars: list[np.ndarray] = field(default_factory=list)
    langs: list[np.ndarray] = field(default_factory=list)
    math_prior: list[np.ndarray] | None = None  # ``priors``' pass, read once per run

    @property
    def size(self) -> int:
        return sum(self.rows)


def open_pool(pool_dir: Path) -> Pool:
    check_stage_dir(pool_dir)
    shards = shard_paths(pool_dir)
    if not shards:
        raise BadInputError(f"{pool_dir}: no kept documents (part-*.parquet) to recall from")
    pool = Pool(shards, [])
    for path in shards:
        check_schema_version(path)
        check_doc_columns(path)  # a null text or an int domain failed mid-run, a traceback
        names = pq.ParquetFile(path).schema_arrow.names
        table = pq.read_table(path, columns=["n_tokens", "n_chars"])
        pool.rows.append(table.num_rows)
        lang = (
            pq.read_table(path, columns=["lang"]).column("lang").fill_null("?").to_pylist()
            if "lang" in names
            else ["?"] * table.num_rows
        )
        pool.langs.append(np.array(lang, dtype=object))
        pool.tokens.append(table.column("n_tokens").fill_null(0).to_numpy().astype(np.int64))
        pool.chars.append(table.column("n_chars").fill_null(0).to_numpy().astype(np.int64))
    if not pool.size:  # was "recall training needs positives and negatives (got 1 and 0)"
        raise BadInputError(f"{pool_dir}: no documents to recall from (its shards hold none)")
    return pool


def sample(masks: list[np.ndarray], k: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``k`` positions drawn without replacement among the True ones, as per-shard indices."""
    eligible = [np.flatnonzero(m) for m in masks]
    n = sum(len(e) for e in eligible)
    if n == 0 or k <= 0:
        return [np.zeros(0, dtype=np.int64) for _ in masks]
    picks = np.sort(rng.choice(n, size=min(k, n), replace=False))
    out, start = [], 0
    for e in eligible:
        lo, hi = np.searchsorted(picks, [start, start + len(e)])
        out.append(e[picks[lo:hi] - start])
        start += len(e)
    return out


def take(pool: Pool, selection: list[np.ndarray]) -> list[tuple[str, str]]:
    """(id, text) of the selected rows, in shard order."""
    rows: list[tuple[str, str]] = []
    for path, idx in zip(pool.shards, selection, strict=True):
        if len(idx):
            t = pq.read_table(path, columns=["id", "text"]).take(idx)
            rows.extend(zip(t.column("id").to_pylist(), t.column("text").to_pylist(), strict=True))
    return rows


def score(clf: RecallClassifier, pool: Pool, bar: Any = None) -> list[np.ndarray]:
    out = []
    for path in pool.shards:
        parts = []
        for b in pq.ParquetFile(path).iter_batches(batch_size=_BATCH, columns=["text"]):
            parts.append(clf.score(b.column(0).to_pylist()))
            if bar is not None:
                bar.advance(bar.task_ids[0], b.num_rows)
        out.append(np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32))
    return out


def priors(pool: Pool) -> list[np.ndarray]:
    """The math prior (``augment/prior.py``) of every pool document, shard by shard; computed
    on the first call and kept on ``pool`` (the split, the rounds' cuts and the written cuts
    all ask for it: one pass over the text instead of three)."""
    if pool.math_prior is None:
        out = []
        for path in pool.shards:
            parts = [
                math_priors(b.column(0).to_pylist())
                for b in pq.ParquetFile(path).iter_batches(batch_size=_BATCH, columns=["text"])
            ]
            out.append(np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32))
        pool.math_prior = out
    return pool.math_prior


def write(
    pool: Pool,
    out: Path,
    scores: list[np.ndarray],
    cut: float | list[np.ndarray],
    domain: str,
    judged: dict[str, bool],
    rows_per_shard: int,
) -> tuple[int, int, int]:
    """Kept and rejected shards of the pool at ``cut`` (one for all, or one per document,
    shard by shard): (documents in, kept, kept tokens)."""
    kept = ShardWriter(out, rows_per_shard=rows_per_shard)
    rejected = ShardWriter(out / "rejects", rejects=True, rows_per_shard=rows_per_shard)
    n_in = tokens = 0
    cuts = cut if isinstance(cut, list) else [np.full(len(s), cut) for s in scores]
    for path, sc, cs in zip(pool.shards, scores, cuts, strict=True):
        offset = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH):
            for j, row in enumerate(batch.to_pylist()):
                s, c = float(sc[offset + j]), float(cs[offset + j])
                row["scores"] = {**(scores_dict(row.get("scores")) or {}), SCORE_KEY: s}
                if row["id"] in judged:
                    meta = json.loads(row["meta"]) if row.get("meta") else {}
                    meta.setdefault("qurate", {})["recall_judge"] = (
                        "yes" if judged[row["id"]] else "no"
                    )
                    row["meta"] = meta
                n_in += 1
                if s >= c:
                    row["domain"], row["domain_score"] = domain, s
                    tokens += row.get("n_tokens") or 0
                    kept.write(row)
                else:
                    row["reject_reason"], row["stage"] = NOT_RECALLED, STAGE
                    row["reject_detail"] = (
                        f"{SCORE_KEY} {s:.4f} < {c:.4f}"
                        if np.isfinite(c)
                        else f"{SCORE_KEY} {s:.4f}: code without math words (code_needs_words)"
                    )
                    rejected.write(row)
            offset += batch.num_rows
    kept.close()
    rejected.close()
    return n_in, kept.count, tokens


__all__ = ["STAGE", "Pool", "open_pool", "priors", "sample", "score", "take", "write"]
