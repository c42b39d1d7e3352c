"""The rounds of ``qurate augment recall`` (``augment/recall.py`` runs them as a stage).

Each round trains a fastText classifier on the positives against pool negatives, scores
the pool, measures the round on the held-out split and keeps the best round (a round whose
held-out precision falls more than ``max_precision_drop`` below the best stops the rounds).
With a state directory every finished round is kept, and a rerun resumes after the last.
"""

from __future__ import annotations

import logging
import math
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
    DomainConfirmer,
    ProbedClassifier,
    RecallClassifier,
    RecallConfig,
)
from qurate.augment.embed import TokenEmbedder
from qurate.augment.holdout import calibrate, measure, sample_by_group, split_seeds, top_by_group
from qurate.augment.lexicon import known
from qurate.augment.prior_split import cuts_of, for_the_pool, gated, prior_split

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


def cutoff(scores: list[np.ndarray], cfg: RecallConfig, thr: float) -> float:
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


def run_rounds(
    pool: pooling.Pool,
    seeds: list[str],
    cfg: RecallConfig,
    confirmer: DomainConfirmer | None,
    on_round: Callable[[RoundReport], None] | None,
    bar: Any = None,
    state_dir: Path | None = None,
    domain: str = "math",
    embedder: TokenEmbedder | None = None,
) -> tuple[list[np.ndarray], float, list[RoundReport], dict[str, bool], dict[str, int]]:
    """The rounds; with ``state_dir`` each finished round is kept there and a rerun resumes
    after the last one kept (``augment/checkpoint.py``). With ``embedder`` each round's
    classifier is fastText and an embedding probe together (``augment/embed.py``)."""
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
        if embedder is not None:
            clf = ProbedClassifier.train(clf, embedder, positives, negatives, cfg)
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
        cut = cutoff(scores, cfg, base)
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


__all__ = ["RoundReport", "cutoff", "run_rounds"]
