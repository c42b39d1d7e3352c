"""`qurate init`, `qurate curate`, `qurate stats`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from shlex import quote
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from qurate.cli.options import Console, Overwrite, config_help, load, output_option
from qurate.contract.executors import ExecutorConfig
from qurate.errors import BadInputError

console = Console(stderr=True)
out_console = Console()


def init(
    output: Annotated[
        Optional[Path], typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace the -o file if it exists.")
    ] = False,
) -> None:
    """Write the commented default pipeline config (YAML): every section, every key, its
    default and what it does.

    Config sections: all of them (run, executor, curate, score, augment, synth, mix, train)."""
    from qurate.config import render_default

    text = render_default()
    if output is None:
        typer.echo(text, nl=False)
    else:
        # `init -o pipeline.yaml` wrote over the user's edited config (or any file) silently
        if not overwrite and (output.exists() or output.is_symlink()) and not output.is_dir():
            raise BadInputError(
                f"{output}: exists; give --overwrite to replace it with the defaults"
            )
        try:
            output.write_text(text)
        except OSError as e:
            raise BadInputError(f"{output}: cannot write the config ({e.strerror})") from None
        console.print(f"wrote {output}")


def curate(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Input files or folders: JSONL (.gz/.zst), Parquet, .txt/.md folders, WARC."
        ),
    ],
    output: Annotated[Path, output_option("Output stage directory.")],
    config: Annotated[
        Optional[Path],
        typer.Option(
            "-c",
            "--config",
            help=config_help("curate") + " Also reads `executor:` and `run.benchmarks`.",
        ),
    ] = None,
    workers: Annotated[
        Optional[int],
        typer.Option("--workers", help="Tasks run at once (executor.workers; default: CPU cores)."),
    ] = None,
    tasks: Annotated[
        Optional[int],
        typer.Option(
            "--tasks", help="Tasks per stage (executor.tasks; default: one per input file)."
        ),
    ] = None,
    decontaminate: Annotated[
        Optional[list[Path]],
        typer.Option(
            "--decontaminate",
            "--benchmarks",
            help="Benchmark JSONL/Parquet with a `text` field; repeatable (adds to run.benchmarks).",
        ),
    ] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bars.")] = False,
    overwrite: Overwrite = False,
) -> None:
    """Ingest, normalise, language-ID, filter, dedup and decontaminate INPUTs into OUTPUT.

    Config section: `curate` (with `executor` and `run.benchmarks`)."""
    from qurate.config import RunConfig
    from qurate.curate.config import CurateConfig
    from qurate.curate.pipeline import curate as run_curate

    out = output
    cfg = load(config, "curate", CurateConfig)
    run_cfg = load(config, "run", RunConfig, whole_file=False)
    executor = load(
        config, "executor", ExecutorConfig, {"workers": workers, "tasks": tasks}, whole_file=False
    )
    benchmarks = list(decontaminate or []) + [Path(b) for b in run_cfg.benchmarks]
    result = run_curate(
        inputs,
        out,
        cfg,
        executor=executor,
        decontaminate=benchmarks,
        progress=not no_progress,
        overwrite=overwrite,
    )
    if result.submitted:
        console.print(
            f"submitted to Slurm; rerun the same command when the jobs finish to see the summary of {out}"
        )
        return
    if result.skipped:
        console.print(
            f"{out} is already complete for this config and these inputs; nothing to do.",
            style="green",
        )
    render_manifest(result.manifest)
    console.print(f"output: {out}  (query it: qurate stats {quote(str(out))} --by reject_reason)")


def render_manifest(manifest: dict) -> None:
    counts = manifest["counts"]
    table = Table(
        title=f"{manifest['stage']}: {counts['in']:,} in, {counts['kept']:,} kept, {counts['rejected']:,} rejected"
    )
    table.add_column("rejected because")
    table.add_column("documents", justify="right")
    table.add_column("share of input", justify="right")
    for reason, n in sorted(counts["rejected_by_reason"].items(), key=lambda kv: -kv[1]):
        table.add_row(reason, f"{n:,}", f"{100 * n / max(counts['in'], 1):.1f}%")
    console.print(table)
    if any(c.get("docs") for c in manifest.get("by_lang", {}).values()):
        langs = Table(title="kept by language")
        for col in ("lang", "docs", "chars", "tokens"):
            langs.add_column(col, justify="left" if col == "lang" else "right")
        for lang, c in list(manifest["by_lang"].items())[:15]:
            if c.get("docs"):
                langs.add_row(
                    lang,
                    f"{c.get('docs', 0):,}",
                    f"{c.get('chars', 0):,}",
                    f"{c.get('tokens', 0):,}",
                )
        console.print(langs)
    render_skipped(manifest.get("skipped_inputs") or {})


def render_skipped(skipped: dict, shown: int = 10) -> None:
    """Name the input paths that were not read, and why (all of them are in the manifest)."""
    if not skipped.get("count"):
        return
    reasons = ", ".join(f"{n} {r}" for r, n in skipped["by_reason"].items())
    console.print(f"skipped {skipped['count']:,} input path(s) ({reasons}):", style="yellow")
    for item in skipped["paths"][:shown]:
        console.print(f"  {item['path']}: {item['reason']}")
    if skipped["count"] > shown:
        console.print("  ... (all listed in manifest.json under skipped_inputs)")


def stats(
    directory: Annotated[
        Path, typer.Argument(help="A stage directory (curate, score, mix output).")
    ],
    by: Annotated[
        Optional[str],
        typer.Option("--by", help="Group by lang | domain | source | reject_reason | stage."),
    ] = None,
    sql: Annotated[
        Optional[str],
        typer.Option("--sql", help="Your own DuckDB query over the views docs, rejects, all_docs."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Query a stage directory with DuckDB: kept documents and rejects together.

    Config section: none (reads only the stage directory)."""
    from qurate.report import stats as st

    if sql:
        columns, rows = st.run_sql(directory, sql)
        title = "query"
    elif by:
        columns, rows = st.stats_by(directory, by)
        title = f"by {by}"
    else:
        s = st.summary(directory)
        columns, rows = list(s), [tuple(s.values())]
        title = str(directory)
    if as_json:
        typer.echo(
            json.dumps(
                [dict(zip(columns, _json_safe(r), strict=True)) for r in rows],
                ensure_ascii=False,
                default=str,
                indent=2,
                allow_nan=False,
            )
        )
        return
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(
            *[f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v) for v in r]
        )
    out_console.print(table)


def _json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as null: ``--json`` wrote ``NaN`` and ``Infinity``
    (a NaN quality), which are not JSON, so jq and every strict parser refused the output."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("curate")(curate)
    app.command("stats")(stats)
