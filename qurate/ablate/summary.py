"""Mean and spread over seeds, and which arm differences are larger than the noise.

The spread of an arm on an evaluation is the sample standard deviation of its seeds
(``None`` with one seed: the noise is then unknown, and no difference is called). A
difference between two arms *exceeds the seed spread* when ``|mean_a - mean_b| >
sd_a + sd_b``: a deliberately plain rule (no distributional claim from two or three seeds)
that a reader can check by eye in the table.
"""

from __future__ import annotations

import json
import statistics
from itertools import combinations
from pathlib import Path
from typing import Any

from qurate.ablate.tasks import lower_is_better

MAX_CURVE_POINTS = 200


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"by_eval": {eval: {arm: {mean, sd, n, metric, values}}}, "differences": [...]}``."""
    by_eval: dict[str, dict[str, dict[str, Any]]] = {}
    for r in records:
        for name, res in r["evals"].items():
            slot = by_eval.setdefault(name, {}).setdefault(
                r["arm"], {"metric": res["metric"], "values": []}
            )
            slot["values"].append(res["value"])
    diffs = []
    for name, arms in by_eval.items():
        for s in arms.values():
            v = s["values"]
            s["n"] = len(v)
            s["mean"] = statistics.fmean(v)
            s["sd"] = statistics.stdev(v) if len(v) > 1 else None
        for a, b in combinations(sorted(arms), 2):
            sa, sb = arms[a], arms[b]
            delta = sa["mean"] - sb["mean"]
            spread = None if sa["sd"] is None or sb["sd"] is None else sa["sd"] + sb["sd"]
            low = lower_is_better(sa["metric"])
            better = a if (delta < 0) == low else b
            diffs.append(
                {
                    "eval": name,
                    "a": a,
                    "b": b,
                    "delta": delta,
                    "spread": spread,
                    "exceeds_spread": None if spread is None else abs(delta) > spread,
                    "better": better if delta != 0 else None,
                }
            )
    return {"by_eval": by_eval, "differences": diffs}


def _curve(run_dir: Path) -> list[list[float]]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    points = []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("loss") is not None:
            points.append([rec["tokens"], rec["loss"]])
    stride = max(1, len(points) // MAX_CURVE_POINTS)
    return points[::stride] + ([points[-1]] if points and (len(points) - 1) % stride else [])


def curves(records: list[dict[str, Any]]) -> dict[str, dict[str, list[list[float]]]]:
    """Training loss by tokens seen, per arm and seed (at most ``MAX_CURVE_POINTS`` each)."""
    out: dict[str, dict[str, list[list[float]]]] = {}
    for r in records:
        out.setdefault(r["arm"], {})[str(r["seed"])] = _curve(Path(r["run_dir"]))
    return out
