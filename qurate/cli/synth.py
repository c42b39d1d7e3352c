"""``qurate synth generate`` and ``qurate synth filter``: thin commands over ``qurate.synth``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.console import Console
from rich.table import Table

synth_app = typer.Typer(
    help="Synthetic math/code/knowledge data: teacher generation, then reward models + verifiers.",
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


@synth_app.command("generate")
def generate_command(
    seeds: Annotated[Path, typer.Argument(help="seed rows: a JSONL/Parquet file or directory")],
    out: Annotated[Path, typer.Option("-o", "--out", help="output directory")],
    teacher: Annotated[
        str,
        typer.Option(
            "--teacher", help="local HF checkpoint dir, .gguf, 'default', or server model"
        ),
    ] = "default",
    task: Annotated[str, typer.Option("--task", help="math | code | knowledge")] = "math",
    n: Annotated[int, typer.Option("--n", min=1, help="samples per seed")] = 4,
    template: Annotated[
        Optional[str], typer.Option("--template", help="template id, e.g. math_synth_v1")
    ] = None,
    templates: Annotated[
        Optional[Path], typer.Option("--templates", help="directory of extra YAML templates")
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="transformers | vllm | openai")
    ] = "transformers",
    base_url: Annotated[
        Optional[str], typer.Option("--base-url", help="openai engine: server URL")
    ] = None,
    device: Annotated[str, typer.Option("--device", help="cpu, cuda, auto")] = "auto",
    temperature: Annotated[float, typer.Option("--temperature", min=0.0)] = 0.7,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 512,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    limit: Annotated[
        Optional[int], typer.Option("--limit", min=1, help="first N seeds only")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 8,
    seed_domain: Annotated[
        Optional[str], typer.Option("--seed-domain", help="only seed rows of this domain")
    ] = None,
) -> None:
    """Generate N teacher samples per seed (cached: a rerun or a resumed run asks only what is missing)."""
    from pydantic import ValidationError

    from qurate.errors import ConfigError
    from qurate.llm import EngineConfig
    from qurate.synth.config import GenerateConfig
    from qurate.synth.generate import generate

    try:
        cfg = GenerateConfig(
            task=task,  # type: ignore[arg-type]
            template=template,
            templates_dir=str(templates) if templates else None,
            n=n,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            limit=limit,
            seed_domain=seed_domain,
            teacher=EngineConfig(
                kind=engine,  # type: ignore[arg-type]
                model=teacher,
                device=device,
                base_url=base_url,
                batch_size=batch_size,
            ),
        )
    except ValidationError as e:
        err = e.errors()[0]
        raise ConfigError(f"{'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    r = generate(seeds, out, cfg=cfg)
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
    out: Annotated[Path, typer.Option("-o", "--out", help="output stage directory")],
    rm: Annotated[
        Optional[str], typer.Option("--rm", help="reward / classification checkpoint")
    ] = None,
    math_rm: Annotated[Optional[str], typer.Option("--math-rm", help="math reward model")] = None,
    judge: Annotated[
        Optional[str], typer.Option("--judge", help="LLM-as-judge model ('default': embedded)")
    ] = None,
    rm_engine: Annotated[
        str, typer.Option("--rm-engine", help="transformers | vllm")
    ] = "transformers",
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="math answers, code tests")
    ] = True,
    min_reward: Annotated[
        Optional[float], typer.Option("--min-reward", help="threshold on the combined reward")
    ] = None,
    top_k: Annotated[
        Optional[int], typer.Option("--top-k", min=1, help="best k per prompt (1: best-of-n)")
    ] = None,
    pool: Annotated[
        Optional[list[Path]],
        typer.Option("--pool", help="stage dir of real documents to dedup against"),
    ] = None,
    benchmark: Annotated[
        Optional[list[Path]],
        typer.Option("--benchmark", help="benchmark JSONL/Parquet to decontaminate against"),
    ] = None,
    benchmark_field: Annotated[
        Optional[list[str]], typer.Option("--benchmark-field", help="benchmark text field(s)")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="sandbox seconds per code sample")
    ] = 10.0,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="sandboxed runs in parallel")
    ] = 2,
    device: Annotated[
        str, typer.Option("--device", help="reward models: cpu, cuda, auto")
    ] = "auto",
) -> None:
    """Verify, score and select synthetic samples into a stage directory (rejects keep reasons)."""
    from pydantic import ValidationError

    from qurate.errors import ConfigError
    from qurate.synth.config import FilterConfig
    from qurate.synth.filter import filter_samples

    try:
        cfg = FilterConfig.model_validate(
            {
                "verify": verify,
                "min_reward": min_reward,
                "top_k": top_k,
                "reward": {
                    "rm": rm,
                    "math_rm": math_rm,
                    "judge": judge,
                    "engine": rm_engine,
                    "device": device,
                },
                "pool": [str(p) for p in pool or []],
                "benchmarks": [str(b) for b in benchmark or []],
                **({"decontam": {"text_field": benchmark_field}} if benchmark_field else {}),
                "sandbox": {"timeout_s": timeout, "workers": workers},
            }
        )
    except ValidationError as e:
        err = e.errors()[0]
        raise ConfigError(f"{'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    r = filter_samples(inp, out, cfg)
    Console().print(_counts_table(f"synth filter: {r.n_in} samples", r.kept, r.rejected))
    typer.echo(f"kept {r.kept} of {r.n_in} -> {r.out} (rejects in {r.out}/rejects)")


def register(app: typer.Typer) -> None:
    app.add_typer(synth_app, name="synth")
