"""``qurate mix`` and ``qurate report``: thin commands over ``qurate.mixers`` and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from qurate.errors import ConfigError


def _tok(n: float) -> str:
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:.0f}"


def plan_tables(plan: Any) -> list[Table]:
    """The dry-run view: per domain supply, target, epochs; per bucket the sampling rate."""
    t = Table(
        title=f"mix plan: budget {_tok(plan.budget_tokens)} tokens, seed {plan.seed}",
        box=box.SIMPLE_HEAD,
    )
    filtered = any(d.eligible_tokens < d.available_tokens for d in plan.domains.values())
    cols = ["supply", *(["eligible"] if filtered else []), "natural", "target",
            "share", "epochs/max", "capped"]  # fmt: skip
    t.add_column("domain", no_wrap=True)
    for col in cols:
        t.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for d in plan.domains.values():
        t.add_row(
            d.domain,
            _tok(d.available_tokens),
            *([_tok(d.eligible_tokens)] if filtered else []),
            f"{d.natural_share:.1%}",
            _tok(d.target_tokens),
            f"{d.target_tokens / plan.budget_tokens:.1%}",
            f"{d.epochs:.2f}/{d.max_epochs:g}",
            "yes" if d.capped else "",
        )
    labels = plan.bucket_labels()
    r = Table(title="rate (expected repeats per document) by quality bucket", box=box.SIMPLE_HEAD)
    r.add_column("domain")
    for label in labels:
        r.add_column(label, justify="right", no_wrap=True)
    rates: dict[str, dict[int, float]] = {}
    for b in plan.buckets:
        rates.setdefault(b.domain, {})[b.bucket] = b.rate
    for d in plan.domains:
        r.add_row(d, *(f"{rates.get(d, {}).get(i, 0.0):.2f}" for i in range(len(labels))))
    return [t, r]


def _result_table(manifest: dict[str, Any]) -> Table:
    m = manifest["mix"]
    t = Table(
        title=f"mixed {_tok(m['achieved_tokens'])} of {_tok(m['budget_tokens'])} tokens",
        box=box.SIMPLE_HEAD,
    )
    for col in ("domain", "target", "achieved", "target %", "achieved %", "epochs"):
        t.add_column(col, justify="left" if col == "domain" else "right")
    for d, v in m["domains"].items():
        t.add_row(
            d,
            _tok(v["target_tokens"]),
            _tok(v["achieved_tokens"]),
            f"{v['target_share']:.2%}",
            f"{v['achieved_share']:.2%}",
            f"{v['epochs_achieved']:.2f}",
        )
    return t


def mix_command(
    inputs: Annotated[
        list[Path], typer.Argument(help="Stage directories to mix (scored, synthetic, ...).")
    ],
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Output directory for the training shards.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "-c", "--config", help="MIX.yaml (default: the demo mix, sized to the inputs)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan table and write nothing.")
    ] = False,
) -> None:
    """Resample domains x quality buckets to a token budget; write shuffled training shards."""
    from qurate.mixers import demo_mix_config, load_mix_config, mix, plan_mix

    console = Console()
    cfg = load_mix_config(config) if config else demo_mix_config(inputs)
    if dry_run:
        for table in plan_tables(plan_mix(inputs, cfg)):
            console.print(table)
        return
    if out is None:
        raise ConfigError("-o/--out: give an output directory (or use --dry-run)")
    manifest = mix(inputs, out, cfg)
    console.print(_result_table(manifest))
    for s in manifest["long_context"]:
        console.print(
            f"long-context stage {s['name']}: {s['sequences']:,} sequences, "
            f"{s['long_fraction_achieved']:.1%} at max length {s['max_tokens']:,} -> {out / s['dir']}"
        )
    console.print(f"{len(manifest['mix']['shards'])} shard(s) and manifest.json in {out}")


def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory holding stage directories.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
) -> None:
    """Write one self-contained HTML page with plots of a run."""
    from qurate.report.page import render_report

    path = render_report(run_dir, out)
    typer.echo(f"report: {path}")


def register(app: typer.Typer) -> None:
    app.command("mix")(mix_command)
    app.command("report")(report_command)
