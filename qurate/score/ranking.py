"""Per-language ranking of perplexity (CCNet's per-language cuts) for ``score apply``.

Perplexity depends on the language at least as much as on quality, so apply turns it into
the document's percentile among the input's documents of its language, and records the
per-language 10/50/90th percentiles (CCNet's head/middle/tail cuts) in the manifest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from qurate.errors import BadInputError
from qurate.score.metrics import rankdata
from qurate.score.raters import RATERS_FILE


def _indices_by_group(groups: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted group names and, for each, the positions that hold it (one sort, not a mask
    over the whole array per group)."""
    names, inv = np.unique(groups.astype(str), return_inverse=True)
    order = np.argsort(inv, kind="stable")
    return names, np.split(order, np.cumsum(np.bincount(inv, minlength=len(names)))[:-1])


def percentile_by_group(values: np.ndarray, groups: np.ndarray, min_group: int) -> np.ndarray:
    """Mid-rank percentile in (0, 1) of each value within its group (ties share a rank);
    NaN stays NaN; groups with fewer than ``min_group`` values are ranked together."""
    out = np.full(len(values), np.nan)
    ok = np.flatnonzero(~np.isnan(values))
    if not len(ok):
        return out
    _, parts = _indices_by_group(groups[ok])
    small = [p for p in parts if len(p) < min_group]
    ranked = [p for p in parts if len(p) >= min_group]
    if small:
        ranked.append(np.concatenate(small))
    for part in ranked:
        idx = ok[part]
        out[idx] = (rankdata(values[idx]) - 0.5) / len(idx)
    return out


def perplexity_quantiles(ppl: np.ndarray, groups: np.ndarray) -> dict[str, dict[str, float]]:
    """Per-language document count and 10/50/90th percentile perplexity (CCNet-style cuts)."""
    ok = np.flatnonzero(~np.isnan(ppl))
    table: dict[str, dict[str, float]] = {}
    if not len(ok):
        return table
    names, parts = _indices_by_group(groups[ok])
    for name, part in zip(names.tolist(), parts, strict=True):
        p10, p50, p90 = np.percentile(ppl[ok[part]], [10, 50, 90])
        table[name] = {"n": len(part), "p10": float(p10), "p50": float(p50), "p90": float(p90)}
    return table


def raters_summary(models_dir: str | Path) -> dict[str, Any]:
    """The saved ``raters.json`` of a models directory (for rendering)."""
    path = Path(models_dir) / RATERS_FILE
    if not path.is_file():
        raise BadInputError(f"{models_dir}: no {RATERS_FILE}")
    return json.loads(path.read_text())
