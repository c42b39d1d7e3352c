"""``qurate augment recall``: iterative fastText recall of math or code documents from a pool.

The Qwen2.5-Math recipe, over a stage directory (the pool) and a seed file:

1. **Train** a fastText classifier (``qurate.augment.classifier``) on the positives against
   negatives sampled from the pool. Round 1: positives are the seeds and, for math, the pool
   documents the math prior picks (``augment/prior.py``, ``augment/prior_split.py``: the pool's
   own math, which narrow seeds cannot teach), negatives a sample of the rest. Later rounds: positives also take pool documents the last round
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

Every finished round is kept (``qurate.augment.checkpoint``), so a rerun after kill -9
resumes after it; training is deterministic by default (one seeded fastText thread), so the
output equals an uninterrupted run's.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qurate.augment import checkpoint
from qurate.augment import pool as pooling
from qurate.augment.checkpoint import RoundsState
from qurate.augment.classifier import (
    NOT_RECALLED,
    SCORE_KEY,
    DomainConfirmer,
    RecallClassifier,
    RecallConfig,
)
from qurate.augment.holdout import calibrate, measure, sample_by_group, split_seeds, top_by_group
from qurate.augment.lexicon import known
from qurate.augment.pool import STAGE
from qurate.augment.prior_split import cuts_of, final_cuts, for_the_pool, gated, prior_split
from qurate.contract.rejects import REJECT_DETAIL, REJECT_REASON, is_rejected
from qurate.contract.shards import config_hash
from qurate.contract.stagedir import MANIFEST, StageDir
from qurate.errors import BadInputError, ConfigError
from qurate.llm.base import Engine
from qurate.readers.inputs import InputReader, list_inputs

DOMAINS = ("math", "code")
BUNDLED_SEEDS = Path(__file__).resolve().parent.parent / "data" / "sample" / "seeds"
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
    # measured on the held-out split (augment/holdout.py), at this round's threshold
    holdout_recall: float | None = None
    holdout_precision: float | None = None  # balanced: recall / (recall + pool rate)
    holdout_pool_rate: float | None = None
    used: bool = True  # False: a later round was better, or this round drifted (stopped here)
    seconds: float = 0.0


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


def _cutoff(scores: list[np.ndarray], cfg: RecallConfig, thr: float) -> float:
    """``thr``, raised so that at most ``max_fraction`` of the pool is recalled.

    With ties at the cut (e.g. many documents at P=1.0) fewer are recalled, never more.
    """
    if cfg.max_fraction < 1.0:
        flat = np.concatenate(scores)
        k = int(math.floor(cfg.max_fraction * len(flat)))
        if k < int((flat >= thr).sum()):
            below = np.partition(flat, len(flat) - k - 1)[len(flat) - k - 1]  # best not kept
            thr = max(thr, float(np.nextafter(np.float32(below), np.float32(np.inf))))
    return thr


def _fingerprint(
    pool: pooling.Pool, seeds: list[str], domain: str, cfg: RecallConfig, engine: Engine | None
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
    pool: pooling.Pool,
    seeds: list[str],
    cfg: RecallConfig,
    confirmer: DomainConfirmer | None,
    on_round: Callable[[RoundReport], None] | None,
    bar: Any = None,
    state_dir: Path | None = None,
    domain: str = "math",
) -> tuple[list[np.ndarray], float, list[RoundReport], dict[str, bool], dict[str, int]]:
    """The rounds; with ``state_dir`` each finished round is kept there and a rerun resumes
    after the last one kept (``augment/checkpoint.py``)."""
    st = (checkpoint.load(state_dir) if state_dir is not None else None) or RoundsState(
        prev_cut=cfg.threshold
    )
    reports = [RoundReport(**d) for d in st.reports]
    prev = checkpoint.scores_of(state_dir, st.done, pool.rows) if st.done else None
    if st.done:
        log.info("recall: resuming after round %d (kept in %s)", st.done, state_dir)
        if bar is not None:
            bar.advance(bar.task_ids[0], st.done * pool.size)
    # The held-out split (augment/holdout.py): seeds and pool documents never trained on.
    train_seeds, held_seeds = split_seeds(seeds, cfg.holdout_fraction, cfg.seed)
    rng0 = np.random.default_rng([cfg.seed, 0])
    split = prior_split(pool, cfg, domain, bool(held_seeds), rng0)
    cuts_cfg = for_the_pool(pool, cfg, domain)  # the cuts rise where math is rare
    gates = gated(pool, cuts_cfg, domain)  # the written selection's cut per document
    trainable, held_neg, held_pos = split.trainable, split.held_neg, held_seeds + split.held_pos
    # languages the math lexicon knows no word of (their math had no round-1 positive)
    silent = {str(g) for lang in pool.langs for g in np.unique(lang[~known(lang)].astype(str))}
    judged, judged_text = st.judged, st.judged_text
    for r in range(st.done + 1, cfg.rounds + 1):
        if st.stopped:
            break
        t0 = time.perf_counter()
        rng = np.random.default_rng([cfg.seed, r])
        positives = list(train_seeds) + [judged_text[i] for i, ok in judged.items() if ok]
        positives += split.prior_pos
        n_pseudo = len(split.prior_pos)
        spared = (
            top_by_group(
                prev, pool.langs, cfg.silent_spare_fraction, cfg.silent_spare_floor, silent
            )
            if prev is not None and domain == "math" and cfg.prior
            else [np.zeros(n, dtype=bool) for n in pool.rows]
        )
        if prev is not None and cfg.max_pseudo_positives:
            masks = [
                (s >= cfg.pseudo_positive_score) & t & ~p
                for s, t, p in zip(prev, trainable, split.prior_mask, strict=True)
            ]
            picked = [
                t
                for i, t in pooling.take(pool, pooling.sample(masks, cfg.max_pseudo_positives, rng))
                if i not in judged
            ]
            positives += picked
            n_pseudo += len(picked)
        need = min(cfg.max_negatives, math.ceil(cfg.neg_per_pos * len(positives)))
        masks = (
            [t & ~p for t, p in zip(trainable, split.prior_mask, strict=True)]
            if prev is None
            else [
                (s < st.prev_cut) & t & ~sp
                for s, t, sp in zip(prev, trainable, spared, strict=True)
            ]
        )
        if not any(m.any() for m in masks):  # the last round recalled everything
            masks = [t.copy() for t in trainable]
        picks = sample_by_group(masks, pool.langs, need, cfg.min_negatives_per_language, rng)
        negatives = [t for i, t in pooling.take(pool, picks) if not judged.get(i)]
        negatives += [judged_text[i] for i, ok in judged.items() if not ok]
        reps = max(1, round(len(negatives) / max(len(positives), 1)))
        clf = RecallClassifier.train_averaged(positives * reps, negatives, cfg, seed=r)
        scores = pooling.score(clf, pool, bar)
        fit = None
        base = cfg.threshold
        if held_pos:
            pos_s, neg_s = clf.score(held_pos), clf.score(held_neg)
            fit = (
                calibrate(pos_s, neg_s, cfg.target_recall, base)
                if cfg.calibrate
                else measure(pos_s, neg_s, base)
            )
            base = fit.threshold
        cut = _cutoff(scores, cfg, base)
        if fit is not None and cut != fit.threshold:
            fit = measure(clf.score(held_pos), clf.score(held_neg), cut)
        cuts = cuts_of(cut, gates, cuts_cfg)
        recalled = [
            s >= (cuts[k] if isinstance(cuts, list) else cuts) for k, s in enumerate(scores)
        ]
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
        if fit is not None:
            rep.holdout_recall = round(fit.recall, 4)
            rep.holdout_precision = round(fit.balanced_precision, 4)
            rep.holdout_pool_rate = round(fit.pool_rate, 4)
        if confirmer is not None and cfg.judge_sample:
            sample = pooling.take(pool, pooling.sample(recalled, cfg.judge_sample, rng))
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
        precision = fit.balanced_precision if fit is not None else 1.0
        if st.best is not None and precision < st.best[0] - cfg.max_precision_drop:
            rep.used = False  # drift: keep the best round's output and stop
            st.stopped = True
        else:
            top = max(precision, st.best[0]) if st.best is not None else precision
            st.best = (top, cut, r)
            prev, st.prev_cut = scores, cut
        st.done, st.reports = r, [asdict(x) for x in reports]
        if state_dir is not None:
            checkpoint.save(state_dir, st, scores)
        elif r == st.best[2]:
            best_scores = scores
        if on_round is not None:  # after the round is kept
            on_round(rep)
    assert st.best is not None
    best_round = st.best[2]
    if state_dir is not None:
        best_scores = checkpoint.scores_of(state_dir, best_round, pool.rows)
    for rep in reports:
        rep.used = rep.round == best_round
    holdout = {
        "seeds": len(held_seeds),
        "prior_positives": len(split.held_pos),
        "pool_docs": len(held_neg),
        "used_round": best_round,
    }
    return best_scores, st.best[1], reports, judged, holdout


def _bar(enabled: bool, total: int) -> Any:
    """A rich progress bar over the documents scored in all rounds (rate, ETA), or None."""
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.0f} docs/s" if speed else "? docs/s")

    bar = Progress(
        TextColumn("recall"),
        BarColumn(),
        MofNCompleteColumn(),
        Rate(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    bar.add_task("recall", total=total)
    bar.start()
    return bar


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
    progress: bool = False,
) -> dict[str, Any]:
    """Recall ``domain`` documents from the stage directory ``pool_dir`` into ``out_dir``.

    ``seeds`` is a JSONL/Parquet path (records with ``text``) or a list of texts; ``engine``
    (optional) is the LLM judge. Returns the manifest. Rerun policy (``StageDir``): a rerun
    of a finished identical run returns the existing manifest without work, an interrupted
    one resumes after its last finished round (``augment/checkpoint.py``; with the default
    ``deterministic`` training its output is the uninterrupted run's), a different one needs
    ``overwrite``.
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
    pool = pooling.open_pool(pool_dir)
    with StageDir(out, STAGE, overwrite=overwrite) as sd:
        # resume=True: finished rounds kept in the scratch directory survive a kill
        done = sd.begin(_fingerprint(pool, seed_texts, domain, cfg, engine), resume=True)
        if done is not None:
            return done
        args = (pool_dir, seeds, seed_texts, domain, cfg, engine, rows_per_shard, on_round, t0)
        return _recall(pool, sd, *args, progress=progress)


def _recall(
    pool,
    sd,
    pool_dir,
    seeds,
    seed_texts,
    domain,
    cfg,
    engine,
    rows_per_shard,
    on_round,
    t0,
    *,
    progress: bool,
):
    out = sd.path
    confirmer = (
        DomainConfirmer(engine, domain, cfg.judge_max_tokens) if engine is not None else None
    )
    bar = _bar(progress, cfg.rounds * pool.size)
    try:
        scores, cut, reports, judged, holdout = _run_rounds(
            pool,
            seed_texts,
            cfg,
            confirmer,
            on_round,
            bar,
            sd.scratch(checkpoint.SCRATCH),
            domain,
        )
    finally:
        if bar is not None:
            bar.stop()
    # shards a killed attempt wrote are rewritten from the kept rounds
    for stale in [*out.glob("part-*.parquet"), *(out / "rejects").glob("part-*.parquet")]:
        stale.unlink()
    cuts, gate = final_cuts(pool, cut, cfg, domain)
    n_in, n_kept, kept_tokens = pooling.write(
        pool, out, scores, cuts, domain, judged, rows_per_shard
    )
    # The kept rounds go before the manifest commits the run: a kill in between costs a
    # rerun of the rounds (same output), never a finished directory with scratch left in it.
    shutil.rmtree(out / checkpoint.SCRATCH, ignore_errors=True)
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
            "final_cuts": gate,
            "judge": engine.model_id if engine is not None else None,
            "tokens_by_domain": {domain: int(kept_tokens)},
            "rounds": [asdict(r) for r in reports],
            "holdout": holdout,
            "elapsed_s": round(time.perf_counter() - t0, 3),
        },
    )


__all__ = ["DOMAINS", "RoundReport", "bundled_seeds", "load_seeds", "recall"]
