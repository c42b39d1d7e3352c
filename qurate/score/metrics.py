"""Agreement metrics between the LLM judge and its distilled raters (numpy only).

Spearman's rho (average ranks for ties), F1 and Cohen's kappa of the keep decision at a
threshold, accuracy / macro-F1 / confusion matrix for the domain label, and ROC-AUC for the
quality bar. Undefined values (a constant input, a single class) are NaN, never a crash.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank."""
    x = np.asarray(x, dtype=np.float64)
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[np.argsort(x, kind="mergesort")] = np.arange(1, len(x) + 1)
    _, tie = np.unique(x, return_inverse=True)
    return (np.bincount(tie, ranks) / np.bincount(tie))[tie]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2:
        return math.nan
    ra, rb = rankdata(a), rankdata(b)
    if ra.std() == 0 or rb.std() == 0:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


def binary_f1(truth: np.ndarray, pred: np.ndarray) -> float:
    tp = float(np.sum(truth & pred))
    fp = float(np.sum(~truth & pred))
    fn = float(np.sum(truth & ~pred))
    return 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else math.nan


def cohen_kappa(truth: list[Any] | np.ndarray, pred: list[Any] | np.ndarray) -> float:
    truth, pred = list(truth), list(pred)
    n = len(truth)
    if n == 0:
        return math.nan
    labels = sorted(set(truth) | set(pred), key=str)
    po = sum(t == p for t, p in zip(truth, pred, strict=True)) / n
    pe = sum((truth.count(c) / n) * (pred.count(c) / n) for c in labels)
    return (po - pe) / (1 - pe) if pe < 1 else math.nan


def keep_agreement(judge: np.ndarray, rater: np.ndarray, threshold: float) -> dict[str, float]:
    """F1 (judge's keep decision as truth) and kappa of keep = score >= threshold."""
    t, p = judge >= threshold, rater >= threshold
    return {
        "threshold": threshold,
        "f1": binary_f1(t, p),
        "kappa": cohen_kappa(t.tolist(), p.tolist()),
        "judge_keep_rate": float(t.mean()) if len(t) else math.nan,
        "rater_keep_rate": float(p.mean()) if len(p) else math.nan,
    }


def classification_report(truth: list[str], pred: list[str]) -> dict[str, Any]:
    labels = sorted(set(truth) | set(pred))
    index = {c: i for i, c in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(truth, pred, strict=True):
        cm[index[t], index[p]] += 1
    f1s = []
    for c in sorted(set(truth)):  # macro over the classes that occur in the truth
        i = index[c]
        tp, fp, fn = cm[i, i], cm[:, i].sum() - cm[i, i], cm[i, :].sum() - cm[i, i]
        f1s.append(2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 0.0)
    return {
        "accuracy": float(np.trace(cm) / cm.sum()) if cm.sum() else math.nan,
        "macro_f1": float(np.mean(f1s)) if f1s else math.nan,
        "kappa": cohen_kappa(truth, pred),
        "labels": labels,
        "confusion": cm.tolist(),  # rows: judge label, columns: rater label
    }


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC (Mann-Whitney U with average ranks): P(score of a positive > a negative)."""
    labels = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(np.asarray(scores, dtype=np.float64))
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
