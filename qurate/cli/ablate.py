"""`qurate ablate` and `qurate eval`: thin commands over ``qurate.ablate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from qurate.cli.options import Console

console = Console(stderr=True)

EvalOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--eval",
        help="Evaluation NAME=PATH (held-out text, multiple choice or generation); repeatable.",
    ),
]
ConfigOpt = Annotated[
    Optional[Path], typer.Option("-c", "--config", help="Pipeline YAML with an `ablate:` section.")
]


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4f}"


def _summary_table(results: dict[str, Any]) -> Table:
    table = Table(
        title=f"ablation: {results['tokens']:,} tokens per run, {results['seeds']} seed(s)"
    )
    table.add_column("eval")
    table.add_column("metric")
    arms = list(results["arms"])
    for a in arms:
        table.add_column(f"{a}\nmean ± sd", justify="right")
    for name, per_arm in results["summary"]["by_eval"].items():
        metric = next(iter(per_arm.values()))["metric"]
        cells = []
        for a in arms:
            s = per_arm.get(a)
            cells.append("-" if s is None else f"{s['mean']:.4f} ± {_fmt(s['sd'])}")
        table.add_row(name, metric, *cells)
    return table


def _differences(results: dict[str, Any]) -> list[str]:
    lines = []
    for d in results["summary"]["differences"]:
        verdict = {
            None: "seed spread unknown (one seed)",
            True: "larger than the seed spread",
            False: "within the seed spread",
        }[d["exceeds_spread"]]
        better = f"{d['better']} better" if d["better"] else "equal"
        lines.append(f"{d['eval']}: {d['a']} - {d['b']} = {d['delta']:+.4f} ({better}; {verdict})")
    for arm, per_eval in results["leakage"].items():
        for name, hits in per_eval.items():
            if hits["any"]:
                lines.append(
                    f"leakage: {hits['any']}/{hits['docs']} texts of eval {name} occur in arm "
                    f"{arm} (exact {hits['exact']}, near {hits['near']}, 13-gram {hits['ngram']})"
                )
    return lines


def ablate(
    arms: Annotated[
        Optional[list[str]],
        typer.Argument(help="Arms NAME=PATH: a stage directory or JSONL/Parquet with `text`."),
    ] = None,
    out: Annotated[Path, typer.Option("-o", "--output", help="Ablation output directory.")] = Path(
        "ablation"
    ),
    evals: EvalOpt = None,
    tokens: Annotated[
        Optional[int], typer.Option(help="Training tokens per arm and seed (default 2,000,000).")
    ] = None,
    preset: Annotated[Optional[str], typer.Option(help="Model preset (default tiny).")] = None,
    seeds: Annotated[Optional[int], typer.Option(help="Seeds per arm (default 2).")] = None,
    tokenizer: Annotated[
        Optional[Path], typer.Option(help="tokenizer.json for every arm (default: train one).")
    ] = None,
    seq_len: Annotated[Optional[int], typer.Option("--seq-len", help="Tokens per row.")] = None,
    batch_tokens: Annotated[
        Optional[int], typer.Option("--batch-tokens", help="Global batch (default: plan).")
    ] = None,
    lr: Annotated[Optional[float], typer.Option(help="Peak learning rate (default: plan).")] = None,
    parallel: Annotated[
        Optional[int], typer.Option("--parallel", help="Arm runs at once on this machine.")
    ] = None,
    launcher: Annotated[
        Optional[str],
        typer.Option(
            "--launcher",
            help="local (default) or torchrun: each arm and seed as one `torchrun` job.",
        ),
    ] = None,
    nproc_per_node: Annotated[
        Optional[int],
        typer.Option("--nproc-per-node", help="Processes (GPUs) per torchrun job (default 1)."),
    ] = None,
    config: ConfigOpt = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a different finished ablation in -o.")
    ] = False,
) -> None:
    """Train one proxy model per arm and seed with one recipe; compare them on the same evals.

    Config section: `ablate`."""
    from qurate.ablate.config import AblateConfig
    from qurate.ablate.inputs import parse_specs
    from qurate.ablate.runner import RESULTS, run_ablation
    from qurate.contract.config import load_section

    cfg = load_section(
        config,
        "ablate",
        AblateConfig,
        {
            "arms": parse_specs(arms, "arm") if arms else None,
            "evals": parse_specs(evals, "eval") if evals else None,
            "tokens": tokens,
            "preset": preset,
            "seeds": seeds,
            "tokenizer": str(tokenizer) if tokenizer else None,
            "seq_len": seq_len,
            "batch_tokens": batch_tokens,
            "lr": lr,
            "parallel": parallel,
            "launcher": launcher,
            "nproc_per_node": nproc_per_node,
        },
    )
    results = run_ablation(
        cfg, out, overwrite=overwrite, say=lambda s: console.print(s), progress=True
    )
    Console().print(_summary_table(results))
    for line in _differences(results):
        console.print(line)
    console.print(f"results: {out / RESULTS}")


def eval_command(
    model: Annotated[
        Path, typer.Argument(help="A run directory, checkpoint or HF Qwen2 directory.")
    ],
    evals: EvalOpt = None,
    out: Annotated[
        Optional[Path], typer.Option("-o", "--output", help="Write the metrics as JSON here.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Score one model: bits per byte, multiple-choice accuracy, verified generation pass@1.

    Config section: `ablate` (its `eval_*`, `max_new_tokens` and `leakage_*` keys)."""
    from qurate.ablate.config import AblateConfig
    from qurate.ablate.inputs import parse_specs
    from qurate.ablate.runner import evaluate_model, load_evals
    from qurate.contract.config import load_section
    from qurate.contract.stagedir import atomic_write_text
    from qurate.errors import ConfigError

    cfg = load_section(
        config, "ablate", AblateConfig, {"evals": parse_specs(evals, "eval") if evals else None}
    )
    if not cfg.evals:
        raise ConfigError("qurate eval: give at least one --eval NAME=PATH")
    if out is not None and out.is_dir():  # found before the evals run, not after
        raise ConfigError(f"-o {out} is a directory: give a file for the metrics JSON")
    results = evaluate_model(model, load_evals(cfg), cfg, progress=True)
    table = Table(title=f"eval: {model}")
    for col in ("eval", "kind", "metric", "value", "rows", "seconds"):
        table.add_column(col, justify="left" if col in ("eval", "kind", "metric") else "right")
    for name, r in results.items():
        table.add_row(
            name, r["kind"], r["metric"], f"{r['value']:.4f}", str(r["docs"]), f"{r['wall_s']:.1f}"
        )
    Console().print(table)
    for name, r in results.items():  # rows left out of a metric are said, not only counted
        if r.get("rejected_rows"):
            why = ", ".join(f"{k}: {v}" for k, v in sorted(r["rejected_rows"].items()))
            console.print(f"{name}: {sum(r['rejected_rows'].values())} rows not scored ({why})")
    if out is not None:
        atomic_write_text(out, json.dumps({"model": str(model), "evals": results}, indent=2))
        console.print(f"wrote {out}")


def register(app: typer.Typer) -> None:
    app.command("ablate")(ablate)
    app.command("eval")(eval_command)
