"""``qurate augment recall`` and ``qurate augment ingest``: thin commands over
``qurate.augment.recall`` and ``qurate.augment.ingest``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.table import Table

from qurate.cli.options import Console, Overwrite, config_option, load, output_option

console = Console(stderr=True)
augment_app = typer.Typer(
    help="Math and code: recall domain documents from a pool with fastText; ingest dedicated "
    "corpora. Config section: `augment` (augment.recall, augment.ingest).",
    no_args_is_help=True,
)


def _domain(value: str) -> str:
    if value not in ("math", "code"):
        raise typer.BadParameter("expected math or code")
    return value


@augment_app.command("recall")
def recall_command(
    pool: Annotated[Path, typer.Argument(help="Pool: a stage directory (e.g. curate's output).")],
    output: Annotated[Path, output_option("Output stage directory.")],
    seeds: Annotated[
        Path, typer.Option("--seeds", help="Seed documents: JSONL or Parquet with a `text` field.")
    ],
    domain: Annotated[str, typer.Option("--domain", callback=_domain, help="math | code")],
    rounds: Annotated[
        Optional[int],
        typer.Option("--rounds", help="Train-score rounds (augment.recall.rounds, default 3)."),
    ] = None,
    threshold: Annotated[
        Optional[float],
        typer.Option(
            "--threshold", help="Recall when P(domain) >= this (augment.recall.threshold, 0.3)."
        ),
    ] = None,
    judge: Annotated[
        Optional[str],
        typer.Option(
            "--judge",
            help="LLM that checks a sample each round: a local HF dir, .gguf, or 'default'.",
        ),
    ] = None,
    judge_sample: Annotated[
        Optional[int],
        typer.Option(
            "--judge-sample", help="Documents judged per round (augment.recall.judge_sample)."
        ),
    ] = None,
    seed: Annotated[
        Optional[int],
        typer.Option("--seed", help="Sampling and training seed (augment.recall.seed)."),
    ] = None,
    config: Annotated[Optional[Path], config_option("augment.recall")] = None,
    overwrite: Overwrite = False,
) -> None:
    """Recall math or code documents from POOL into OUTPUT over several fastText rounds.

    Config section: `augment.recall`."""
    from qurate.augment.classifier import RecallConfig
    from qurate.augment.recall import recall

    cfg = load(
        config,
        "augment.recall",
        RecallConfig,
        {"rounds": rounds, "threshold": threshold, "judge_sample": judge_sample, "seed": seed},
    )
    out = output
    from qurate.contract.stagedir import refuse_output_in_inputs

    refuse_output_in_inputs(out, [pool, seeds])  # else --overwrite cleared the input first
    engine = None
    if judge:
        from qurate.llm import EngineConfig, load_engine

        engine = load_engine(EngineConfig(model=judge))

    def on_round(rep) -> None:
        judged = f", judged precision {rep.precision:.2f}" if rep.precision is not None else ""
        held = (
            f", held-out recall {rep.holdout_recall:.2f} precision {rep.holdout_precision:.2f}"
            if rep.holdout_recall is not None
            else ""
        )
        console.print(
            f"round {rep.round}: recalled {rep.recalled_docs:,} docs{judged}{held} "
            f"({rep.seconds:.1f} s)"
        )

    manifest = recall(
        pool,
        out,
        seeds,
        domain,
        cfg,
        engine=engine,
        on_round=on_round,
        overwrite=overwrite,
        progress=True,
    )
    t = Table(title=f"recall {domain} -> {out}", box=box.SIMPLE_HEAD)
    for col in (
        "round",
        "positives",
        "pseudo",
        "negatives",
        "threshold",
        "docs",
        "tokens",
        "judged",
        "precision",
        "held-out R",
        "held-out P",
        "used",
    ):
        t.add_column(col, justify="right")
    for r in manifest["rounds"]:
        prec = "-" if r["precision"] is None else f"{r['precision']:.2f}"
        t.add_row(
            str(r["round"]),
            str(r["positives"]),
            str(r["pseudo_positives"]),
            str(r["negatives"]),
            f"{r['threshold']:.3f}",
            f"{r['recalled_docs']:,}",
            f"{r['recalled_tokens']:,}",
            str(r["judged"]),
            prec,
            "-" if r.get("holdout_recall") is None else f"{r['holdout_recall']:.2f}",
            "-" if r.get("holdout_precision") is None else f"{r['holdout_precision']:.2f}",
            "yes" if r.get("used", True) else "",
        )
    Console().print(t)
    c = manifest["counts"]
    console.print(
        f"{c['in']:,} pool documents: {c['kept']:,} recalled, {c['rejected']:,} not_recalled"
    )


@augment_app.command("ingest")
def ingest_command(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="Corpora (JSONL/Parquet/text) or, for code, folders of source files."),
    ],
    output: Annotated[Path, output_option("Output stage directory.")],
    domain: Annotated[str, typer.Option("--domain", callback=_domain, help="math | code")],
    text_key: Annotated[
        Optional[str],
        typer.Option(
            "--text-key", help="Text field of JSONL/Parquet records (augment.ingest.text_key)."
        ),
    ] = None,
    code_filters: Annotated[
        Optional[bool],
        typer.Option(
            "--code-filters/--no-code-filters",
            help="Drop code files that fail the code filters (augment.ingest.code_filters).",
        ),
    ] = None,
    config: Annotated[Optional[Path], config_option("augment.ingest")] = None,
    overwrite: Overwrite = False,
) -> None:
    """Ingest dedicated math or code corpora into OUTPUT, tagged with the domain (and code
    language).

    Config section: `augment.ingest`."""
    from qurate.augment.ingest import IngestConfig, ingest

    cfg = load(
        config, "augment.ingest", IngestConfig, {"text_key": text_key, "code_filters": code_filters}
    )
    out = output
    manifest = ingest(inputs, out, domain, cfg, overwrite=overwrite)
    c = manifest["counts"]
    t = Table(title=f"ingest {domain} -> {out}", box=box.SIMPLE_HEAD)
    t.add_column("outcome")
    t.add_column("documents", justify="right")
    t.add_row("kept", f"{c['kept']:,}")
    for reason, n in sorted(c["rejected_by_reason"].items(), key=lambda kv: -kv[1]):
        t.add_row(f"rejected: {reason}", f"{n:,}")
    Console().print(t)
    if manifest.get("languages"):
        console.print(
            "languages: " + ", ".join(f"{k} {v}" for k, v in manifest["languages"].items())
        )
    if manifest.get("skipped_files"):
        console.print(
            "not documents (skipped): "
            + ", ".join(f"{k} {v}" for k, v in manifest["skipped_files"].items())
        )


def register(app: typer.Typer) -> None:
    app.add_typer(augment_app, name="augment")
