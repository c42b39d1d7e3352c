"""`qurate score annotate | distill | apply`: LLM judge -> fastText raters -> score everything."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from qurate.cli.options import Console, Overwrite, config_option, executor, load, output_option

app = typer.Typer(
    name="score",
    help="Quality scoring: LLM judge on a sample, distilled into fastText raters, applied to all. "
    "Config section: `score`.",
    no_args_is_help=True,
)
console = Console()

Engine = Annotated[
    Optional[str],
    typer.Option("--engine", help="transformers | vllm | openai (score.engine.kind)."),
]
Model = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        "-m",
        help="Judge model (score.engine.model): a local HF checkpoint dir, a .gguf file, "
        "'default' (embedded SmolLM2-135M-Instruct), or the model name a --base-url server knows.",
    ),
]
BaseUrl = Annotated[
    Optional[str],
    typer.Option("--base-url", help="OpenAI-compatible endpoint (score.engine.base_url)."),
]
ConfigPath = Annotated[Optional[Path], config_option("score")]


def _config(path: Path | None, **overrides: Any):
    """The `score:` section of the --config file (or the whole file), flags on top."""
    from qurate.score.config import ScoreConfig

    return load(path, "score", ScoreConfig, overrides)


@app.command()
def annotate(
    input: Annotated[Path, typer.Argument(help="Stage directory to sample from.")],
    output: Annotated[Path, output_option("Annotations stage directory.")],
    model: Model = None,
    engine: Engine = None,
    base_url: BaseUrl = None,
    sample: Annotated[
        Optional[int],
        typer.Option(
            "--sample",
            "-n",
            help="Documents, stratified by lang and source (score.annotate.sample).",
        ),
    ] = None,
    max_doc_tokens: Annotated[
        Optional[int],
        typer.Option(help="Truncate documents to this many tokens (score.judge.max_doc_tokens)."),
    ] = None,
    config: ConfigPath = None,
    overwrite: Overwrite = False,
) -> None:
    """LLM-judge a stratified sample: scores per dimension, domain, judge metadata.

    Config section: `score` (score.engine, score.judge, score.annotate)."""
    from qurate.score.annotate import annotate as run

    cfg = _config(
        config,
        **{
            "engine.model": model,
            "engine.kind": engine,
            "engine.base_url": base_url,
            "annotate.sample": sample,
            "judge.max_doc_tokens": max_doc_tokens,
        },
    )
    m = run(input, output, cfg, overwrite=overwrite, progress=True)
    c = m["counts"]
    t = m["throughput"]
    console.print(
        f"annotated {c['kept']} of {c['in']} sampled documents ({c['rejected']} failed, "
        f"{m['truncated']} truncated) in {t['wall_s']:.1f}s, {t['tokens_per_s']:.0f} tokens/s -> {output}"
    )
    check = m.get("judge_check")
    if check and check.get("auc") is not None:
        console.print(
            f"judge check: ROC-AUC {check['auc']:.2f} between {check['n']} documents and their "
            f"word-shuffled copies -> its scores keep {check['reliability']:.0%} of their weight "
            "in quality" + ("" if check["reliability"] >= 0.5 else " (a weak judge: see README)")
        )


def _fmt(x: Any) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


@app.command()
def distill(
    annotations: Annotated[Path, typer.Argument(help="Annotations stage directory.")],
    output: Annotated[Path, output_option("Directory for the rater models.")],
    keep_threshold: Annotated[
        Optional[float],
        typer.Option(
            help="Keep threshold (0-5) for F1/kappa (score.distill.keep_threshold); "
            "default: judge median."
        ),
    ] = None,
    reference: Annotated[
        list[str] | None,
        typer.Option(
            "--reference",
            help="Reference-quality text for the reference classifier (vs a random sample of "
            "the pool): JSONL/Parquet files, stage dirs, .txt/.md folders; default: the "
            "bundled sample. Repeat for several.",
        ),
    ] = None,
    config: ConfigPath = None,
    overwrite: Overwrite = False,
) -> None:
    """Train a fastText rater per dimension, a domain classifier and a reference classifier;
    print held-out agreement.

    Config section: `score` (score.distill)."""
    from qurate.score.distill import distill as run

    cfg = _config(
        config, **{"distill.keep_threshold": keep_threshold, "distill.reference": reference}
    )
    meta = run(annotations, output, cfg, overwrite=overwrite)
    render_agreement(meta)
    ref = meta.get("reference")
    if ref:
        console.print(
            f"reference classifier: {ref['n_reference']} reference vs {ref['n_pool']} pool documents"
        )
    console.print(f"raters -> {output} (agreement.json, raters.json)")


def render_agreement(meta: dict[str, Any]) -> None:
    m = meta["metrics"]
    table = Table(
        title=f"rater vs judge on {meta['n_test']} held-out documents (trained on {meta['n_train']})"
    )
    for col in ("dimension", "spearman", "threshold", "F1", "kappa", "judge keep", "rater keep"):
        table.add_column(col)
    for dim, d in m["dimensions"].items():
        table.add_row(
            dim,
            _fmt(d["spearman"]),
            _fmt(d["threshold"]),
            _fmt(d["f1"]),
            _fmt(d["kappa"]),
            _fmt(d["judge_keep_rate"]),
            _fmt(d["rater_keep_rate"]),
        )
    console.print(table)
    dom = m.get("domain")
    if dom:
        console.print(f"domain: accuracy {_fmt(dom['accuracy'])}, macro-F1 {_fmt(dom['macro_f1'])}")
        cm = Table(title="domain confusion (rows: judge, columns: rater)")
        cm.add_column("")
        for label in dom["labels"]:
            cm.add_column(label[:10])
        for label, row in zip(dom["labels"], dom["confusion"], strict=True):
            cm.add_row(label, *map(str, row))
        console.print(cm)
    elif m.get("domain_note"):
        console.print(f"domain: {m['domain_note']}")


@app.command()
def apply(
    input: Annotated[Path, typer.Argument(help="Stage directory to score.")],
    output: Annotated[Path, output_option("Scored stage directory.")],
    raters: Annotated[
        Optional[Path], typer.Option("--raters", help="Models directory from `score distill`.")
    ] = None,
    judge: Annotated[
        Optional[str],
        typer.Option(
            "--judge",
            help="Also LLM-judge every document with this model (score.engine.model; the rest "
            "of score.engine from --config).",
        ),
    ] = None,
    perplexity: Annotated[
        Optional[str],
        typer.Option(
            "--perplexity",
            help="Score perplexity under this reference causal LM ('default' = SmolLM2), "
            "whatever it costs; it enters quality as a percentile within the document's "
            "language (score.perplexity.normalize). Without it, perplexity runs when its "
            "CPU price is within score.apply.perplexity_budget_core_hours or on a GPU.",
        ),
    ] = None,
    no_perplexity: Annotated[
        bool,
        typer.Option(
            "--no-perplexity",
            help="Leave perplexity out (it is the costly signal).",
        ),
    ] = False,
    keep_threshold: Annotated[
        Optional[float],
        typer.Option(
            help="Reject documents with quality (0-1) below this as low_quality "
            "(score.apply.keep_threshold)."
        ),
    ] = None,
    tasks: Annotated[
        Optional[int],
        typer.Option(
            min=1,
            help="Split the input shards among this many tasks (local processes, each loading "
            "its own models; executor.kind: ray in --config puts them on a Ray cluster).",
        ),
    ] = None,
    engine: Engine = None,
    base_url: BaseUrl = None,
    config: ConfigPath = None,
    overwrite: Overwrite = False,
) -> None:
    """Add scores, quality, domain and domain_score to every document.

    Config sections: `score` (score.apply, score.engine, score.perplexity) and `executor`."""
    from qurate.score.apply import apply as run

    cfg = _config(
        config,
        **{
            "engine.model": judge,
            "engine.kind": engine,
            "engine.base_url": base_url,
            "perplexity.model": perplexity,
            "apply.keep_threshold": keep_threshold,
            "apply.tasks": tasks,
        },
    )
    m = run(
        input,
        output,
        raters,
        cfg,
        judge=judge is not None,
        perplexity=False if no_perplexity else (True if perplexity else cfg.apply.perplexity),
        executor=executor(config),
        overwrite=overwrite,
        progress=True,
    )
    c, t = m["counts"], m["throughput"]
    console.print(
        f"scored {c['in']} documents: {c['kept']} kept, {c['rejected']} rejected as low_quality "
        f"({t['docs_per_s']:.0f} docs/s, {t['mb_per_s']:.2f} MB/s) -> {output}"
    )
    render_checks(m)
    decision = m.get("perplexity_decision") or {}
    if decision.get("setting") == "auto":
        console.print(decision["reason"], markup=False)
    by_lang = (m.get("perplexity") or {}).get("by_language")
    if by_lang:
        table = Table(title="perplexity by language (quality: percentile within language)")
        for col in ("lang", "docs", "p10", "p50", "p90"):
            table.add_column(col, justify="left" if col == "lang" else "right")
        for lang, q in by_lang.items():
            table.add_row(lang, str(q["n"]), *(f"{q[k]:.1f}" for k in ("p10", "p50", "p90")))
        console.print(table)


def render_checks(m: dict[str, Any]) -> None:
    """Per signal: how well it tells documents from their word-shuffled copies, and its weight."""
    checks = m.get("signal_checks") or {}
    if not checks and not m.get("weights"):
        return
    table = Table(title="signals: original vs word-shuffled copy (ROC-AUC) -> weight in quality")
    for col in ("signal", "docs", "ROC-AUC", "reliability", "weight"):
        table.add_column(col, justify="left" if col == "signal" else "right")
    for name, w in (m.get("weights") or {}).items():
        c = checks.get(name) or {}
        table.add_row(
            name, str(c.get("n", "-")), _fmt(c.get("auc")), _fmt(c.get("reliability")), f"{w:.2f}"
        )
    console.print(table)
    judged = m.get("rater_judge_check") or {}
    if "rater" in (m.get("weights") or {}) and judged.get("auc") is not None:
        console.print(
            f"rater weight also x {judged['reliability']:.2f}: the judge check (ROC-AUC "
            f"{judged['auc']:.3f} on {judged['n']} documents) of the judge the raters learned from"
        )
    if m.get("domain_model"):
        console.print(f"domains: {m['domain_model']}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="score")
