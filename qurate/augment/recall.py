"""``qurate augment recall``: iterative fastText recall of math or code documents from a pool.

The Qwen2.5-Math recipe, over a stage directory (the pool) and a seed file:

1. **Train** a fastText classifier (``qurate.augment.classifier``) on the positives against
   negatives sampled from the pool. Round 1: positives are the seeds and negatives a uniform
   sample of the pool. Later rounds: positives also take pool documents the last round
   scored >= ``pseudo_positive_score`` and those the LLM judge confirmed; negatives are
   sampled only from documents the last round did *not* recall, plus those the judge
   rejected. Positives are repeated to balance the classes.
2. **Score** every pool document (streaming the ``text`` column shard by shard; one float32
   per document stays in memory) and take those at or above the threshold (raised, if
   ``max_fraction`` < 1, so that at most that share of the pool is recalled).
3. **Judge** (optional): an LLM answers Y/N for a sample of the recalled documents; the
   share of Y is the round's precision, and the answers feed the next round.

The output is a stage directory: recalled documents with ``domain`` set, ``domain_score``
and ``scores["recall_score"]`` both the last round's P(domain); every other pool document
in ``rejects/`` with reason ``not_recalled`` and its score (scores are kept, so the threshold
can be retuned without rescoring). The manifest's ``rounds`` list gives, per round, the
training set sizes, the threshold, documents and tokens recalled, and judged precision.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from qurate.augment.classifier import (
    NOT_RECALLED,
    SCORE_KEY,
    DomainConfirmer,
    RecallClassifier,
    RecallConfig,
)
from qurate.contract.rejects import REJECT_DETAIL, REJECT_REASON, is_rejected
from qurate.contract.schema import scores_dict
from qurate.contract.shards import (
    ShardWriter,
    check_schema_version,
    check_stage_dir,
    config_hash,
    shard_paths,
)
from qurate.contract.stagedir import MANIFEST, StageDir
from qurate.errors import BadInputError, ConfigError
from qurate.llm.base import Engine
from qurate.readers.inputs import InputReader, list_inputs

STAGE = "recall"
DOMAINS = ("math", "code")
_MARKER = ".recall-started"
BUNDLED_SEEDS = Path(__file__).resolve().parent.parent / "data" / "sample" / "seeds"
_BATCH = 2048
log = logging.getLogger("qurate.augment")


@dataclass
class RoundReport:
    """What one round did (one entry of the manifest's ``rounds``)."""

    round: int
    positives: int  # distinct positive texts (seeds + judged + pseudo-labelled)
    pseudo_positives: int
    negatives: int
    threshold: float
    recalled_docs: int
    recalled_tokens: int
    recalled_chars: int
    judged: int = 0
    judged_yes: int = 0
    judge_errors: int = 0
    precision: float | None = None  # judged_yes / judged, when a judge ran
    seconds: float = 0.0


@dataclass
class _Pool:
    shards: list[Path]
    rows: list[int]
    tokens: list[np.ndarray] = field(default_factory=list)
    chars: list[np.ndarray] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(self.rows)


def bundled_seeds(domain: str) -> Path:
    """The bundled seed file of a domain (``qurate run``'s default): sympy docstrings for
    math, 21 source files in 7 languages for code. Narrow: see bench/RESULTS.md."""
    if domain not in DOMAINS:
        raise ConfigError(f"domain {domain!r}: expected one of {', '.join(DOMAINS)}")
    return BUNDLED_SEEDS / f"{domain}.jsonl"


def load_seeds(path: str | Path) -> list[str]:
    """Seed texts from JSONL / Parquet / text files (one-line error on a bad record)."""
    texts: list[str] = []
    for doc in InputReader(list_inputs([Path(path)])).run():
        if is_rejected(doc):
            if doc.metadata[REJECT_REASON] == "empty":
                continue
            raise BadInputError(f"seeds: {doc.metadata.get(REJECT_DETAIL)}")
        texts.append(doc.text)
    if not texts:
        raise BadInputError(f"{path}: no seed documents (records need a 'text' field)")
    return texts


def _open_pool(pool_dir: Path) -> _Pool:
    check_stage_dir(pool_dir)
    shards = shard_paths(pool_dir)
    if not shards:
        raise BadInputError(f"{pool_dir}: no kept documents (part-*.parquet) to recall from")
    pool = _Pool(shards, [])
    for path in shards:
        check_schema_version(path)
        table = pq.read_table(path, columns=["n_tokens", "n_chars"])
        pool.rows.append(table.num_rows)
        pool.tokens.append(table.column("n_tokens").fill_null(0).to_numpy().astype(np.int64))
        pool.chars.append(table.column("n_chars").fill_null(0).to_numpy().astype(np.int64))
    return pool


def _sample(masks: list[np.ndarray], k: int, rng: np.random.Generator) -> list[np.ndarray]:
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


def _take(pool: _Pool, selection: list[np.ndarray]) -> list[tuple[str, str]]:
    """(id, text) of the selected rows, in shard order."""
    rows: list[tuple[str, str]] = []
    for path, idx in zip(pool.shards, selection, strict=True):
        if len(idx):
            t = pq.read_table(path, columns=["id", "text"]).take(idx)
            rows.extend(zip(t.column("id").to_pylist(), t.column("text").to_pylist(), strict=True))
    return rows


def _score(clf: RecallClassifier, pool: _Pool) -> list[np.ndarray]:
    out = []
    for path in pool.shards:
        parts = [
            clf.score(b.column(0).to_pylist())
            for b in pq.ParquetFile(path).iter_batches(batch_size=_BATCH, columns=["text"])
        ]
        out.append(np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32))
    return out


