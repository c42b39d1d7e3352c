"""The ablation section of the report: learning curves per arm, one bar chart per evaluation.

Reads ``results.json`` of every ``ablate`` stage directory the report found (``qurate
ablate`` writes it). Curves are the training loss by tokens seen, one line per arm and
seed (the arm's colour, a dash per seed), so a reader sees both the gap between arms and
the spread of seeds. Bars are the mean over seeds with the seed standard deviation as
error bars; lower is better for bits per byte, higher for accuracy and pass@1.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go

from qurate.report.gather import StageData

ABLATE_STAGE = "ablate"
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash"]


def _results(stage: StageData) -> dict[str, Any] | None:
    try:
        return json.loads((stage.path / stage.manifest.get("ablation", "results.json")).read_text())
    except (OSError, ValueError):
        return None


def fig_curves(results: dict[str, Any]) -> go.Figure:
    fig = go.Figure()
    for i, (arm, seeds) in enumerate(sorted(results.get("curves", {}).items())):
        for j, (seed, points) in enumerate(sorted(seeds.items())):
            if not points:
                continue
            x, y = zip(*points, strict=True)
            fig.add_scatter(
                x=x,
                y=y,
                mode="lines",
                name=f"{arm} seed {seed}",
                legendgroup=arm,
                line={"color": COLORS[i % len(COLORS)], "dash": DASHES[j % len(DASHES)]},
            )
    fig.update_layout(xaxis_title="training tokens", yaxis_title="training loss (nats/token)")
    return fig


def fig_eval(name: str, per_arm: dict[str, dict[str, Any]]) -> go.Figure:
    arms = sorted(per_arm)
    metric = per_arm[arms[0]]["metric"] if arms else ""
    fig = go.Figure()
    fig.add_bar(
        x=arms,
        y=[per_arm[a]["mean"] for a in arms],
        error_y={"type": "data", "array": [per_arm[a]["sd"] or 0 for a in arms], "visible": True},
        marker_color=[COLORS[i % len(COLORS)] for i in range(len(arms))],
        text=[f"{per_arm[a]['mean']:.4f}" for a in arms],
    )
    better = "lower is better" if metric == "bits_per_byte" else "higher is better"
    fig.update_layout(yaxis_title=f"{metric} ({better}; bars: mean, whiskers: seed sd)")
    return fig


def ablation_figures(stages: list[StageData]) -> list[tuple[str, str, go.Figure]]:
    """``(div id, title, figure)`` for every ablation among ``stages``."""
    out = []
    for k, stage in enumerate(s for s in stages if s.kind == ABLATE_STAGE):
        results = _results(stage)
        if results is None:
            continue
        where = f"{stage.name}: " if stage.name else ""
        out.append(
            (f"ablation-{k}-curves", f"{where}ablation learning curves", fig_curves(results))
        )
        for i, (name, per_arm) in enumerate(results["summary"]["by_eval"].items()):
            title = f"{where}ablation eval {name} ({results['tokens']:,} tokens per run)"
            out.append((f"ablation-{k}-eval-{i}", title, fig_eval(name, per_arm)))
    return out
