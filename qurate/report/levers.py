"""What each stage of a run did, in one line a stage: the levers' effects in the terminal.

``qurate run`` ends with this table (the HTML report draws the same things): curate's
kept/rejected counts and top reasons, the spread of ``quality`` and the domains score
labelled, what recall and synth kept, the mix's domain shares before and after, the
ablation's held-out metric per arm, and the first and last training losses. Everything comes
from the stages' manifests and metrics; only the scored shards are read (two narrow columns,
with DuckDB). A stage that is missing or unreadable is left out, never an error: this is a
summary of what exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from qurate.contract.shards import shard_paths
from qurate.report.gather import discover_stages, files_sql


def _n(x: Any) -> str:
    return f"{x:,}" if isinstance(x, int) else str(x)


def _reasons(counts: dict[str, Any], top: int = 3) -> str:
    by = sorted((counts.get("rejected_by_reason") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    if not by:
        return ""
    shown = ", ".join(f"{r} {_n(n)}" for r, n in by[:top])
    rest = sum(n for _, n in by[top:])
    more = f", {len(by) - top} more reasons ({_n(rest)})" if len(by) > top else ""
    return f"; rejected: {shown}{more}"


def _kept(m: dict[str, Any], what: str) -> str:
    c = m.get("counts") or {}
    return f"{_n(c.get('kept', 0))} of {_n(c.get('in', 0))} {what} kept{_reasons(c)}"


def _curate(path: Path, m: dict[str, Any]) -> str:
    return _kept(m, "documents")


def _score(path: Path, m: dict[str, Any]) -> str:
    shards = shard_paths(path)
    parts = []
    if shards:
        rel = files_sql(shards)
        con = duckdb.connect()
        try:
            q = con.execute(
                f"SELECT quantile_cont(quality, [0.05, 0.5, 0.95]) FROM {rel} "
                "WHERE quality IS NOT NULL AND isfinite(quality)"
            ).fetchone()
            doms = con.execute(
                f"SELECT coalesce(domain, 'unlabelled'), count(*) FROM {rel} "
                "GROUP BY 1 ORDER BY 2 DESC, 1"
            ).fetchall()
        finally:
            con.close()
        if q and q[0]:
            p5, p50, p95 = q[0]
            parts.append(f"quality p5 {p5:.2f}, median {p50:.2f}, p95 {p95:.2f}")
        if doms:
            parts.append(
                f"{len(doms)} domains: "
                + ", ".join(f"{d} {_n(n)}" for d, n in doms[:6])
                + (", ..." if len(doms) > 6 else "")
            )
    weights = m.get("weights") or {}
    if weights:
        parts.append(
            "weights in quality: "
            + ", ".join(f"{k} {v:.2f}" for k, v in sorted(weights.items(), key=lambda kv: -kv[1]))
        )
    return "; ".join(parts)


def _recall(path: Path, m: dict[str, Any]) -> str:
    c = m.get("counts") or {}
    rounds = m.get("rounds") or []
    return (
        f"{_n(c.get('kept', 0))} of {_n(c.get('in', 0))} pool documents recalled as "
        f"{m.get('domain', '?')} in {len(rounds)} round{'s' if len(rounds) != 1 else ''}"
    )


def _ingest(path: Path, m: dict[str, Any]) -> str:
    c = m.get("counts") or {}
    return (
        f"{_n(c.get('kept', 0))} of {_n(c.get('in', 0))} documents ingested as "
        f"{m.get('domain', '?')}{_reasons(c)}"
    )


def _synth(path: Path, m: dict[str, Any]) -> str:
    return _kept(m, "samples")


def _mix(path: Path, m: dict[str, Any]) -> str:
    mix = m.get("mix") or {}
    domains = mix.get("domains") or {}
    shares = sorted(
        (
            (d, v.get("natural_share"), v.get("achieved_share"))
            for d, v in domains.items()
            if isinstance(v, dict)
        ),
        key=lambda x: -(x[1] or 0),
    )
    moves = ", ".join(
        f"{d} {a:.0%} -> {b:.0%}" for d, a, b in shares if a is not None and b is not None
    )
    head = f"{_n(mix.get('achieved_tokens', 0))} tokens (budget {_n(mix.get('budget_tokens', 0))})"
    return head + (f"; domain share before -> after: {moves}" if moves else "")


def _ablate(path: Path, m: dict[str, Any]) -> str:
    try:
        results = json.loads((path / "results.json").read_text())
    except (OSError, ValueError):
        return ""
    per: dict[str, dict[str, list[float]]] = {}
    metric: dict[str, str] = {}
    for run in results.get("runs") or []:
        for name, ev in (run.get("evals") or {}).items():
            if isinstance(ev, dict) and isinstance(ev.get("value"), (int, float)):
                per.setdefault(name, {}).setdefault(str(run.get("arm")), []).append(ev["value"])
                metric[name] = str(ev.get("metric", ""))
    out = []
    for name, arms in per.items():
        vals = ", ".join(f"{arm} {sum(v) / len(v):.3f}" for arm, v in arms.items())
        out.append(f"{name} {metric[name].replace('_', ' ')}: {vals}")
    if out and results.get("tokens"):
        out[-1] += f" ({results.get('preset', '?')} proxies, {_n(results['tokens'])} tokens each)"
    leaks = [
        f"{_n(v['any'])} of {_n(v['docs'])} {name} documents overlap arm {arm}"
        for arm, evals in (results.get("leakage") or {}).items()
        for name, v in (evals or {}).items()
        if isinstance(v, dict) and v.get("any")
    ]
    if leaks:
        out.append("leakage: " + ", ".join(leaks))
    return "; ".join(out)


def _post(path: Path, m: dict[str, Any]) -> str:
    loss = m.get("final_loss")
    c = m.get("counts") or {}
    steps = m.get("steps")
    tail = f", final loss {loss:.3f}" if isinstance(loss, (int, float)) else ""
    return f"{_n(c.get('kept', 0))} rows, {steps} steps{tail}"


_LINES: dict[str, tuple[str, Callable[[Path, dict[str, Any]], str]]] = {
    "curate": ("curate", _curate),
    "score.apply": ("score", _score),
    "augment_ingest": ("augment", _ingest),
    "recall": ("augment", _recall),
    "synth_filter": ("synth", _synth),
    "mix": ("mix", _mix),
    "ablate": ("ablate", _ablate),
    "post_sft": ("post sft", _post),
    "post_dpo": ("post dpo", _post),
    "post_grpo": ("post grpo", _post),
}


def _train(run_dir: Path) -> tuple[str, str] | None:
    metrics = run_dir / "train" / "metrics.jsonl"
    try:
        rows = [json.loads(x) for x in metrics.read_text().splitlines() if x.strip()]
    except (OSError, ValueError):
        return None
    losses = [r for r in rows if isinstance(r, dict) and isinstance(r.get("loss"), (int, float))]
    if not losses:
        return None
    evals = [r["eval_loss"] for r in rows if isinstance(r.get("eval_loss"), (int, float))]
    line = (
        f"loss {losses[0]['loss']:.3f} at step {losses[0].get('step')} -> "
        f"{losses[-1]['loss']:.3f} at step {losses[-1].get('step')}"
    )
    if evals:
        line += f"; held-out loss {evals[0]:.3f} -> {evals[-1]:.3f}"
    return "train", line


def lever_lines(run_dir: str | Path) -> list[tuple[str, str]]:
    """(stage, what it did) for every stage of ``run_dir`` this knows, in pipeline order."""
    run = Path(run_dir)
    if not run.is_dir():
        return []
    found: list[tuple[str, str, str]] = []  # (kind, directory in the run, line)
    for path, manifest in discover_stages(run):
        known = _LINES.get(str(manifest.get("stage")))
        if known is None:
            continue
        try:
            line = known[1](path, manifest)
        except (OSError, ValueError, TypeError, KeyError, AttributeError, duckdb.Error):
            continue  # a summary of what exists: an unreadable stage is left out
        if line:
            found.append((known[0], _where(path, run), line))
    if (train := _train(run)) is not None:
        found.append((train[0], "train", train[1]))
    order = [name for name, _ in _LINES.values()]
    order.insert(order.index("post sft"), "train")
    found.sort(key=lambda x: order.index(x[0]))  # stable: two of a kind keep their order
    kinds = [k for k, _, _ in found]
    # two stages of a kind (a run's curate and a recall pool's) are told apart by directory
    return [(f"{k} {where}" if kinds.count(k) > 1 else k, line) for k, where, line in found]


def _where(path: Path, run: Path) -> str:
    try:
        return path.resolve().relative_to(run.resolve()).as_posix()
    except ValueError:
        return str(path)
