"""Round-1 positives from the math prior, and the held-out split that goes with them.

``qurate augment recall`` for math picks, before round 1, the pool documents whose math
prior (``augment/prior.py``) is at least ``prior_threshold``: they train as positives in
every round (none of them is ever a negative), and a ``holdout_fraction`` of them is held
out beside the held-out seeds, so each round's held-out recall is measured on the pool's
own kind of math and not only on the seeds' narrow kind. The held-out pool documents (the
drift guard's negatives) are drawn from those with a prior below ``prior_clean_below``: a
pool rich in math then no longer reads rising recall as falling precision.

With ``prior`` off, or for code, the split is the one ``augment/holdout.py`` describes
(the same random draws).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qurate.augment import pool as pooling
from qurate.augment.classifier import RecallConfig
from qurate.augment.holdout import sample_by_group
from qurate.augment.lexicon import known


@dataclass
class PriorSplit:
    """Per-shard masks and the texts held out or added as positives."""

    trainable: list[np.ndarray]  # may be sampled for training (not held out)
    prior_mask: list[np.ndarray]  # prior >= prior_threshold: never a negative
    prior_pos: list[str]  # prior picks that train as positives
    held_pos: list[str]  # prior picks held out (measure recall)
    held_neg: list[str]  # pool documents held out (measure the false-positive rate)


def prior_split(
    pool: pooling.Pool, cfg: RecallConfig, domain: str, holdout: bool, rng: np.random.Generator
) -> PriorSplit:
    """The split of ``pool`` for a run of ``domain`` (``holdout``: the seeds were split)."""
    use = cfg.prior and domain == "math"
    none = [np.zeros(n, dtype=bool) for n in pool.rows]
    if use:
        pri = pooling.priors(pool)
        clean = [p < cfg.prior_clean_below for p in pri]
        picked = [p >= cfg.prior_threshold for p in pri]
    else:
        clean, picked = [np.ones(n, dtype=bool) for n in pool.rows], none
    held_idx = (
        # at most a fifth of the pool: the rest is for training
        sample_by_group(clean, pool.langs, min(cfg.holdout_negatives, pool.size // 5), 1, rng)
        if holdout
        else [np.zeros(0, dtype=np.int64) for _ in pool.rows]
    )
    trainable = [np.ones(n, dtype=bool) for n in pool.rows]
    for m, idx in zip(trainable, held_idx, strict=True):
        m[idx] = False
    held_neg = [t for _, t in pooling.take(pool, held_idx)]
    prior_pos: list[str] = []
    held_pos: list[str] = []
    if use:
        picks = pooling.sample(picked, cfg.max_pseudo_positives, rng)
        n_picks = sum(len(p) for p in picks)
        k = int(round(cfg.holdout_fraction * n_picks)) if holdout and n_picks >= 5 else 0
        held = set(rng.permutation(n_picks)[:k].tolist())
        flat = 0
        for s, idx in enumerate(picks):
            for j in idx:
                if flat in held:
                    trainable[s][j] = False
                flat += 1
        texts = [t for _, t in pooling.take(pool, picks)]
        held_pos = [t for i, t in enumerate(texts) if i in held]
        prior_pos = [t for i, t in enumerate(texts) if i not in held]
    return PriorSplit(trainable, picked, prior_pos, held_pos, held_neg)


def prior_share(pool: pooling.Pool, cfg: RecallConfig) -> float:
    """Share of the pool whose math prior is >= ``prior_threshold`` (0 for an empty pool)."""
    if not pool.size:
        return 0.0
    return (
        float(sum(int((p >= cfg.prior_threshold).sum()) for p in pooling.priors(pool))) / pool.size
    )


def for_the_pool(pool: pooling.Pool, cfg: RecallConfig, domain: str) -> RecallConfig:
    """``cfg`` with the written selection's cuts raised where the pool is rare in math.

    Where fewer than ``rare_share`` of the pool's documents have a math prior of at least
    ``prior_threshold``, the odds that a document is math before anything reads it are low,
    and the same classifier makes more false positives per true one: a stray math word no
    longer lowers the cut (``weak_prior_below`` at least ``prior_threshold``) and a document
    without math words needs ``rare_bare_cut``. Bench pools thinned to 3% math (all nine
    built pools have a share of 0.07-0.37; thinned, 0.02-0.03): precision 0.66 -> 0.74,
    0.68 -> 0.75, 0.82 -> 0.96 on three of them, recall within 0.02 (bench/RESULTS.md)."""
    if not (cfg.prior and domain == "math") or not cfg.rare_share:
        return cfg
    if prior_share(pool, cfg) >= cfg.rare_share:
        return cfg
    return cfg.model_copy(
        update={
            "weak_prior_below": max(cfg.weak_prior_below, cfg.prior_threshold),
            "bare_cut": max(cfg.bare_cut, cfg.rare_bare_cut),
        }
    )


# A document's gate (``gated``), the index of its cut in ``cuts_of``.
_BARE = np.int8(0)  # no math word, in a language the lexicon knows
_WORDS = np.int8(1)  # math words (prior >= `prior_gate` and `weak_prior_below`)
_SILENT = np.int8(2)  # the lexicon knows no word of the document's language
_WEAK = np.int8(3)  # a math word or two: below `weak_prior_below`
_CODE_BARE = np.int8(4)  # source code without a math word: never math


def gated(pool: pooling.Pool, cfg: RecallConfig, domain: str) -> list[np.ndarray] | None:
    """Per shard, each document's gate (the constants above): math words, a stray math word
    (prior between ``prior_gate`` and ``weak_prior_below``), none in a language the lexicon
    knows (``lexicon.LEXICON_LANGS``) or in one it does not (its silence there says
    nothing); with ``code_needs_words``, source code is a stray word with math words and
    never recalled without. None where the cut is one for all: code, the prior off, or a
    cut that ``calibrate`` or ``max_fraction`` sets (lowering it per document would undo
    what they chose)."""
    if not (cfg.prior and domain == "math") or cfg.calibrate or cfg.max_fraction < 1.0:
        return None
    out = []
    for p, lang in zip(pooling.priors(pool), pool.langs, strict=True):
        words = p >= cfg.prior_gate
        code = (lang.astype(str) == "code") if cfg.code_needs_words else np.zeros(len(p), bool)
        out.append(
            np.select(
                [code & words, code, words & (p >= cfg.weak_prior_below), words, known(lang)],
                [_WEAK, _CODE_BARE, _WORDS, _WEAK, _BARE],
                _SILENT,
            ).astype(np.int8)
        )
    return out


def cuts_of(
    cut: float, gates: list[np.ndarray] | None, cfg: RecallConfig
) -> float | list[np.ndarray]:
    """The cut of each document: min(cut, ``prior_cut``) with math words, max(cut,
    ``bare_cut``) without in a language the lexicon knows, ``cut`` without in one it does
    not and with a stray math word (gate 3), infinite for code without math words (``cut``
    for all when ``gates`` is None). The third case: Khmer and Estonian math
    of the fifth dev pool had no word the lexicon knows and scores 0.3-0.7 (Estonian
    34 -> 36 of 94, Khmer 18 -> 20, precision unchanged, bench/RESULTS.md)."""
    if gates is None:
        return cut
    lo, hi = min(cut, cfg.prior_cut), max(cut, cfg.bare_cut)
    by_gate = [hi, lo, cut, cut, np.inf]  # _BARE, _WORDS, _SILENT, _WEAK, _CODE_BARE
    return [np.choose(g, by_gate).astype(np.float64) for g in gates]


def final_cuts(
    pool: pooling.Pool, cut: float, cfg: RecallConfig, domain: str
) -> tuple[float | list[np.ndarray], dict[str, float | int]]:
    """The cut of each pool document in the written output, and what it did.

    For math with the prior on, a document whose prior is >= ``prior_gate`` is kept at
    min(cut, ``prior_cut``) and any other at max(cut, ``bare_cut``): the lexicon and the
    classifier must agree unless one of them is sure. The rounds keep the single cut to pick
    the next round's negatives and pseudo-positives; what they report recalled, and what is
    written, uses these cuts. From the 60 sympy seeds, true recall / precision on the three
    dev pools went 0.963/0.893, 0.937/1.000, 0.802/0.971 -> 0.959/0.938, 0.967/0.997,
    0.901/0.960 (bench/RESULTS.md). Otherwise: ``cut`` for all, and an empty summary.
    """
    adjusted = for_the_pool(pool, cfg, domain)
    gates = gated(pool, adjusted, domain)
    if gates is None:
        return cut, {}
    cfg, rare = adjusted, adjusted is not cfg
    return cuts_of(cut, gates, cfg), {
        "prior_share": round(prior_share(pool, cfg), 4),
        "rare_math": rare,
        "prior_gate": cfg.prior_gate,
        "cut_with_prior": min(cut, cfg.prior_cut),
        "cut_without_prior": max(cut, cfg.bare_cut),
        "docs_with_prior": int(sum((g == _WORDS).sum() for g in gates)),
        "docs_outside_lexicon": int(sum((g == _SILENT).sum() for g in gates)),
    }


__all__ = [
    "PriorSplit",
    "cuts_of",
    "final_cuts",
    "for_the_pool",
    "gated",
    "prior_share",
    "prior_split",
]
