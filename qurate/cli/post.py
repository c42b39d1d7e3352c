"""``qurate post data|pairs|sft|dpo|grpo``: thin commands over ``qurate.post``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich import box
from rich.table import Table

from qurate.cli.options import Console

post_app = typer.Typer(
    help="Post-training: SFT rows and DPO pairs from synth output, then SFT, DPO, GRPO on TRL. "
    "Config section: `post` (post.data, post.pairs, post.sft, post.dpo, post.grpo).",
    no_args_is_help=True,
)
ConfigOpt = Annotated[
    Optional[Path], typer.Option("-c", "--config", help="YAML with a post: section")
]
MaxSteps = Annotated[Optional[int], typer.Option("--max-steps", min=1, help="stop after N steps")]
Resume = Annotated[bool, typer.Option("--resume", help="continue an interrupted run in -o")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="replace another finished run in -o")]


def register(root: typer.Typer) -> None:
    root.add_typer(post_app, name="post")


def _load(config: Path | None, overrides: dict[str, Any]) -> Any:
    from qurate.contract.config import load_section
    from qurate.post.config import PostConfig

    return load_section(config, "post", PostConfig, overrides)


def _counts(title: str, kept: int, rejected: dict[str, int], unit: str = "rows") -> None:
    t = Table(title=title, box=box.SIMPLE_HEAD)
    t.add_column("outcome")
    t.add_column(unit, justify="right")
    t.add_row("kept", str(kept))
    for reason, n in sorted(rejected.items(), key=lambda kv: -kv[1]):
        t.add_row(f"rejected: {reason}", str(n))
    Console(stderr=True).print(t)


@post_app.command("data")
def data_command(
    inputs: Annotated[list[Path], typer.Argument(help="synth filter directories and chat files")],
    out: Annotated[Path, typer.Option("-o", "--output", help="output chat stage directory")],
    max_tokens: Annotated[
        Optional[int], typer.Option("--max-tokens", min=16, help="longer rows: reject too_long")
    ] = None,
    decontaminate: Annotated[
        Optional[list[Path]], typer.Option("--decontaminate", help="benchmark file (repeat)")
    ] = None,
    pool: Annotated[
        Optional[list[Path]], typer.Option("--pool", help="earlier chat directory to dedup against")
    ] = None,
    lang: Annotated[
        Optional[list[str]], typer.Option("--lang", help="keep only this language")
    ] = None,
    config: ConfigOpt = None,
    overwrite: Overwrite = False,
) -> None:
    """Build SFT chat rows (never truncated) with rejects for bad roles, length, dups, contamination.

    Config section: `post.data`."""
    from qurate.post.data import build_chat_data

    cfg = _load(
        config,
        {
            "data.max_tokens": max_tokens,
            "data.benchmarks": [str(p) for p in decontaminate] if decontaminate else None,
            "data.pool": [str(p) for p in pool] if pool else None,
            "data.languages": lang or None,
        },
    )
    r = build_chat_data(list(inputs), out, cfg.data, overwrite=overwrite)
    _counts(f"post data: {r.n_in} conversations", r.kept, r.rejected)
    typer.echo(f"{r.n_in} in, {r.kept} kept, {sum(r.rejected.values())} rejected -> {r.out}")


@post_app.command("pairs")
def pairs_command(
    synth: Annotated[Path, typer.Argument(help="a synth filter directory")],
    out: Annotated[Path, typer.Option("-o", "--output", help="output pairs directory")],
    max_prompt_tokens: Annotated[
        Optional[int], typer.Option("--max-prompt-tokens", min=1, help="longer: reject too_long")
    ] = None,
    rm_margin: Annotated[
        Optional[float], typer.Option("--rm-margin", min=0.0, help="no-verifier pairs: RM gap")
    ] = None,
    config: ConfigOpt = None,
    overwrite: Overwrite = False,
) -> None:
    """Build DPO pairs: verified vs verifier-failed samples of the same prompt.

    Config section: `post.pairs`."""
    from qurate.post.pairs import build_pairs

    cfg = _load(
        config, {"pairs.max_prompt_tokens": max_prompt_tokens, "pairs.rm_margin": rm_margin}
    )
    r = build_pairs(synth, out, cfg.pairs, overwrite=overwrite)
    _counts(f"post pairs: {r.prompts} prompts", r.paired, r.rejected, unit="prompts")
    typer.echo(f"{r.prompts} prompts, {r.paired} paired, {r.pairs} pairs -> {r.out}")


def _report(r: Any) -> None:
    loss = f", final loss {r.final_loss:.4f}" if r.final_loss is not None else ""
    left = f", {sum(r.rejected.values())} left out ({r.rejected})" if r.rejected else ""
    typer.echo(f"{r.steps} steps on {r.kept} rows{left}{loss} -> {r.final}")


@post_app.command("sft")
def sft_command(
    model: Annotated[Path, typer.Option("--model", help="HF causal LM directory")],
    out: Annotated[Path, typer.Option("-o", "--output", help="run directory")],
    data: Annotated[
        Optional[list[Path]], typer.Option("--data", help="chat directory (repeat)")
    ] = None,
    config: ConfigOpt = None,
    max_steps: MaxSteps = None,
    resume: Resume = False,
    overwrite: Overwrite = False,
) -> None:
    """Supervised fine-tuning on chat rows (assistant-only loss, packing, two-phase long SFT).

    Config section: `post.sft`."""
    from qurate.post.trainers import run_sft

    cfg = _load(config, {})
    r = run_sft(
        model,
        [str(d) for d in data or []],
        out,
        cfg,
        max_steps=max_steps,
        resume=resume,
        overwrite=overwrite,
    )
    _report(r)


@post_app.command("dpo")
def dpo_command(
    model: Annotated[Path, typer.Option("--model", help="HF causal LM directory (e.g. SFT final)")],
    data: Annotated[Path, typer.Option("--data", help="post pairs directory")],
    out: Annotated[Path, typer.Option("-o", "--output", help="run directory")],
    beta: Annotated[Optional[float], typer.Option("--beta", min=0.0, help="DPO beta")] = None,
    config: ConfigOpt = None,
    max_steps: MaxSteps = None,
    resume: Resume = False,
    overwrite: Overwrite = False,
) -> None:
    """Offline RL: DPO on preference pairs.

    Config section: `post.dpo`."""
    from qurate.post.trainers import run_dpo

    cfg = _load(config, {"dpo.beta": beta})
    r = run_dpo(model, data, out, cfg, max_steps=max_steps, resume=resume, overwrite=overwrite)
    _report(r)


@post_app.command("grpo")
def grpo_command(
    model: Annotated[Path, typer.Option("--model", help="HF causal LM directory (e.g. DPO final)")],
    prompts: Annotated[
        Path,
        typer.Option(
            "--prompts", help="post pairs directory or prompt file (prompt + reference/tests)"
        ),
    ],
    out: Annotated[Path, typer.Option("-o", "--output", help="run directory")],
    reward: Annotated[list[str], typer.Option("--reward", help="math | code | rm:PATH (repeat)")],
    config: ConfigOpt = None,
    max_steps: MaxSteps = None,
    resume: Resume = False,
    overwrite: Overwrite = False,
) -> None:
    """Online RL: GRPO against our math verifier, code sandbox and reward models.

    Config section: `post.grpo`."""
    from qurate.post.trainers import run_grpo

    cfg = _load(config, {})
    r = run_grpo(
        model, prompts, out, reward, cfg, max_steps=max_steps, resume=resume, overwrite=overwrite
    )
    _report(r)
    if any(r.extra.get("reward_failures", {}).values()):
        typer.echo(f"reward failures (scored as no reward): {r.extra['reward_failures']}")
