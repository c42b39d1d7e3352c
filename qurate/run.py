"""``qurate run``: every stage from one config, or the whole loop on the bundled sample.

With no config this is the embedded default: the bundled sample corpus goes through
curate (decontaminated against the bundled HumanEval items) -> score (the embedded
SmolLM2 judge annotates a small sample, fastText raters and a reference classifier are
distilled; apply scores every document with them and with SmolLM2 perplexity (``auto``: the
sample is far within its CPU budget), each signal
weighted by its shuffle check, and labels domains with the shipped classifier) -> augment (one round of math recall) -> synth (the embedded model as teacher,
math verifier, code sandbox) -> mix (the Qwen2.5 down/up-sampling to a token budget, a
long-context stage) -> report (HTML) -> train (the `tiny` Qwen2.5 on the mixed shards) ->
post (SFT rows and DPO pairs from the synth output, a few SFT and DPO steps; report redrawn).
Each stage writes a subdirectory of the run directory and is resumable on its own.

With a config, ``run.inputs`` are curated, then each stage whose section is present runs
(`score`), then the other levers named under ``run:`` (``ingest``: dedicated math/code
corpora; ``recall``: a general pool curated, scored and recalled from; ``synth``: teacher
generation, verified and filtered), each into its own directory, then `mix` of the scored
corpus with those, a report, and `train`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qurate.config import PipelineConfig, load_config
from qurate.contract.args import as_config
from qurate.contract.files import MANIFEST, RUN_STAGES, atomic_write_text
from qurate.errors import ConfigError
from qurate.run_checks import check_before_work, inside, synth_tasks
from qurate.score.config import ScoreConfig

DATA = Path(__file__).resolve().parent / "data"
SAMPLE = DATA / "sample"
SAMPLE_BENCHMARK = SAMPLE / "seeds" / "benchmark.jsonl"

Say = Callable[[str], None]


@dataclass
class RunResult:
    run_dir: Path
    stages: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    report: Path | None = None


def _stage(result: RunResult, name: str, say: Say, fn: Callable[[], Any]) -> Any:
    say(f"{name} ...")
    t0 = time.perf_counter()
    value = fn()
    result.timings[name] = round(time.perf_counter() - t0, 1)
    result.stages[name] = value
    say(f"{name} done in {result.timings[name]:.0f} s")
    return value


def run_demo(
    run_dir: str | Path,
    *,
    say: Say = print,
    progress: bool = True,
    train_steps: int = 30,
    overwrite: bool = False,
) -> RunResult:
    """The whole loop on the bundled sample, offline, on CPU.

    Run twice in the same place, every stage is a no-op or a clean resume (each stage's
    ``StageDir`` policy; the train step's own policy); ``overwrite`` replaces what a
    different earlier run left (curate, augment, mix)."""
    from qurate.augment.classifier import RecallConfig
    from qurate.augment.recall import bundled_seeds, recall
    from qurate.curate.pipeline import curate
    from qurate.mixers import demo_mix_config, mix
    from qurate.report.page import render_report
    from qurate.score.demo import run_demo as score_demo
    from qurate.synth.demo import run_demo as synth_demo
    from qurate.train.api import train

    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    cfg = PipelineConfig()
    result = RunResult(run)
    _stage(
        result,
        "curate",
        say,
        lambda: (
            curate(
                [
                    SAMPLE / name
                    for name in (
                        "docs.jsonl",
                        "literature.jsonl.gz",
                        "code.parquet",
                        "math.jsonl",
                        "web.jsonl",
                        "notes",
                    )
                ],
                run / "curated",
                cfg.curate,
                executor=cfg.executor,
                decontaminate=[SAMPLE_BENCHMARK],
                progress=progress,
                overwrite=overwrite,
            ).manifest
        ),
    )
    score_cfg = demo_score_config()
    scored = _stage(
        result,
        "score",
        say,
        lambda: score_demo(run / "curated", run, score_cfg, progress=progress),
    )
    _say_perplexity(scored["apply"], say)
    _stage(
        result,
        "augment",
        say,
        lambda: recall(
            run / "scored",
            run / "math-recalled",
            bundled_seeds("math"),
            "math",
            RecallConfig(rounds=1),
            overwrite=overwrite,
            progress=progress,
        ),
    )
    _stage(result, "synth", say, lambda: synth_demo(run / "synth-work", progress=progress))
    mix_inputs = [run / "scored", run / "synth-work" / "synth"]
    _stage(
        result,
        "mix",
        say,
        lambda: mix(mix_inputs, run / "mixed", demo_mix_config(mix_inputs), overwrite=overwrite),
    )
    # ablate (issue 14): a two-arm proxy ablation, the mix against the raw web sample
    from qurate.ablate.demo import run_demo as ablate_demo

    heldout = SAMPLE / "seeds" / "math.jsonl"
    _stage(
        result,
        "ablate",
        say,
        lambda: ablate_demo(
            run / "mixed", SAMPLE / "web.jsonl", heldout, run / "ablation", progress=progress
        ),
    )
    result.report = _stage(result, "report", say, lambda: render_report(run, run / "report.html"))
    _stage(
        result,
        "train",
        say,
        lambda: _summary(
            train(
                run / "mixed",
                run / "train",
                preset="tiny",
                max_steps=train_steps,
                seq_len=128,
                micro_batch_size=8,
                eval_every=15,
                save_every=train_steps,
            )
        ),
    )
    # --- post-training (qurate post): SFT rows + DPO pairs from the synth output, a few steps
    # of SFT and DPO on the exported demo model; the report is redrawn to plot their losses.
    from qurate.post.demo import run_demo as post_demo

    _stage(
        result,
        "post",
        say,
        lambda: post_demo(
            run / "synth-work" / "synth", run / "post", train_run=run / "train", progress=progress
        ),
    )
    result.report = render_report(run, run / "report.html")
    return result


def demo_score_config() -> ScoreConfig:
    """The score step of the demo (``tests/test_run.py`` checks what it yields on the sample)."""
    from qurate.score.demo import demo_config

    # a small judged sample keeps the CPU demo to minutes (the judge loads in ~30 s, ~80
    # tokens/s) and the small judge's scores cluster, so one document's worth of a score is
    # enough here; perplexity over 64 tokens (demo_config) carries most of the spread
    cfg = demo_config(sample=24, max_doc_tokens=96)
    cfg.engine.cpu_threads = 2
    cfg.distill.min_per_class = 1
    cfg.annotate.check_docs = 8  # the judge check on a third of the sample
    cfg.apply.check_docs = 16
    return cfg


def _say_perplexity(manifest: dict[str, Any], say: Say) -> None:
    """The one line of ``score.apply.perplexity: auto``: on or off, and what it costs."""
    decision = manifest.get("perplexity_decision") or {}
    if decision.get("setting") == "auto":
        say(decision["reason"])


def _summary(train_result: Any) -> Any:
    return getattr(train_result, "__dict__", train_result)


def _curate(
    cfg: PipelineConfig, inputs: list[str], out: Path, progress: bool, overwrite: bool
) -> dict[str, Any]:
    """Curate with the config's curate section and executor, decontaminated against
    ``run.benchmarks`` (the run's corpus and every recall pool alike); the manifest."""
    from qurate.curate.pipeline import curate

    return curate(
        inputs,
        out,
        cfg.curate,
        executor=cfg.executor,
        decontaminate=cfg.run.benchmarks,
        progress=progress,
        overwrite=overwrite,
    ).manifest


def _sources(
    cfg: PipelineConfig, run: Path, result: RunResult, say: Say, *, progress: bool, overwrite: bool
) -> list[Path]:
    """``run.ingest``, ``run.recall`` and ``run.synth``, in that order: each writes its own
    directory of the run and gives the stage directory the mix reads. With ``score:``, the
    ingested corpora and the recall pools are scored with the run's raters first, so that
    their documents take part in the mix's quality buckets (unscored, they would all fall in
    the lowest)."""
    out: list[Path] = []
    score = cfg.score

    def scored(src: Path, dst: Path, name: str) -> Path:
        if score is None:
            return src
        from qurate.score.apply import apply

        _stage(
            result,
            f"{name} score",
            say,
            lambda: apply(
                src,
                dst,
                run / "raters",
                score,
                perplexity=score.apply.perplexity,
                executor=cfg.executor,
                overwrite=overwrite,
                progress=progress,
            ),
        )
        return dst

    if cfg.run.ingest:
        from qurate.augment.ingest import ingest

    for e in cfg.run.ingest:
        d = run / f"ingest-{e.domain}"
        _stage(
            result,
            f"ingest {e.domain}",
            say,
            lambda e=e, d=d: ingest(
                e.inputs, d / "ingested", e.domain, cfg.augment.ingest, overwrite=overwrite
            ),
        )
        out.append(scored(d / "ingested", d / "scored", f"ingest {e.domain}"))
    if cfg.run.recall:
        from qurate.augment.recall import bundled_seeds, recall

    for e in cfg.run.recall:
        d = run / f"recall-{e.domain}"
        _stage(
            result,
            f"recall {e.domain} pool",
            say,
            lambda e=e, d=d: _curate(cfg, e.pool, d / "pool", progress, overwrite),
        )
        pool = scored(d / "pool", d / "pool-scored", f"recall {e.domain} pool")
        _stage(
            result,
            f"recall {e.domain}",
            say,
            lambda e=e, d=d, pool=pool: recall(
                pool,
                d / "recalled",
                e.seeds or bundled_seeds(e.domain),
                e.domain,
                cfg.augment.recall,
                overwrite=overwrite,
                progress=progress,
            ),
        )
        out.append(d / "recalled")
    if cfg.run.synth:
        from qurate.synth.filter import filter_samples
        from qurate.synth.generate import generate

    fcfg = cfg.synth.filter
    if not fcfg.benchmarks and cfg.run.benchmarks:  # decontaminated like the curated corpus
        fcfg = fcfg.model_copy(update={"benchmarks": list(cfg.run.benchmarks)})
    for e, task in zip(cfg.run.synth, synth_tasks(cfg), strict=True):
        d = run / f"synth-{task}"
        gcfg = cfg.synth.generate.model_copy(update={"task": task})
        _stage(
            result,
            f"synth {task} generate",
            say,
            lambda e=e, d=d, gcfg=gcfg: generate(
                e.seeds, d / "generated", cfg=gcfg, overwrite=overwrite, progress=progress
            ),
        )
        _stage(
            result,
            f"synth {task} filter",
            say,
            lambda d=d: filter_samples(
                d / "generated", d / "synth", fcfg, overwrite=overwrite, progress=progress
            ),
        )
        out.append(d / "synth")
    return out


def _run_dirs(cfg: PipelineConfig, run: Path) -> list[str]:
    """The directories of ``run.out`` this config's run writes (``RUN_STAGES``)."""
    names = ["curated"]
    if cfg.score is not None:
        names += ["annotations", "raters", "scored"]
    names += [f"ingest-{e.domain}" for e in cfg.run.ingest]
    names += [f"recall-{e.domain}" for e in cfg.run.recall]
    names += [f"synth-{task}" for task in synth_tasks(cfg)]
    if cfg.mix is not None:
        names.append("mixed")
    if cfg.run.ablate:
        names.append("ablation")
    if cfg.train is not None:
        train = Path(cfg.train.out or run / "train")
        if inside(train, run) and train.resolve() != run.resolve():
            names.append(train.resolve().relative_to(run.resolve()).parts[0])
    if cfg.run.post is not None:
        names.append("post")
    return names


def _record_run_dirs(cfg: PipelineConfig, run: Path, say: Say) -> None:
    """Write ``RUN_STAGES`` (the report then shows this run's stages only) and name the stage
    directories an earlier config left in ``run.out``: they stay on disk, out of the mix and
    the report. Before, a lever taken out of the config still had its line in the closing
    table and the report ("augment ingest-math: 20 of 20 ingested")."""
    names = _run_dirs(cfg, run)
    run.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run / RUN_STAGES, json.dumps({"stages": names}, indent=1) + "\n")
    stale = sorted(
        d.name
        for d in run.iterdir()
        if d.is_dir() and d.name not in names and not d.name.startswith(".") and any(_manifests(d))
    )
    if stale:
        say(
            f"not part of this run (an earlier config's; left on disk, out of the mix and the "
            f"report): {', '.join(n + '/' for n in stale)}"
        )


def _manifests(d: Path) -> Iterator[Path]:
    """The stage manifests at or below ``d`` (two levels: ``synth-x/generated``)."""
    yield from (m for m in [d / MANIFEST, *d.glob(f"*/{MANIFEST}")] if m.is_file())


def run_pipeline(
    cfg: PipelineConfig | str | Path | None,
    *,
    say: Say = print,
    progress: bool = True,
    overwrite: bool = False,
) -> RunResult:
    """Curate ``run.inputs`` into ``run.out``, then score, ingest / recall / synth, mix, train
    as configured.

    Run twice with the same config, every stage is a no-op (or resumes a killed run);
    ``overwrite`` lets each stage replace a different earlier run."""
    from qurate.report.page import render_report

    if isinstance(cfg, str | bytes | os.PathLike):  # the file `qurate run` takes
        cfg = load_config(cfg)
    cfg = as_config(cfg, PipelineConfig, "run_pipeline cfg", hint="load_config(path)")
    if not cfg.run.inputs:
        raise ConfigError("run.inputs: list the input files or folders to curate")
    run = Path(cfg.run.out)
    check_before_work(cfg, run)
    _record_run_dirs(cfg, run, say)
    result = RunResult(run)
    _stage(
        result,
        "curate",
        say,
        lambda: _curate(cfg, cfg.run.inputs, run / "curated", progress, overwrite),
    )
    current = run / "curated"
    if cfg.score is not None:
        from qurate.score.annotate import annotate
        from qurate.score.apply import apply
        from qurate.score.distill import distill

        score = cfg.score
        _stage(
            result,
            "score annotate",
            say,
            lambda: annotate(
                current, run / "annotations", score, overwrite=overwrite, progress=progress
            ),
        )
        _stage(
            result,
            "score distill",
            say,
            lambda: distill(run / "annotations", run / "raters", score, overwrite=overwrite),
        )
        applied = _stage(
            result,
            "score apply",
            say,
            lambda: apply(
                current,
                run / "scored",
                run / "raters",
                score,
                perplexity=score.apply.perplexity,
                executor=cfg.executor,
                overwrite=overwrite,
                progress=progress,
            ),
        )
        _say_perplexity(applied, say)
        current = run / "scored"
    extra = _sources(cfg, run, result, say, progress=progress, overwrite=overwrite)
    if cfg.mix is not None:
        from qurate.mixers import mix

        mix_cfg = cfg.mix
        inputs = [current, *extra]
        _stage(
            result,
            "mix",
            say,
            lambda: mix(inputs, run / "mixed", mix_cfg, overwrite=overwrite),
        )
        current = run / "mixed"
    elif extra:
        say(f"no mix: section, so {', '.join(str(p) for p in extra)} are not mixed or trained on")
    if cfg.run.ablate:
        from qurate.ablate.runner import run_ablation

        acfg = cfg.ablate
        if not acfg.arms:  # did the levers make better data? the mix against what curate kept
            acfg = acfg.model_copy(
                update={"arms": {"mixed": str(run / "mixed"), "curated": str(run / "curated")}}
            )
        _stage(
            result,
            "ablate",
            say,
            lambda: run_ablation(acfg, run / "ablation", overwrite=overwrite, progress=progress),
        )
    result.report = _stage(result, "report", say, lambda: render_report(run, run / "report.html"))
    if cfg.train is not None:
        from qurate.train.api import train_config

        tcfg = cfg.train.model_copy(
            update={
                "data": cfg.train.data or str(current),
                "out": cfg.train.out or str(run / "train"),
            }
        )
        _stage(result, "train", say, lambda: _summary(train_config(tcfg)))
    if cfg.run.post is not None:
        from qurate.post.demo import quiet_hf_bars

        with quiet_hf_bars():  # transformers' and datasets' own bars; ours say the progress
            _post(cfg, run, result, say, progress=progress, overwrite=overwrite)
        result.report = render_report(run, run / "report.html")  # with the post losses
    return result


def _post(
    cfg: PipelineConfig, run: Path, result: RunResult, say: Say, *, progress: bool, overwrite: bool
) -> None:
    """``run.post``: SFT rows from the run's synth output (and ``inputs``), SFT, then DPO on
    each synth task's pairs in turn, each from the model the step before left."""
    from qurate.post.data import build_chat_data
    from qurate.post.pairs import build_pairs
    from qurate.post.trainers import run_dpo, run_sft

    post, out = cfg.run.post, run / "post"
    assert post is not None
    model = Path(post.model) if post.model else _export_train(cfg, run, out / "hf")
    synth = [run / f"synth-{task}" / "synth" for task in synth_tasks(cfg)]
    if post.sft:
        data = _stage(
            result,
            "post data",
            say,
            lambda: build_chat_data([*synth, *post.inputs], out / "sft", cfg.post.data,
                                    overwrite=overwrite),
        )  # fmt: skip
        if data.kept:
            sft = _stage(
                result,
                "post sft",
                say,
                lambda: run_sft(model, [str(out / "sft")], out / "sft-run", cfg.post,
                                overwrite=overwrite, progress=progress),
            )  # fmt: skip
            model = sft.final
        else:
            say("post sft: post data kept no conversation; SFT skipped")
    if not post.dpo:
        return
    for task, d in zip(synth_tasks(cfg), synth, strict=True):
        pairs = _stage(
            result,
            f"post pairs {task}",
            say,
            lambda d=d, task=task: build_pairs(d, out / f"prefs-{task}", cfg.post.pairs,
                                               overwrite=overwrite),
        )  # fmt: skip
        if not pairs.pairs:
            say(f"post dpo {task}: no prompt had both a verified and a failed sample; skipped")
            continue
        dpo = _stage(
            result,
            f"post dpo {task}",
            say,
            lambda task=task, m=model: run_dpo(m, out / f"prefs-{task}", out / f"dpo-{task}",
                                               cfg.post, overwrite=overwrite, progress=progress),
        )  # fmt: skip
        model = dpo.final


def _export_train(cfg: PipelineConfig, run: Path, dest: Path) -> Path:
    """The run's trained model as an HF directory, exported again only when the run changed
    (a fresh export would give the post stages a new fingerprint)."""
    from qurate.train.api import export
    from qurate.train.checkpoint import export_is_current

    assert cfg.train is not None
    train_out = Path(cfg.train.out or run / "train")
    if export_is_current(train_out, dest):
        return dest
    return export(train_out, dest, overwrite=True)  # this run's own export folder
