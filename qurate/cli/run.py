"""`qurate run [pipeline.yaml]`: every stage from one config, or the bundled demo."""

from __future__ import annotations

from pathlib import Path
from shlex import quote
from typing import Annotated, Optional

import typer

from qurate.cli.options import Console

console = Console(stderr=True)


def run(
    config: Annotated[
        Optional[Path],
        typer.Argument(help="Pipeline YAML (`qurate init`); none runs the bundled demo."),
    ] = None,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "-o",
            "--output",
            help="Run directory (run.out; default qurate-out, or qurate-demo for the demo).",
        ),
    ] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bars.")] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Let each stage replace a different earlier run in its directory (without "
            "it, a rerun of the same config is a no-op and a killed run resumes).",
        ),
    ] = False,
) -> None:
    """Run the pipeline: curate -> score -> augment -> synth -> mix -> report -> train.

    Config sections: all (`run`, `executor`, `curate`, `score`, `augment`, `synth`, `mix`,
    `train`; `run.ingest`, `run.recall` and `run.synth` name the augment and synth inputs);
    with no config, the bundled demo."""
    out = output
    from qurate.run import run_demo, run_pipeline

    if config is None:
        run_dir = out or Path("qurate-demo")
        console.print(f"qurate demo on the bundled sample corpus -> {run_dir}", style="bold")
        result = run_demo(run_dir, say=console.print, progress=not no_progress, overwrite=overwrite)
    else:
        from qurate.config import load_config

        cfg = load_config(config)
        if out is not None:
            cfg = cfg.model_copy(update={"run": cfg.run.model_copy(update={"out": str(out)})})
        result = run_pipeline(cfg, say=console.print, progress=not no_progress, overwrite=overwrite)
    console.print()
    width = max((len(name) for name in result.timings), default=0)
    for name, seconds in result.timings.items():
        console.print(f"  {name:<{width}} {seconds:>7.1f} s")
    _print_levers(result.run_dir)
    console.print(
        f"\noutput: {result.run_dir}  (each stage is a subdirectory; "
        f"qurate stats {quote(str(result.run_dir) + '/curated')} --by reject_reason)"
    )
    if result.report:
        console.print(f"report: {result.report}", style="bold")


def _print_levers(run_dir: Path) -> None:
    """What each stage did (``qurate.report.levers``): the levers' effects, before the report."""
    from rich.table import Table

    from qurate.report.levers import lever_lines

    lines = lever_lines(run_dir)
    if not lines:
        return
    table = Table(title="what each stage did", title_justify="left", show_header=False, box=None)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, line in lines:
        table.add_row(name, line)
    console.print()
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
