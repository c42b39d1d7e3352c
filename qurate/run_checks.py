"""What ``qurate run pipeline.yaml`` checks before any work: every mistake that would
otherwise surface only after curate (minutes or hours in), as one line naming the key. The
config, the lever inputs as their stages will read them, and overlaps between the corpora and
``run.out``."""

from __future__ import annotations

from pathlib import Path

from qurate.config import PipelineConfig, repeated
from qurate.errors import BadInputError, ConfigError


def synth_tasks(cfg: PipelineConfig) -> list[str]:
    return [e.task or cfg.synth.generate.task for e in cfg.run.synth]


def check_before_work(cfg: PipelineConfig, run: Path) -> None:
    """Mistakes that would otherwise surface only after curate (minutes or hours in): a run
    directory that is a file (a ``NotADirectoryError`` traceback), a mix by quality buckets
    of documents nothing scored, or an unknown train preset."""
    if run.exists() and not run.is_dir():
        raise BadInputError(f"run.out: {run} exists and is not a directory")
    if cfg.run.ablate and not cfg.ablate.evals:
        raise ConfigError(
            "run.ablate: name the held-out evaluations in ablate.evals (name: path); the "
            "proxy models are compared on them"
        )
    if cfg.run.ablate and not cfg.ablate.arms and cfg.mix is None:
        raise ConfigError(
            "run.ablate: with no ablate.arms the ablation compares the mix with the curated "
            "corpus; add a mix: section or name ablate.arms"
        )
    if cfg.run.ablate:  # the recipe and the held-out files, before hours of curate and mix
        from qurate.ablate.arms import check_recipe

        check_recipe(cfg.ablate)
    if (post := cfg.run.post) is not None:
        if not post.sft and not post.dpo:  # the run ended with exit 0 and no post/ at all
            raise ConfigError(
                "run.post: sft and dpo are both false, so nothing is post-trained; set one "
                "true, or run.post: null for no post-training"
            )
        if not post.model and cfg.train is None:
            raise ConfigError(
                "run.post: name run.post.model (an HF directory), or add a train: section "
                "whose model it post-trains"
            )
        if post.dpo and not cfg.run.synth:
            raise ConfigError(
                "run.post.dpo: DPO pairs come from run.synth's verified and failed samples; "
                "add run.synth or set run.post.dpo: false"
            )
        if post.sft and not cfg.run.synth and not post.inputs:
            raise ConfigError(
                "run.post.sft: no SFT rows: add run.synth, run.post.inputs (chat files), or set "
                "run.post.sft: false"
            )
    tasks = synth_tasks(cfg)
    if twice := repeated(tasks):
        raise ConfigError(
            f"run.synth: task {', '.join(twice)} given twice (a null task is synth.generate."
            f"task, {cfg.synth.generate.task}); one entry per task"
        )
    from qurate.contract.files import file_problem

    named = [(f"run.ingest[{i}].inputs", p) for i, e in enumerate(cfg.run.ingest) for p in e.inputs]
    named += [(f"run.recall[{i}].pool", p) for i, e in enumerate(cfg.run.recall) for p in e.pool]
    named += [(f"run.recall[{i}].seeds", e.seeds) for i, e in enumerate(cfg.run.recall) if e.seeds]
    # seeds inside run.out are made by this run (synth.generate.seed_domain: a recalled pool)
    synth_seeds = [
        (i, e.seeds) for i, e in enumerate(cfg.run.synth) if not inside(Path(e.seeds), run)
    ]
    named += [(f"run.synth[{i}].seeds", s) for i, s in synth_seeds]
    if post is not None:
        named += [(f"run.post.inputs[{i}]", p) for i, p in enumerate(post.inputs)]
        named += [("run.post.model", post.model)] if post.model else []
    if cfg.run.ablate:
        named += [(f"ablate.evals.{k}", p) for k, p in cfg.ablate.evals.items()]
        arms = cfg.ablate.arms.items()  # an arm inside run.out is made by this run
        named += [(f"ablate.arms.{k}", p) for k, p in arms if not inside(Path(p), run)]
    _check_overlaps(cfg, run)
    for key, p in named:  # found now, not after curate has run for an hour
        path = Path(p)
        if not path.is_dir() and (why := file_problem(path)):
            raise BadInputError(f"{key}: {p}: {why}")
    _check_lever_inputs(cfg, [i for i, _ in synth_seeds])
    mix = cfg.mix
    if mix is not None and cfg.score is None and isinstance(mix.quality_buckets, int):
        if mix.quality_buckets > 1:  # curate leaves quality null: the mix failed after curate
            raise ConfigError(
                "mix.quality_buckets: without a score: section the curated documents have no "
                "quality to bucket by; add score: or set mix.quality_buckets: 1"
            )
    if cfg.train is not None and not cfg.train.init_from:
        from qurate.train.presets import preset

        try:
            preset(cfg.train.preset)
        except ConfigError as e:
            raise ConfigError(f"train.preset: {e}") from None


