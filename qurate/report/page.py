"""The report's figures (plotly) and page. The page is self-contained: plotly.js is inlined
once, in the first figure, so it opens offline from a file with no network.

Every figure has a fixed element id (``FIGURES``) so a test, or a person, can find it.
"""

from __future__ import annotations

import datetime as _dt
import html
from pathlib import Path
from string import Template
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from qurate import __version__
from qurate.contract.shards import atomic_write_bytes
from qurate.errors import BadInputError
from qurate.report.ablation import ablation_figures
from qurate.report.gather import StageData, gather

FIGURES = {
    "domain-shares": "Domain token shares before and after mixing",
    "quality-histograms": "Quality score histograms per dimension",
    "languages": "Languages",
    "reject-reasons": "Reject reasons by stage",
    "token-budget": "Token budget",
    "long-context": "Long-context stages",
}
LONG_CONTEXT_STAGE = "mix-long-context"

PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>qurate report: $title</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
section { margin: 2rem 0; } .note { color: #666; font-size: .9rem; }
</style></head><body>
<h1>qurate report: $title</h1>
<p class="note">Run directory <code>$run_dir</code>; $n_stages stage(s); qurate $version; $created.</p>
<h2>Stages</h2>
$stage_table
$sections
</body></html>
""")


def _share(d: dict[str, int]) -> dict[str, float]:
    total = sum(d.values())
    return {k: v / total for k, v in d.items()} if total else {}


def _data_stages(stages: list[StageData]) -> list[StageData]:
    return [s for s in stages if s.kind != LONG_CONTEXT_STAGE and s.docs]


def fig_domain_shares(stages: list[StageData]) -> go.Figure:
    fig = go.Figure()
    domains = sorted({d for s in _data_stages(stages) for d in s.tokens_by_domain})
    for s in _data_stages(stages):
        share = _share(s.tokens_by_domain)
        fig.add_bar(name=f"{s.name} ({s.kind})", x=domains, y=[share.get(d, 0) for d in domains])
    for s in stages:
        mix = s.manifest.get("mix")
        if mix:
            fig.add_bar(
                name=f"{s.name}: target",
                x=domains,
                y=[mix["domains"].get(d, {}).get("target_share", 0) for d in domains],
                marker_pattern_shape="/",
            )
    fig.update_layout(barmode="group", yaxis_tickformat=".0%", yaxis_title="share of tokens")
    return fig


def fig_quality(stages: list[StageData]) -> go.Figure:
    with_scores = [s for s in _data_stages(stages) if s.histograms]
    dims = sorted({d for s in with_scores for d in s.histograms}, key=lambda d: (d != "quality", d))
    if not dims:
        return _empty("no stage has quality scores yet")
    cols = min(3, len(dims))
    rows = -(-len(dims) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=dims)
    for i, dim in enumerate(dims):
        for j, s in enumerate(with_scores):
            if dim not in s.histograms:
                continue
            edges, width, counts = s.histograms[dim]
            total = sum(counts) or 1
            fig.add_bar(
                x=[e + width / 2 for e in edges],
                y=[c / total for c in counts],
                width=width,
                name=s.name,
                legendgroup=s.name,
                showlegend=i == 0,
                marker_color=_COLORS[j % len(_COLORS)],
                opacity=0.6,
                row=i // cols + 1,
                col=i % cols + 1,
            )
    fig.update_layout(barmode="overlay", height=300 * rows)
    fig.update_yaxes(tickformat=".0%")
    return fig


def fig_languages(stages: list[StageData]) -> go.Figure:
    data = [s for s in _data_stages(stages) if s.docs_by_lang]
    if not data:
        return _empty("no stage has a lang column")
    langs = sorted(
        {lang for s in data for lang in s.docs_by_lang},
        key=lambda x: -sum(s.docs_by_lang.get(x, 0) for s in data),
    )
    fig = go.Figure()
    for s in data:
        share = _share(s.docs_by_lang)
        fig.add_bar(name=s.name, x=langs, y=[share.get(x, 0) for x in langs])
    fig.update_layout(barmode="group", yaxis_tickformat=".0%", yaxis_title="share of documents")
    return fig


def fig_rejects(stages: list[StageData]) -> go.Figure:
    reasons = sorted({r for s in stages for r in s.rejected_by_reason})
    if not reasons:
        return _empty("no stage rejected any document")
    names = [s.name for s in stages]
    fig = go.Figure()
    for r in reasons:
        fig.add_bar(name=r, x=names, y=[s.rejected_by_reason.get(r, 0) for s in stages])
    fig.update_layout(barmode="stack", yaxis_title="documents")
    return fig


def fig_budget(stages: list[StageData]) -> go.Figure:
    mixes = [s for s in stages if s.manifest.get("mix")]
    data = _data_stages(stages)
    fig = make_subplots(
        rows=1,
        cols=1 + len(mixes),
        subplot_titles=[
            "tokens kept per stage",
            *(
                f"{s.name}: budget {s.manifest['mix']['budget_tokens']:,}, "
                f"achieved {s.manifest['mix']['achieved_tokens']:,}"
                for s in mixes
            ),
        ],
    )
    fig.add_bar(x=[s.name for s in data], y=[s.tokens for s in data], name="tokens", row=1, col=1)
    for i, s in enumerate(mixes):
        m = s.manifest["mix"]
        fig.add_hline(
            y=m["budget_tokens"], line_dash="dash", annotation_text="budget", row=1, col=1
        )
        doms = list(m["domains"])
        for key, label in (
            ("available_tokens", "available"),
            ("target_tokens", "target"),
            ("achieved_tokens", "achieved"),
        ):
            fig.add_bar(
                x=doms,
                y=[m["domains"][d][key] for d in doms],
                name=f"{s.name}: {label}",
                row=1,
                col=2 + i,
            )
    fig.update_layout(barmode="group", yaxis_title="tokens")
    return fig


def fig_long_context(stages: list[StageData]) -> go.Figure | None:
    rows = [
        lc
        for s in stages
        for lc in s.manifest.get("long_context", []) or []
        if isinstance(lc, dict) and "sequences" in lc
    ]
    if not rows:
        return None
    names = [f"{r['name']} (max {r['max_tokens']:,})" for r in rows]
    fig = go.Figure()
    fig.add_bar(name="at max length", x=names, y=[r["long_sequences"] for r in rows])
    fig.add_bar(name="shorter", x=names, y=[r["short_sequences"] for r in rows])
    fig.update_layout(barmode="stack", yaxis_title="sequences")
    for n, r in zip(names, rows, strict=True):
        fig.add_annotation(
            x=n,
            y=r["sequences"],
            text=f"{r['long_fraction_achieved']:.0%} long",
            showarrow=False,
            yshift=10,
        )
    return fig


POST_STAGES = ("post_sft", "post_dpo", "post_grpo")
# Drawn only when a run has post-training (so not in FIGURES, which every report has).
OPTIONAL_FIGURES = {"post-losses": "Post-training losses (SFT, DPO, GRPO)"}


def fig_post_losses(stages: list[StageData]) -> go.Figure | None:
    """Loss per step of every post-training run (``RUN/metrics.jsonl``), when there is one."""
    import json

    fig = go.Figure()
    for s in stages:
        metrics = s.path / "metrics.jsonl"
        if s.kind not in POST_STAGES or not metrics.is_file():
            continue
        recs = [json.loads(x) for x in metrics.read_text().splitlines() if x.strip()]
        recs = [r for r in recs if r.get("loss") is not None]
        if recs:
            fig.add_scatter(
                x=list(range(1, len(recs) + 1)),
                y=[r["loss"] for r in recs],
                mode="lines+markers",
                name=f"{s.kind.removeprefix('post_')} ({s.name})",
            )
    if not fig.data:
        return None
    fig.update_layout(xaxis_title="step", yaxis_title="loss")
    return fig


_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, font_size=16, x=0.5, y=0.5, xref="paper", yref="paper"
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=200)
    return fig


def _stage_table(stages: list[StageData]) -> str:
    head = "<tr><th>stage dir</th><th>stage</th><th>in</th><th>kept</th><th>rejected</th><th>documents</th><th>tokens</th></tr>"
    body = []
    for s in stages:
        c: dict[str, Any] = s.manifest.get("counts", {})
        cells = [
            s.name,
            s.kind,
            c.get("in", ""),
            c.get("kept", ""),
            c.get("rejected", ""),
            s.docs,
            s.tokens,
        ]
        body.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(f'{v:,}' if isinstance(v, int) else str(v))}</td>" for v in cells
            )
            + "</tr>"
        )
    return f"<table>{head}{''.join(body)}</table>"


def build_page(run_dir: Path, stages: list[StageData]) -> str:
    figures: list[tuple[str, go.Figure]] = [
        ("domain-shares", fig_domain_shares(stages)),
        ("quality-histograms", fig_quality(stages)),
        ("languages", fig_languages(stages)),
        ("reject-reasons", fig_rejects(stages)),
        ("token-budget", fig_budget(stages)),
    ]
    lc = fig_long_context(stages)
    if lc is not None:
        figures.append(("long-context", lc))
    titles = dict(FIGURES)
    for fid, title, fig in ablation_figures(stages):
        figures.append((fid, fig))
        titles[fid] = title
    post = fig_post_losses(stages)
    if post is not None:
        figures.append(("post-losses", post))
        titles["post-losses"] = OPTIONAL_FIGURES["post-losses"]
    sections = []
    for i, (fid, fig) in enumerate(figures):
        fig.update_layout(template="plotly_white", margin={"t": 60})
        div = fig.to_html(
            full_html=False, include_plotlyjs=(i == 0), div_id=fid, config={"responsive": True}
        )
        sections.append(f"<section><h2>{html.escape(titles[fid])}</h2>\n{div}\n</section>")
    return PAGE.substitute(
        title=html.escape(run_dir.resolve().name),
        run_dir=html.escape(str(run_dir)),
        n_stages=len(stages),
        version=__version__,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        stage_table=_stage_table(stages),
        sections="\n".join(sections),
    )


def render_report(run_dir: str | Path, out_html: str | Path) -> Path:
    """Write the report page for ``run_dir`` to ``out_html`` and return its path."""
    out = Path(out_html)
    if out.is_dir():
        raise BadInputError(f"{out}: is a directory; give the HTML file to write")
    if out.exists() and out.suffix.lower() not in (".html", ".htm"):
        raise BadInputError(
            f"{out}: exists and is not an HTML page; choose another -o (a report does not "
            "write over other files)"
        )
    stages = gather(Path(run_dir))
    atomic_write_bytes(out, build_page(Path(run_dir), stages).encode())
    return out
