"""Scoring stage 3, apply: score every document and combine the signals into ``quality``.

Each signal becomes a component in [0, 1] (``score/signals.py``): the distilled raters, the
LLM judge (``--judge``), perplexity under a reference LM (the CCNet idea; ``auto`` by
default: on when its price for the input is within budget, ``score/budget.py``) and
the DCLM-style reference classifier that ``score distill`` trains. Every signal is first
checked against word-shuffled copies of input documents, and its weight is scaled by how
well it tells them apart (the weights and checks are in the manifest). ``quality`` is the
weighted mean of the components a document has; below ``keep_threshold`` a document goes to
rejects as ``low_quality``. ``domain`` comes from the shipped domain classifier
(``score/domains.py``) unless ``score.apply.domains`` says otherwise.

Perplexity depends on the language at least as much as on quality: under SmolLM2 the median
kept document scores 17-27 in Chinese, Russian or English and 100-128 in Czech, Swedish or
Dutch (bench/RESULTS.md), so one fixed cut keeps English junk that a good Dutch manual
cannot beat. CCNet therefore cuts perplexity per
language, at percentiles. With ``perplexity.normalize: language`` (the default) the component
is the document's percentile within its language over the whole input: 0.9 means 90% of the
same-language documents are less likely under the reference model. That needs every
perplexity before the first document can be written, so apply runs in two passes: the first
scores and stages rows under ``OUT/_staging``, the second ranks and writes. Languages with
fewer than ``min_language_docs`` documents are ranked together. The per-language 10/50/90th
percentiles go into the manifest (CCNet's head/middle/tail cuts). The percentile is relative
to the input: score a corpus in one run, not shard by shard. ``normalize: absolute`` maps
perplexity through a fixed logistic (one pass; calibrate ``pivot`` for the reference model).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from qurate.contract.args import as_config, as_path
from qurate.contract.executors import ExecutorConfig
from qurate.contract.shards import (
    MANIFEST,
    REJECTS,
    ShardWriter,
    atomic_write_bytes,
    check_doc_shards,
    check_stage_dir,
    config_hash,
    iter_rows_of,
    shard_paths,
)
from qurate.contract.stagedir import StageDir
from qurate.errors import BadInputError, ConfigError
from qurate.progress import Bar
from qurate.score.budget import PerplexityDecision, decide_perplexity
from qurate.score.config import ScoreConfig
from qurate.score.judge import Judge
from qurate.score.ranking import percentile_by_group, perplexity_quantiles, raters_summary
from qurate.score.raters import RATERS_FILE, Raters, read_meta
from qurate.score.rows import Emitter, batches, check_texts, rows_in
from qurate.score.signals import (
    COMPONENTS,
    combine,
    score_batch,
    signal_checks,
    signal_weights,
)

STAGING = "_staging"
__all__ = [
    "COMPONENTS",
    "STAGING",
    "apply",
    "combine",
    "percentile_by_group",
    "perplexity_quantiles",
    "raters_summary",
    "score_batch",
]


@dataclass
class Models:
    """What scores a document: any of raters, judge, perplexity, reference, domain model."""

    raters: Raters | None = None
    judge: Judge | None = None
    perplexity: Any = None
    reference: Any = None
    domains: Any = None

    def close(self) -> None:
        for engine in (
            getattr(self.judge, "engine", None),
            getattr(self.perplexity, "engine", None),
        ):
            if engine is not None:
                engine.close()


PARTS = "_parts"  # per-task counts and components, removed once the manifest is written


@dataclass
class _Job:
    """What every task of an apply run needs (picklable: it travels to executor workers)."""

    src: str
    out: str
    raters_dir: str | None
    config: ScoreConfig
    judge: bool
    perplexity: bool
    weights: dict[str, float]
    tasks: int
    progress: bool = False

    @property
    def relative(self) -> bool:
        return self.perplexity and self.config.perplexity.normalize == "language"

    def shards(self, rank: int) -> list[Path]:
        return shard_paths(self.src)[rank :: self.tasks]

    def prefix(self, rank: int) -> str:
        return "part" if self.tasks == 1 else f"part-{rank:05d}"

    def load(self, rank: int) -> Models:
        m = Models(raters=Raters(self.raters_dir) if self.raters_dir else None)
        if self.judge:
            from qurate.llm import load_engine

            cache = Path(self.out) / "cache" / f"llm-{rank:05d}.sqlite"
            m.judge = Judge(load_engine(self.config.engine, cache_path=cache), self.config.judge)
        if self.perplexity:
            from qurate.score.perplexity import PerplexityScorer

            m.perplexity = PerplexityScorer(self.config.perplexity)
        if m.raters is not None and m.raters.meta.get("reference"):
            from qurate.score.reference import ReferenceClassifier

            m.reference = ReferenceClassifier(
                Path(self.raters_dir or ".") / m.raters.meta["reference"]["file"]
            )
        if self.config.apply.domains is not None:
            from qurate.score.domains import DomainClassifier

            m.domains = DomainClassifier(self.config.apply.domains)
        return m


def _emitter(job: _Job, rank: int) -> Emitter:
    return Emitter(Path(job.out), job.prefix(rank), job.config.apply.keep_threshold)


def _fresh(job: _Job, rank: int, which: str) -> bool:
    """False when this task finished its pass in an earlier attempt of the same run (its
    counts file is written last); otherwise remove whatever a killed attempt left."""
    out = Path(job.out)
    if (out / PARTS / f"{which}-{rank:05d}.json").exists():
        return False
    # Pass 2 reads the staged rows of pass 1: only pass 1 clears them.
    for d in (out, out / REJECTS, *([out / STAGING] if which == "score" else [])):
        for p in d.glob(f"{job.prefix(rank)}-*.parquet"):
            p.unlink()
    return True


def _score_task(job: _Job, rank: int, models: Models | None = None) -> None:
    """Pass 1 of one task: score its shards. Without per-language ranking the rows are
    written at once; with it they are staged and their components saved for the ranking."""
    if not _fresh(job, rank, "score"):
        return
    models = models or job.load(rank)
    out, acfg = Path(job.out), job.config.apply
    parts = out / PARTS
    n_in = n_bytes = 0
    staged: dict[str, list[np.ndarray]] = {c: [] for c in COMPONENTS}
    langs: list[str] = []
    emitter = None if job.relative else _emitter(job, rank)
    staging = ShardWriter(out / STAGING, prefix=job.prefix(rank)) if job.relative else None
    rows = (r for path in job.shards(rank) for r in iter_rows_of(path))
    total = rows_in(job.shards(rank))
    with Bar("score apply", total, enabled=job.progress and job.tasks == 1) as bar:
        for batch in batches(rows, acfg.batch_size):
            n_in += len(batch)
            n_bytes += sum(len((r["text"] or "").encode()) for r in batch)
            comps = score_batch(batch, models, job.config, on_progress=bar.advance)
            if staging is not None:
                for c in COMPONENTS:
                    staged[c].append(comps.get(c, np.full(len(batch), np.nan)))
                langs += [r.get("lang") or "?" for r in batch]
                for row in batch:
                    staging.write(row)
            else:
                assert emitter is not None
                if models.perplexity is not None:
                    comps["perplexity"] = models.perplexity.quality(comps["perplexity"])
                emitter.emit(batch, combine(comps, job.weights))
    counts: dict[str, Any] = {"in": n_in, "bytes": n_bytes, "kept": 0, "rejected": {}}
    if staging is not None:
        staging.close()
        np.savez(
            parts / f"components-{rank:05d}.npz",
            lang=np.array(langs, dtype=str),
            **{c: np.concatenate(v) if v else np.empty(0) for c, v in staged.items()},
        )
    else:
        assert emitter is not None
        counts.update(emitter.close())
    atomic_write_bytes(parts / f"score-{rank:05d}.json", json.dumps(counts).encode())


def _write_task(job: _Job, rank: int) -> None:
    """Pass 2 of one task (per-language ranking): write its staged rows with their quality."""
    if not _fresh(job, rank, "write"):
        return
    out, parts = Path(job.out), Path(job.out) / PARTS
    quality = np.load(parts / f"quality-{rank:05d}.npy")
    emitter = _emitter(job, rank)
    staged = sorted((out / STAGING).glob(f"{job.prefix(rank)}-*.parquet"))
    k = 0
    rows = (r for path in staged for r in iter_rows_of(path))
    for batch in batches(rows, job.config.apply.batch_size):
        emitter.emit(batch, quality[k : k + len(batch)])
        k += len(batch)
    atomic_write_bytes(parts / f"write-{rank:05d}.json", json.dumps(emitter.close()).encode())


class ApplyStep:
    """One pass of ``score apply`` as a datatrove pipeline step (a task = a rank)."""

    def __init__(self, job: _Job, which: str) -> None:
        self.job, self.which = job, which

    def __call__(self, data, rank: int = 0, world_size: int = 1):
        (_score_task if self.which == "score" else _write_task)(self.job, rank)
        return data


def _fingerprint(job: _Job) -> str:
    """What makes two apply runs the same: config (tasks included), input shards and the
    input's manifest, raters (their files are named by content, so raters.json names them),
    judge and perplexity."""
    src = Path(job.src)
    # bytes as text: a raters.json that is not UTF-8 is named by read_meta, not a traceback here
    meta = Path(job.raters_dir) / RATERS_FILE if job.raters_dir else None
    raters = meta.read_bytes().decode("utf-8", "replace") if meta else None
    return config_hash(
        {
            "config": job.config.model_dump(mode="json"),
            "input": str(src.resolve()),
            "shards": [(p.name, p.stat().st_size) for p in shard_paths(src)],
            # a stage rewritten in place (same names, maybe the same sizes) has a new manifest
            "manifest": (src / MANIFEST).read_text() if (src / MANIFEST).is_file() else None,
            "raters": raters,
            "judge": job.judge,
            "perplexity": job.perplexity,
        }
    )


def _run_pass(
    job: _Job, which: str, executor: ExecutorConfig | None, models: Models | None
) -> None:
    if job.tasks == 1:  # in this process, with the models already loaded
        if which == "score":
            _score_task(job, 0, models)
        else:
            _write_task(job, 0)
        return
    from qurate.contract.executors import make_executor, run_executor

    logs = Path(job.out) / PARTS / f"logs-{which}"
    run_executor(
        make_executor(
            [ApplyStep(job, which)],
            executor or ExecutorConfig(),
            tasks=job.tasks,
            logging_dir=logs,
            job_name=f"qurate-apply-{which}",
        )
    )


def apply(
    in_dir: str | Path,
    out_dir: str | Path,
    raters_dir: str | Path | None,
    config: ScoreConfig | None = None,
    *,
    judge: bool = False,
    perplexity: bool | Literal["auto"] | None = None,
    executor: ExecutorConfig | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Score every document of ``in_dir`` with the raters (and the reference classifier
    distilled with them), perplexity under ``config.perplexity.model`` (``perplexity``; None =
    ``score.apply.perplexity``: ``auto`` by default, i.e. on when its price for this input is
    within budget or a GPU is there, see ``score/budget.py``) and optionally the judge; write
    ``out_dir``. Each signal's weight is its configured weight scaled by its check
    (``score/signals.py``). The manifest's ``perplexity_decision`` says what ran and why.

    With ``score.apply.tasks`` > 1 the input shards are split among that many tasks, run on
    ``executor`` (datatrove's local or Ray executor; local by default). Per-language
    perplexity percentiles are still taken over the whole input: the tasks save their
    components, this process ranks them, and a second pass writes the rows.

    The rerun policy is ``StageDir``'s: a rerun of a finished run (same config, input stage,
    raters, judge and perplexity) is a no-op; a rerun of an interrupted one keeps each task's
    finished passes and redoes the rest; a different run needs ``overwrite`` (the LLM answers
    in ``cache/`` stay).
    """
    config = as_config(config, ScoreConfig, "apply config", hint="load_config(path).score")
    if executor is not None:
        executor = as_config(
            executor, ExecutorConfig, "executor", hint="load_config(path).executor"
        )
    out = as_path(out_dir, "apply out_dir")
    if raters_dir is not None:
        raters_dir = as_path(raters_dir, "apply raters_dir")
    src = check_stage_dir(as_path(in_dir, "apply in_dir"))
    check_doc_shards(src)  # a null text or n_tokens as text was a traceback mid-run
    setting = config.apply.perplexity if perplexity is None else perplexity
    decision = decide_perplexity(setting, src, config)
    perplexity = decision.on
    if raters_dir is None and not judge and not perplexity:
        why = f" ({decision.reason})" if setting == "auto" else ""
        raise BadInputError(f"nothing to score with: give --raters, --judge or --perplexity{why}")
    if raters_dir is not None and not (Path(raters_dir) / RATERS_FILE).is_file():
        raise BadInputError(
            f"{raters_dir}: no {RATERS_FILE} (train raters with `qurate score distill`)"
        )
    if config.apply.tasks > 1 and executor is not None and executor.kind == "slurm":
        raise ConfigError(
            "score.apply.tasks: several tasks run on the local or Ray executor, not Slurm "
            "(the per-language ranking between the passes runs in this process); run "
            "`qurate score apply` inside one Slurm allocation with executor.kind: local"
        )
    probe = _Job(str(src), str(out), str(raters_dir) if raters_dir else None, config, judge,
                 perplexity, {}, 1)  # fmt: skip
    reads = [src, *([raters_dir] if raters_dir is not None else [])]
    sd = StageDir(out, "score.apply", overwrite=overwrite, keep=("cache",), inputs=reads)
    with sd:
        done = sd.begin(_fingerprint(probe))  # an interrupted attempt keeps its finished passes
        if done is not None:
            return done
        if raters_dir is not None:  # a corrupt or hand-broken raters.json: one line, no run left
            read_meta(Path(raters_dir))
        (out / PARTS).mkdir(parents=True, exist_ok=True)
        return _apply(probe, sd, executor, progress, decision)