def _cutoff(scores: list[np.ndarray], cfg: RecallConfig) -> float:
    """The threshold, raised so that at most ``max_fraction`` of the pool is recalled.

    With ties at the cut (e.g. many documents at P=1.0) fewer are recalled, never more.
    """
    thr = cfg.threshold
    if cfg.max_fraction < 1.0:
        flat = np.concatenate(scores)
        k = int(math.floor(cfg.max_fraction * len(flat)))
        if k < int((flat >= thr).sum()):
            below = np.partition(flat, len(flat) - k - 1)[len(flat) - k - 1]  # best not kept
            thr = max(thr, float(np.nextafter(np.float32(below), np.float32(np.inf))))
    return thr


def _fingerprint(
    pool: _Pool, seeds: list[str], domain: str, cfg: RecallConfig, engine: Engine | None
) -> str:
    return config_hash(
        {
            "config": cfg.model_dump(mode="json"),
            "pool": [[str(p), n] for p, n in zip(pool.shards, pool.rows, strict=True)],
            # a pool stage rewritten in place has a new manifest
            "pool_manifest": [
                (p.parent / MANIFEST).read_text()
                for p in {s.parent: s for s in pool.shards}.values()
                if (p.parent / MANIFEST).is_file()
            ],
            "seeds": config_hash(seeds),
            "domain": domain,
            "judge": engine.model_id if engine is not None else None,
        }
    )


def _run_rounds(
    pool: _Pool,
    seeds: list[str],
    cfg: RecallConfig,
    confirmer: DomainConfirmer | None,
    on_round: Callable[[RoundReport], None] | None,
) -> tuple[list[np.ndarray], float, list[RoundReport], dict[str, bool]]:
    judged: dict[str, bool] = {}
    judged_text: dict[str, str] = {}
    reports: list[RoundReport] = []
    prev: list[np.ndarray] | None = None
    prev_cut = cfg.threshold
    scores: list[np.ndarray] = []
    cut = cfg.threshold
    for r in range(1, cfg.rounds + 1):
        t0 = time.perf_counter()
        rng = np.random.default_rng([cfg.seed, r])
        positives = list(seeds) + [judged_text[i] for i, ok in judged.items() if ok]
        n_pseudo = 0
        if prev is not None and cfg.max_pseudo_positives:
            masks = [s >= cfg.pseudo_positive_score for s in prev]
            picked = [
                t
                for i, t in _take(pool, _sample(masks, cfg.max_pseudo_positives, rng))
                if i not in judged
            ]
            positives += picked
            n_pseudo = len(picked)
        need = min(cfg.max_negatives, math.ceil(cfg.neg_per_pos * len(positives)))
        masks = (
            [np.ones(n, dtype=bool) for n in pool.rows]
            if prev is None
            else [s < prev_cut for s in prev]
        )
        if not any(m.any() for m in masks):  # the last round recalled everything
            masks = [np.ones(n, dtype=bool) for n in pool.rows]
        negatives = [t for i, t in _take(pool, _sample(masks, need, rng)) if not judged.get(i)]
        negatives += [judged_text[i] for i, ok in judged.items() if not ok]
        reps = max(1, round(len(negatives) / max(len(positives), 1)))
        clf = RecallClassifier.train(positives * reps, negatives, cfg, seed=r)
        scores = _score(clf, pool)
        cut = _cutoff(scores, cfg)
        recalled = [s >= cut for s in scores]
        rep = RoundReport(
            round=r,
            positives=len(positives),
            pseudo_positives=n_pseudo,
            negatives=len(negatives),
            threshold=round(cut, 6),
            recalled_docs=int(sum(m.sum() for m in recalled)),
            recalled_tokens=int(
                sum(t[m].sum() for t, m in zip(pool.tokens, recalled, strict=True))
            ),
            recalled_chars=int(sum(c[m].sum() for c, m in zip(pool.chars, recalled, strict=True))),
        )
        if confirmer is not None and cfg.judge_sample:
            sample = _take(pool, _sample(recalled, cfg.judge_sample, rng))
            verdicts = confirmer.confirm([t for _, t in sample])
            for (doc_id, text), ok in zip(sample, verdicts, strict=True):
                if ok is None:
                    rep.judge_errors += 1
                    continue
                rep.judged += 1
                rep.judged_yes += int(ok)
                judged[doc_id], judged_text[doc_id] = ok, text
            rep.precision = round(rep.judged_yes / rep.judged, 4) if rep.judged else None
        rep.seconds = round(time.perf_counter() - t0, 3)
        log.info("recall round %d: %s", r, rep)
        reports.append(rep)
        if on_round is not None:
            on_round(rep)
        prev, prev_cut = scores, cut
    return scores, cut, reports, judged


