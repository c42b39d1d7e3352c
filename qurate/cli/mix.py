"""``qurate mix`` and ``qurate report``: thin commands over ``qurate.mixers`` and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich import box
from rich.table import Table

from qurate.cli.options import Console, Overwrite, config_help, load, output_option
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
    output: Annotated[
        Optional[Path], output_option("Output directory for the training shards.")
    ] = None,
    config: Annotated[
        Optional[Path],
        typer.Option(
            "-c",
            "--config",
            help=config_help("mix") + " Without it: the demo mix, sized to the inputs.",
        ),
    ] = None,
    budget_tokens: Annotated[
        Optional[int], typer.Option("--budget-tokens", help="mix.budget_tokens: tokens in the mix.")
    ] = None,
    seed: Annotated[
        Optional[int], typer.Option("--seed", help="mix.seed: drives sampling and shuffling.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan table and write nothing.")
    ] = False,
    overwrite: Overwrite = False,
) -> None:
    """Resample domains x quality buckets to a token budget; write shuffled training shards.

    Config section: `mix` (a MIX.yaml holding only those keys works too)."""
    from qurate.mixers import demo_mix_config, mix, plan_mix
    from qurate.mixers.config import MixConfig

    console = Console()
    flags = {"budget_tokens": budget_tokens, "seed": seed}
    if config is not None:
        cfg = load(config, "mix", MixConfig, flags)
    else:
        cfg = demo_mix_config(inputs)
        given = {k: v for k, v in flags.items() if v is not None}  # None: a flag not given
        cfg = load(None, "mix", MixConfig, {**cfg.model_dump(exclude_unset=True), **given})
    if dry_run:
        for table in plan_tables(plan_mix(inputs, cfg)):
            console.print(table)
        return
    if output is None:
        raise ConfigError("-o/--output: give an output directory (or use --dry-run)")
    out = output
    manifest = mix(inputs, out, cfg, overwrite=overwrite)
    console.print(_result_table(manifest))
    for s in manifest["long_context"]:
        console.print(
            f"long-context stage {s['name']}: {s['sequences']:,} sequences, "
            f"{s['long_fraction_achieved']:.1%} at max length {s['max_tokens']:,} -> {out / s['dir']}"
        )
    console.print(f"{len(manifest['mix']['shards'])} shard(s) and manifest.json in {out}")


def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory holding stage directories.")],
    output: Annotated[Path, output_option("The HTML file to write.")] = Path("report.html"),
) -> None:
    """Write one self-contained HTML page with plots of a run.

    Config section: none (reads the stage directories' manifests and shards)."""
    from qurate.report.page import render_report

    path = render_report(run_dir, output)
    typer.echo(f"report: {path}")


def register(app: typer.Typer) -> None:
    app.command("mix")(mix_command)
    app.command("report")(report_command)
