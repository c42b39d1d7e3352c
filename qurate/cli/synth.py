"""``qurate synth generate`` and ``qurate synth filter``: thin commands over ``qurate.synth``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.table import Table

from qurate.cli.options import Console, Overwrite, config_option, load, output_option

synth_app = typer.Typer(
    help="Synthetic math/code/knowledge data: teacher generation, then reward models + verifiers. "
    "Config section: `synth` (synth.generate, synth.filter).",
    no_args_is_help=True,
)


def _counts_table(title: str, kept: int, rejected: dict[str, int]) -> Table:
    t = Table(title=title, box=box.SIMPLE_HEAD)
    t.add_column("outcome")
    t.add_column("samples", justify="right")
    t.add_row("kept", str(kept))
    for reason, n in sorted(rejected.items(), key=lambda kv: -kv[1]):
        t.add_row(f"rejected: {reason}", str(n))
    return t


Opt = Optional


@synth_app.command("generate")
def generate_command(
    seeds: Annotated[Path, typer.Argument(help="seed rows: a JSONL/Parquet file or directory")],
    output: Annotated[Path, output_option("output directory")],
    teacher: Annotated[
        Opt[str],
        typer.Option(
            "--teacher",
            help="teacher.model: local HF checkpoint dir, .gguf, 'default', or server model",
        ),
    ] = None,
    task: Annotated[Opt[str], typer.Option("--task", help="task: math | code | knowledge")] = None,
    n: Annotated[Opt[int], typer.Option("--n", help="n: samples per seed")] = None,
    template: Annotated[
        Opt[str], typer.Option("--template", help="template: template id, e.g. math_synth_v1")
    ] = None,
    templates_dir: Annotated[
        Opt[Path],
        typer.Option("--templates-dir", "--templates", help="templates_dir: extra YAML templates"),
    ] = None,
    engine: Annotated[
        Opt[str], typer.Option("--engine", help="teacher.kind: transformers | vllm | openai")
    ] = None,
    base_url: Annotated[
        Opt[str], typer.Option("--base-url", help="teacher.base_url: openai server URL")
    ] = None,
    device: Annotated[
        Opt[str], typer.Option("--device", help="teacher.device: cpu, cuda, auto")
    ] = None,
    temperature: Annotated[Opt[float], typer.Option("--temperature", help="temperature")] = None,
    max_tokens: Annotated[Opt[int], typer.Option("--max-tokens", help="max_tokens")] = None,
    seed: Annotated[Opt[int], typer.Option("--seed", help="seed")] = None,
    limit: Annotated[Opt[int], typer.Option("--limit", help="limit: first N seeds only")] = None,
    batch_size: Annotated[Opt[int], typer.Option("--batch-size", help="teacher.batch_size")] = None,
    seed_domain: Annotated[
        Opt[str], typer.Option("--seed-domain", help="seed_domain: only seed rows of this domain")
    ] = None,
    config: Annotated[Opt[Path], config_option("synth.generate")] = None,
    overwrite: Overwrite = False,
) -> None:
    """Generate N teacher samples per seed (cached: a rerun or a resumed run asks only what is missing).

    Config section: `synth.generate` (each flag's help names its key)."""
    from qurate.synth.config import GenerateConfig
    from qurate.synth.generate import generate

    cfg = load(
        config,
        "synth.generate",
        GenerateConfig,
        {
            "task": task,
            "template": template,
            "templates_dir": str(templates_dir) if templates_dir else None,
            "n": n,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "seed": seed,
            "limit": limit,
            "seed_domain": seed_domain,
            "teacher.kind": engine,
            "teacher.model": teacher,
            "teacher.device": device,
            "teacher.base_url": base_url,
            "teacher.batch_size": batch_size,
        },
    )
    r = generate(seeds, output, cfg=cfg, overwrite=overwrite)
    if r.skipped:
        typer.echo(f"{r.out} is already complete for this config and these seeds; nothing to do")
    Console().print(
        _counts_table(f"{r.template}: {r.seeds} seeds x {cfg.n} samples", r.kept, r.rejected)
    )
    typer.echo(
        f"{r.outputs} outputs ({r.cached} prompts from cache) in {r.seconds:.1f}s, "
        f"{r.tokens_per_s:.0f} tokens/s -> {r.out}/samples.parquet"
    )


@synth_app.command("filter")
def filter_command(
    inp: Annotated[Path, typer.Argument(help="samples: a Parquet/JSONL file or directory")],
    output: Annotated[Path, output_option("output stage directory")],
    rm: Annotated[
        Opt[str], typer.Option("--rm", help="reward.rm: reward / classification checkpoint")
    ] = None,
    math_rm: Annotated[Opt[str], typer.Option("--math-rm", help="reward.math_rm")] = None,
    judge: Annotated[
        Opt[str],
        typer.Option("--judge", help="reward.judge: LLM-as-judge model ('default': embedded)"),
    ] = None,
    rm_engine: Annotated[
        Opt[str], typer.Option("--rm-engine", help="reward.engine: transformers | vllm")
    ] = None,
    verify: Annotated[
        Opt[bool], typer.Option("--verify/--no-verify", help="verify: math answers, code tests")
    ] = None,
    min_reward: Annotated[
        Opt[float], typer.Option("--min-reward", help="min_reward: threshold on the reward")
    ] = None,
    top_k: Annotated[
        Opt[int], typer.Option("--top-k", help="top_k: best k per prompt (1: best-of-n)")
    ] = None,
    pool: Annotated[
        Opt[list[Path]],
        typer.Option("--pool", help="pool: stage dir of real documents to dedup against"),
    ] = None,
    benchmarks: Annotated[
        Opt[list[Path]],
        typer.Option(
            "--benchmarks", "--benchmark", help="benchmarks: JSONL/Parquet to decontaminate against"
        ),
    ] = None,
    benchmark_field: Annotated[
        Opt[list[str]],
        typer.Option("--benchmark-field", help="decontam.text_field: benchmark text field(s)"),
    ] = None,
    timeout: Annotated[
        Opt[float],
        typer.Option("--timeout-s", "--timeout", help="sandbox.timeout_s: seconds per code sample"),
    ] = None,
    workers: Annotated[
        Opt[int], typer.Option("--workers", help="sandbox.workers: sandboxed runs in parallel")
    ] = None,
    device: Annotated[
        Opt[str], typer.Option("--device", help="reward.device: cpu, cuda, auto")
    ] = None,
    config: Annotated[Opt[Path], config_option("synth.filter")] = None,
    overwrite: Overwrite = False,
) -> None:
    """Verify, score and select synthetic samples into a stage directory (rejects keep reasons).

    Config section: `synth.filter` (each flag's help names its key)."""
    from qurate.synth.config import FilterConfig
    from qurate.synth.filter import filter_samples

    cfg = load(
        config,
        "synth.filter",
        FilterConfig,
        {
            "verify": verify,
            "min_reward": min_reward,
            "top_k": top_k,
            "reward.rm": rm,
            "reward.math_rm": math_rm,
            "reward.judge": judge,
            "reward.engine": rm_engine,
            "reward.device": device,
            "pool": [str(p) for p in pool] if pool else None,
            "benchmarks": [str(b) for b in benchmarks] if benchmarks else None,
            "decontam.text_field": benchmark_field or None,
            "sandbox.timeout_s": timeout,
            "sandbox.workers": workers,
        },
    )
    r = filter_samples(inp, output, cfg, overwrite=overwrite)
    Console().print(_counts_table(f"synth filter: {r.n_in} samples", r.kept, r.rejected))
    typer.echo(f"kept {r.kept} of {r.n_in} -> {r.out} (rejects in {r.out}/rejects)")


def register(app: typer.Typer) -> None:
    app.add_typer(synth_app, name="synth")
