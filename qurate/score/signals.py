"""The signals of ``quality``, each one's check, and the weight each earns.

Components, each in [0, 1] (NaN where a document has none):

- ``rater``: the fastText raters' weighted mean score / 5 (distilled from the judge);
- ``judge``: the LLM judge's mean normalised score (``--judge``);
- ``perplexity``: perplexity under a reference LM (raw here; apply ranks it per language);
- ``reference``: P(reference) from a DCLM-style fastText classifier of reference-quality text
  against a random sample of the pool (``score distill``; see ``score/reference.py``).

Every signal is checked before it gets a say (the judge check of ``check.py`` applied to each
one): ``score.apply.check_docs`` input documents and word-shuffled copies of them are scored,
and the signal's ROC-AUC (original above its copy) scales its configured weight by
``check.reliability``. Raters also inherit the judge check of the judge they learned from. A
signal that cannot tell text from shuffled words adds nothing but noise, so it drops out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from qurate.score.check import check_judge, reliability, reliability_of, shuffle_words
from qurate.score.config import ScoreConfig
from qurate.score.metrics import roc_auc

COMPONENTS = ("rater", "judge", "perplexity", "reference")
MIN_CHECK_WORDS = 8  # shorter documents barely change when shuffled


def rater_component(raters: Any, texts: list[str], config: ScoreConfig) -> tuple[np.ndarray, Any]:
    """The raters' weighted mean score / 5 and the raw ``predict`` output."""
    pred = raters.predict(texts)
    comp = np.zeros(len(texts), dtype=np.float64)
    total_w = 0.0
    for dim, vals in pred[0].items():
        w = config.apply.weights.get(dim, 1.0)
        comp += w * np.clip(vals, 0, 5) / 5.0
        total_w += w
    return (comp / total_w if total_w > 0 else np.full(len(texts), np.nan)), pred


def score_batch(
    rows: list[dict[str, Any]],
    models: Any,
    config: ScoreConfig,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Fill scores / domain / domain_score of ``rows`` in place; return the components
    (``perplexity`` raw: apply normalises it)."""
    texts = [r["text"] or "" for r in rows]
    comps: dict[str, np.ndarray] = {}
    new_scores: list[dict[str, float]] = [{} for _ in rows]
    raters = models.raters
    if raters is not None:
        comp, (scores, domains, dprob) = rater_component(raters, texts, config)
        if scores:
            comps["rater"] = comp
        for dim, vals in scores.items():
            for i, v in enumerate(vals.tolist()):
                new_scores[i][dim] = v
        if raters.domain_model is not None and models.domains is None:
            for i, row in enumerate(rows):
                row["domain"], row["domain_score"] = domains[i], float(dprob[i])
    if models.judge is not None:
        judge = models.judge
        comp = np.full(len(rows), np.nan)
        for i, j in enumerate(judge.judge(texts)):
            if j.error:
                continue
            comp[i] = judge.quality(j.scores)
            for dim, v in j.scores.items():
                new_scores[i][f"judge_{dim}"] = v
            if models.domains is None and (raters is None or raters.domain_model is None):
                rows[i]["domain"], rows[i]["domain_score"] = j.domain, j.domain_score
        comps["judge"] = comp
    if models.reference is not None:
        comps["reference"] = models.reference.predict(texts)
        for i, v in enumerate(comps["reference"].tolist()):
            new_scores[i]["reference"] = v
    if models.domains is not None:
        labels, prob = models.domains.predict(texts)
        for row, label, p in zip(rows, labels, prob.tolist(), strict=True):
            row["domain"], row["domain_score"] = label, p
    if models.perplexity is not None:
        ppl = models.perplexity.perplexity(texts, on_progress=on_progress)
        for i, p in enumerate(ppl.tolist()):
            if not np.isnan(p):
                new_scores[i]["perplexity"] = p
        comps["perplexity"] = ppl
    elif on_progress is not None:
        on_progress(len(rows))
    for row, s in zip(rows, new_scores, strict=True):
        row["scores"] = {**(row.get("scores") or {}), **s}
    return comps


def combine(comps: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Weighted mean of the components each document has (NaN when it has none)."""
    n = len(next(iter(comps.values()))) if comps else 0
    num, den = np.zeros(n), np.zeros(n)
    for name, comp in comps.items():
        ok = ~np.isnan(comp)
        num[ok] += weights.get(name, 0.0) * comp[ok]
        den[ok] += weights.get(name, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def check_signal(score: Callable[[list[str]], np.ndarray], texts: list[str]) -> dict[str, Any]:
    """ROC-AUC of ``score`` (higher = better) between ``texts`` and word-shuffled copies of
    them, and the reliability it earns. Texts under ``MIN_CHECK_WORDS`` words are skipped."""
    texts = [t for t in texts if len(t.split()) >= MIN_CHECK_WORDS]
    if not texts:
        return {"n": 0, "auc": None, "reliability": 1.0}
    copies = [shuffle_words(t, seed=i) for i, t in enumerate(texts)]
    s = np.asarray(score(texts + copies), dtype=np.float64)
    a, b = s[: len(texts)], s[len(texts) :]
    ok = ~np.isnan(a) & ~np.isnan(b)
    if not ok.any():
        return {"n": 0, "auc": None, "reliability": 1.0}
    labels = np.r_[np.ones(int(ok.sum()), bool), np.zeros(int(ok.sum()), bool)]
    auc = roc_auc(labels, np.r_[a[ok], b[ok]])
    return {"n": int(ok.sum()), "auc": auc, "reliability": reliability(auc)}


def signal_checks(models: Any, texts: list[str], config: ScoreConfig) -> dict[str, Any]:
    """Every present signal's check on ``texts`` (the judge's is the judge check)."""
    checks: dict[str, Any] = {}
    if not texts:
        return checks
    if models.raters is not None:
        checks["rater"] = check_signal(
            lambda ts: rater_component(models.raters, ts, config)[0], texts
        )
    if models.judge is not None:
        judge = models.judge
        quality = [judge.quality(j.scores) if not j.error else np.nan for j in judge.judge(texts)]
        checks["judge"] = check_judge(judge, texts, quality)
    if models.perplexity is not None:
        checks["perplexity"] = check_signal(
            lambda ts: -np.log(models.perplexity.perplexity(ts)), texts
        )
    if models.reference is not None:
        checks["reference"] = check_signal(models.reference.predict, texts)
    return checks


def signal_weights(
    models: Any, config: ScoreConfig, checks: dict[str, Any]
) -> tuple[dict[str, float], list[str]]:
    """Each present component's weight in ``quality``: configured x its check's reliability
    (raters: x the judge check of their judge too). When every weight is 0 the signals keep
    their configured weights: there is nothing better to lean on, and the manifest records
    the checks, so the weakness is on record."""
    acfg = config.apply
    configured = {
        "rater": acfg.rater_weight,
        "judge": acfg.judge_weight,
        "perplexity": acfg.perplexity_weight,
        "reference": acfg.reference_weight,
    }
    on = {
        "rater": models.raters,
        "judge": models.judge,
        "perplexity": models.perplexity,
        "reference": models.reference,
    }
    present = [c for c in COMPONENTS if on[c] is not None]
    weights = {c: configured[c] * reliability_of(checks.get(c)) for c in present}
    if "rater" in weights:
        weights["rater"] *= reliability_of(models.raters.meta.get("judge_check"))
    if not sum(weights.values()):
        weights = {c: configured[c] for c in present}
    return weights, present