def _apply(
    probe: _Job,
    sd: StageDir,
    executor: ExecutorConfig | None,
    progress: bool,
    decision: PerplexityDecision,
) -> dict[str, Any]:
    src, out, config = Path(probe.src), sd.path, probe.config
    pcfg, judge, perplexity = config.perplexity, probe.judge, probe.perplexity
    raters_dir = probe.raters_dir
    # Loaded here even for several tasks: the judge check needs the judge, and a bad model
    # path fails once, in one line, before any task starts.
    models = probe.load(0)
    checks = signal_checks(models, check_texts(src, config.apply.check_docs), config)
    weights, present = signal_weights(models, config, checks)
    tasks = max(1, min(config.apply.tasks, len(shard_paths(src))))
    job = _Job(probe.src, probe.out, probe.raters_dir, config, judge, perplexity, weights, tasks,
               progress)  # fmt: skip
    judge_meta = models.judge.metadata() if models.judge else None
    rater_judge_check = models.raters.meta.get("judge_check") if models.raters else None
    ppl_model = models.perplexity.model_id if models.perplexity else None
    domain_model = str(models.domains.path) if models.domains else None
    if tasks > 1:  # every task loads its own models: free this process's (a GPU, say)
        models.close()
        models = None
    started = time.perf_counter()
    _run_pass(job, "score", executor, models)
    parts = out / PARTS
    counts = [json.loads((parts / f"score-{r:05d}.json").read_text()) for r in range(tasks)]
    ppl_table = None
    if job.relative:
        # Rank perplexity within each language over the whole input, then write.
        loaded = [np.load(parts / f"components-{r:05d}.npz") for r in range(tasks)]
        comp = {c: np.concatenate([x[c] for x in loaded]) for c in COMPONENTS}
        lang_arr = np.concatenate([x["lang"] for x in loaded]).astype(object)
        ppl = comp["perplexity"]
        comp["perplexity"] = percentile_by_group(-np.log(ppl), lang_arr, pcfg.min_language_docs)
        ppl_table = perplexity_quantiles(ppl, lang_arr)
        quality = combine(comp, weights)
        bounds = np.cumsum([0] + [c["in"] for c in counts])
        for r in range(tasks):
            np.save(parts / f"quality-{r:05d}.npy", quality[bounds[r] : bounds[r + 1]])
        _run_pass(job, "write", executor, models)
        for r, c in enumerate(counts):
            c.update(json.loads((parts / f"write-{r:05d}.json").read_text()))
    wall = time.perf_counter() - started
    n_in, n_bytes = sum(c["in"] for c in counts), sum(c["bytes"] for c in counts)
    rejected: Counter[str] = Counter()
    for c in counts:
        rejected.update(c["rejected"])
    # The pass markers go first and at once (renamed away, then removed): one that outlived
    # the staged rows or its sibling markers made a rerun skip a pass whose rows were gone
    # (a kill mid-cleanup lost every kept document). The next begin() clears a leftover.
    trash = out / f".{PARTS}.{os.getpid()}.tmp"
    os.replace(out / PARTS, trash)
    shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(out / STAGING, ignore_errors=True)
    extra: dict[str, Any] = {
        "raters": str(raters_dir) if raters_dir else None,
        "judge": judge_meta,
        "perplexity_model": ppl_model,
        "perplexity_decision": decision.as_dict(),
        "weights": {c: weights[c] for c in present},
        # each signal's ROC-AUC between input documents and their word-shuffled copies
        "signal_checks": checks,
        "judge_check": checks.get("judge"),
        # the raters' weight is also scaled by the check of the judge they learned from
        "rater_judge_check": rater_judge_check,
        "domain_model": domain_model,
        "tasks": tasks,
        "throughput": {
            "docs_per_s": n_in / wall if wall else None,
            "mb_per_s": n_bytes / 1e6 / wall if wall else None,
        },
    }
    if perplexity:
        extra["perplexity"] = {
            "normalize": pcfg.normalize,
            "max_tokens": pcfg.max_tokens,
            "by_language": ppl_table,
        }
    return sd.finish(
        config_hash=config_hash(config),
        inputs=[str(src)],
        n_in=n_in,
        n_kept=sum(c["kept"] for c in counts),
        rejected_by_reason=dict(rejected),
        extra=extra,
    )