def _write(
    pool: _Pool,
    out: Path,
    scores: list[np.ndarray],
    cut: float,
    domain: str,
    judged: dict[str, bool],
    rows_per_shard: int,
) -> tuple[int, int, int]:
    kept = ShardWriter(out, rows_per_shard=rows_per_shard)
    rejected = ShardWriter(out / "rejects", rejects=True, rows_per_shard=rows_per_shard)
    n_in = tokens = 0
    for path, sc in zip(pool.shards, scores, strict=True):
        offset = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH):
            for j, row in enumerate(batch.to_pylist()):
                s = float(sc[offset + j])
                row["scores"] = {**(scores_dict(row.get("scores")) or {}), SCORE_KEY: s}
                if row["id"] in judged:
                    meta = json.loads(row["meta"]) if row.get("meta") else {}
                    meta.setdefault("qurate", {})["recall_judge"] = (
                        "yes" if judged[row["id"]] else "no"
                    )
                    row["meta"] = meta
                n_in += 1
                if s >= cut:
                    row["domain"], row["domain_score"] = domain, s
                    tokens += row.get("n_tokens") or 0
                    kept.write(row)
                else:
                    row["reject_reason"], row["stage"] = NOT_RECALLED, STAGE
                    row["reject_detail"] = f"{SCORE_KEY} {s:.4f} < {cut:.4f}"
                    rejected.write(row)
            offset += batch.num_rows
    kept.close()
    rejected.close()
    return n_in, kept.count, tokens


def recall(
    pool_dir: str | Path,
    out_dir: str | Path,
    seeds: str | Path | list[str],
    domain: str,
    cfg: RecallConfig | None = None,
    *,
    engine: Engine | None = None,
    rows_per_shard: int = 50_000,
    on_round: Callable[[RoundReport], None] | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Recall ``domain`` documents from the stage directory ``pool_dir`` into ``out_dir``.

    ``seeds`` is a JSONL/Parquet path (records with ``text``) or a list of texts; ``engine``
    (optional) is the LLM judge. Returns the manifest. Rerun policy (``StageDir``): a rerun
    of a finished identical run returns the existing manifest without work, an interrupted
    one restarts in place, a different one needs ``overwrite``.
    """
    cfg = cfg or RecallConfig()
    if domain not in DOMAINS:
        raise ConfigError(f"domain {domain!r}: expected one of {', '.join(DOMAINS)}")
    t0 = time.perf_counter()
    pool_dir, out = Path(pool_dir), Path(out_dir)
    if out.resolve() == pool_dir.resolve():
        raise ConfigError("the output directory must differ from the pool directory")
    seed_texts = list(seeds) if isinstance(seeds, list) else load_seeds(seeds)
    if not seed_texts:
        raise BadInputError("no seed documents")
    pool = _open_pool(pool_dir)
    with StageDir(out, STAGE, overwrite=overwrite) as sd:
        done = sd.begin(_fingerprint(pool, seed_texts, domain, cfg, engine), resume=False)
        if done is not None:
            return done
        args = (pool_dir, seeds, seed_texts, domain, cfg, engine, rows_per_shard, on_round, t0)
        return _recall(pool, sd, *args)


def _recall(
    pool, sd, pool_dir, seeds, seed_texts, domain, cfg, engine, rows_per_shard, on_round, t0
):
    out = sd.path
    confirmer = (
        DomainConfirmer(engine, domain, cfg.judge_max_tokens) if engine is not None else None
    )
    scores, cut, reports, judged = _run_rounds(pool, seed_texts, cfg, confirmer, on_round)
    n_in, n_kept, kept_tokens = _write(pool, out, scores, cut, domain, judged, rows_per_shard)
    return sd.finish(
        config_hash=config_hash(cfg),
        inputs=[str(p) for p in pool.shards],
        n_in=n_in,
        n_kept=n_kept,
        rejected_by_reason={NOT_RECALLED: n_in - n_kept} if n_in > n_kept else {},
        extra={
            "domain": domain,
            "pool": str(pool_dir),
            "seeds": str(seeds) if not isinstance(seeds, list) else f"{len(seed_texts)} texts",
            "n_seeds": len(seed_texts),
            "score_column": f"scores['{SCORE_KEY}'] (also domain_score on kept documents)",
            "threshold": cut,
            "judge": engine.model_id if engine is not None else None,
            "tokens_by_domain": {domain: int(kept_tokens)},
            "rounds": [asdict(r) for r in reports],
            "elapsed_s": round(time.perf_counter() - t0, 3),
        },
    )


__all__ = ["DOMAINS", "RoundReport", "bundled_seeds", "load_seeds", "recall"]
