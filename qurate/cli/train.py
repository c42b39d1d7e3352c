"""`qurate train`, `qurate train plan`, `qurate train export`: thin wrappers over qurate.train.api."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qurate.cli.options import Console, config_help
from qurate.train.progress import TrainView

app = typer.Typer(
    help="Pretrain a Qwen2.5 model on mixed shards; plan hyper-parameters; export to HF. "
    "Config section: `train` (-c).",
    no_args_is_help=False,
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="train")


@app.callback(invoke_without_command=True)
def train(
    ctx: typer.Context,
    data: Annotated[
        Path | None, typer.Option("--data", help="Shard directory (part-*.parquet with text).")
    ] = None,
    out: Annotated[Path | None, typer.Option("-o", "--output", help="Run directory.")] = None,
    config: Annotated[
        Path | None, typer.Option("-c", "--config", help=config_help("train"))
    ] = None,
    preset: Annotated[
        str | None, typer.Option(help="Model preset: tiny, mini, 0.5B ... 72B.")
    ] = None,
    init_from: Annotated[
        Path | None, typer.Option("--init-from", help="Start from a HF Qwen2 checkpoint dir.")
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option("--max-steps", help="Stop after N steps.")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in -o (with its stored config).")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Clear the run in -o and start again.")
    ] = False,
    tokenizer: Annotated[
        Path | None, typer.Option(help="tokenizer.json (or dir); default: train a BPE.")
    ] = None,
    seq_len: Annotated[int | None, typer.Option("--seq-len", help="Tokens per row.")] = None,
    micro_batch_size: Annotated[
        int | None, typer.Option("--micro-batch-size", help="Rows per micro-batch.")
    ] = None,
    batch_tokens: Annotated[
        int | None, typer.Option("--batch-tokens", help="Global batch in tokens (default: plan).")
    ] = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (default: plan).")] = None,
    tokens: Annotated[int | None, typer.Option(help="Training tokens D (default: data).")] = None,
) -> None:
    """Pretrain on mixed shards: qurate train --data DIR -o OUT [--preset NAME | --init-from DIR].

    Config section: `train`."""
    if ctx.invoked_subcommand is not None:
        return
    from qurate.errors import BadInputError, ConfigError
    from qurate.train.api import load_config, train_config
    from qurate.train.rundir import stored_config

    cfg = load_config(
        config,
        data=str(data) if data else None,
        out=str(out) if out else None,
        preset=preset,
        init_from=str(init_from) if init_from else None,
        max_steps=max_steps,
        tokenizer=str(tokenizer) if tokenizer else None,
        seq_len=seq_len,
        micro_batch_size=micro_batch_size,
        batch_tokens=batch_tokens,
        lr=lr,
        tokens=tokens,
    )
    if cfg.init_from and "preset" in cfg.model_fields_set:  # the checkpoint sets the shape
        raise ConfigError(
            "--preset and --init-from exclude each other: the checkpoint's config.json "
            f"sets the model (preset {cfg.preset!r} would be ignored)"
        )
    if cfg.out is None or (cfg.data is None and not resume):
        raise ConfigError("qurate train needs --data DIR and -o OUT (or data/out in -c)")
    if Path(cfg.out).exists() and not Path(cfg.out).is_dir():
        raise BadInputError(f"{cfg.out}: exists and is not a directory (-o is a run directory)")
    if resume and cfg.data is None and stored_config(Path(cfg.out)) is None:
        raise ConfigError(
            f"{cfg.out}: no run to resume here (no train.yaml); start one with --data DIR"
        )
    console = Console(stderr=True)
    main = os.environ.get("RANK", "0") == "0"
    view = TrainView(console) if main else None
    try:
        result = train_config(cfg, resume=resume, overwrite=overwrite, on_event=view)
    finally:
        if view is not None:
            view.stop()
    if main and not result.already_done and result.final_loss is None:
        typer.echo(  # a resumed run already at max_steps: no step ran, so no loss to show
            f"nothing left to train: the run is at step {result.steps} (max_steps); "
            f"checkpoint {result.checkpoint}; metrics {result.out / 'metrics.jsonl'}"
        )
    elif main and not result.already_done:
        skipped = result.skipped_empty_text
        typer.echo(
            f"trained {result.steps} steps, {result.tokens} tokens; loss {result.final_loss}; "
            f"eval loss {result.eval_loss}; checkpoint {result.checkpoint}; "
            f"metrics {result.out / 'metrics.jsonl'}"
            + (f"; {skipped} empty or whitespace-only documents skipped" if skipped else "")
        )


@app.command("plan")
def plan_cmd(
    params: Annotated[
        str | None, typer.Option(help="Non-embedding params (7e9, 500M) or a preset name.")
    ] = None,
    tokens: Annotated[str | None, typer.Option(help="Training tokens D (e.g. 18T, 2e12).")] = None,
    seq_len: Annotated[int, typer.Option("--seq-len", help="For the attention FLOPs.")] = 4096,
    fit: Annotated[
        Path | None, typer.Option(help="Refit the laws from a CSV: N, D, batch, lr, loss.")
    ] = None,
) -> None:
    """Optimal batch size and peak learning rate from scaling laws (DeepSeek LLM, Step Law).

    Config section: none (flags only)."""
    from qurate.errors import ConfigError
    from qurate.train.api import fit_sweep, plan
    from qurate.train.plan import model_size, parse_count

    console = Console()
    if fit is not None:
        if bool(params) != bool(tokens):  # one of them was silently ignored
            raise ConfigError("--fit predicts at --params N and --tokens D: give both, or neither")
        at = None
        if params and tokens:  # checked before the fit: --tokens 0 printed "batch 0, lr 0"
            at = model_size(params, seq_len)[0], parse_count(tokens)
            if at[1] <= 0:
                raise ConfigError("--tokens must be positive")
        f = fit_sweep(fit)
        (a, al, be), (c, ga, de) = f.lr_coef, f.batch_coef
        console.print(f"fitted on {f.points} (N, D) points (best run of each):")
        console.print(f"  lr = {a:.4g} * N^{al:.4f} * D^{be:.4f}   (R^2 {f.lr_r2:.3f})")
        console.print(f"  B  = {c:.4g} * N^{ga:.4f} * D^{de:.4f} tokens   (R^2 {f.batch_r2:.3f})")
        if at is not None:
            b, lr_ = f.predict(*at)
            console.print(f"  at N={at[0]:.4g}, D={at[1]:.4g}: batch {b:,.0f} tokens, lr {lr_:.4g}")
        return
    if not params or not tokens:
        raise ConfigError("qurate train plan needs --params N and --tokens D (or --fit CSV)")
    res = plan(params, tokens, seq_len=seq_len)
    kind = "active non-embedding" if res["moe"] else "non-embedding"
    table = Table(title=f"N={res['N']:.4g} {kind} params, D={res['D']:.4g} tokens")
    for col in ("law", "batch (tokens)", "peak lr"):
        table.add_column(col)
    for p in res["plans"]:
        table.add_row(p.law, f"{p.batch_tokens:,.0f}", f"{p.lr:.4g}")
    console.print(table)
    if res["total_params"]:
        console.print(
            f"parameters: {res['total_params']:,} total, {res['active_params']:,} active per "
            "token (with embeddings)"
            + (
                "; MoE: the laws see the active count, and were fitted on dense runs"
                if res["moe"]
                else ""
            )
        )
    note = "exact, from the preset" if res["M_exact"] else "~6N (give a preset name for exact)"
    console.print(
        f"M = {res['M']:.4g} non-embedding FLOPs/token ({note}); C = M*D = {res['M'] * res['D']:.4g}"
    )


@app.command("export")
def export_cmd(
    run: Annotated[
        Path, typer.Argument(help="A run directory (latest checkpoint) or a checkpoint.")
    ],
    out: Annotated[Path, typer.Option("-o", "--output", help="Output Hugging Face directory.")],
    dtype: Annotated[str, typer.Option(help="float32, bfloat16 or float16.")] = "float32",
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace the model files of a non-empty -o that is not this export "
            "(another model, another checkpoint's export); the same export again is a no-op.",
        ),
    ] = False,
) -> None:
    """Write a Hugging Face model directory that transformers and vLLM load.

    Config section: none (reads the run's checkpoint)."""
    from qurate.errors import BadInputError
    from qurate.train.api import export
    from qurate.train.checkpoint import export_is_current

    if out.exists() and not out.is_dir():
        raise BadInputError(f"{out}: exists and is not a directory (-o is a model directory)")
    if (out / "manifest.json").is_file():  # a stage directory would get model files mixed in
        raise BadInputError(f"{out}: holds a qurate stage directory; export to a new -o")
    if not overwrite and export_is_current(run, out, dtype=dtype):
        typer.echo(f"{out} already holds this export; nothing to do (--overwrite writes it again)")
        return
    path = export(run, out, dtype=dtype, overwrite=overwrite)
    typer.echo(f"exported {path} (config.json, model.safetensors, tokenizer files)")