def inside(path: Path, run: Path) -> bool:
    return path.resolve().is_relative_to(run.resolve())


def _check_overlaps(cfg: PipelineConfig, run: Path) -> None:
    """The corpora of ``run.inputs``, ``run.ingest`` and ``run.recall`` overlap neither one
    another (a document given twice was mixed twice, without a word) nor run.out (a pool
    inside it was "not found" on a first run and read on the second; a folder holding it was
    refused only after curate had run)."""
    corpora = [("run.inputs", p) for p in cfg.run.inputs]
    corpora += [
        (f"run.ingest[{i}].inputs", p) for i, e in enumerate(cfg.run.ingest) for p in e.inputs
    ]
    corpora += [(f"run.recall[{i}].pool", p) for i, e in enumerate(cfg.run.recall) for p in e.pool]
    for n, (key, p) in enumerate(corpora):
        if key != "run.inputs" and (inside(Path(p), run) or inside(run, Path(p))):
            raise ConfigError(
                f"{key}: {p}: overlaps run.out ({run}), which this run writes; name input files "
                "or folders outside it"
            )
        for key2, q in corpora[:n]:
            if key2 != key and (inside(Path(p), Path(q)) or inside(Path(q), Path(p))):
                raise ConfigError(
                    f"{key}: {p}: overlaps {key2} ({q}); its documents would join the mix twice, "
                    "so name each input in one place"
                )


def _check_lever_inputs(cfg: PipelineConfig, synth_checked: list[int]) -> None:
    """What the levers read, checked as their stages will read it (the ingest inputs' files,
    the seed files, the held-out evaluations), before curate: each of these failed only after
    curate and the recall pools' curate had run. ``synth_checked``: the ``run.synth`` entries
    whose seeds are there now (not made by this run)."""
    try:
        for i, e in enumerate(cfg.run.ingest):
            from qurate.augment.ingest import plan_inputs

            key = f"run.ingest[{i}].inputs"
            plan_inputs(e.inputs, e.domain)
        for i, e in enumerate(cfg.run.recall):
            from qurate.augment.recall import load_seeds

            key = f"run.recall[{i}].seeds"
            if e.seeds:
                load_seeds(e.seeds)
        for i, (e, task) in enumerate(zip(cfg.run.synth, synth_tasks(cfg), strict=True)):
            from qurate.synth.generate import read_seeds

            key = f"run.synth[{i}].seeds"
            if i in synth_checked:
                read_seeds(e.seeds, cfg.synth.generate.model_copy(update={"task": task}))
        if cfg.run.ablate:
            from qurate.ablate.runner import load_evals

            key = "ablate.evals"
            load_evals(cfg.ablate)
    except BadInputError as e:
        raise BadInputError(f"{key}: {str(e).removeprefix('seeds: ')}") from None
