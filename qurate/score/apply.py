"""Scoring stage 3, apply: score every document and combine the signals into ``quality``.

Each signal becomes a component in [0, 1]:

- **rater**: the fastText raters' weighted mean score / 5 (cheap: the one to run on all);
- **judge**: the LLM judge's mean normalised score (``--judge``; one LLM prefill a document);
- **perplexity** under a reference LM (``--perplexity``; the CCNet idea).

``quality`` is the weighted mean of the components a document has (weights in
``score.apply``); below ``keep_threshold`` a document goes to rejects as ``low_quality``.

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
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from qurate.contract.executors import ExecutorConfig
from qurate.contract.shards import (
    MANIFEST,
    REJECTS,
    ShardWriter,
    atomic_write_bytes,
    check_stage_dir,
    config_hash,
    iter_rows,
    iter_rows_of,
    shard_paths,
)
from qurate.contract.stagedir import StageDir
from qurate.errors import BadInputError, ConfigError
from qurate.score.check import check_judge, reliability_of
from qurate.score.config import ScoreConfig
from qurate.score.judge import Judge
from qurate.score.metrics import rankdata
from qurate.score.raters import RATERS_FILE, Raters

STAGING = "_staging"
COMPONENTS = ("rater", "judge", "perplexity")


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

    @property
    def relative(self) -> bool:
        return self.perplexity and self.config.perplexity.normalize == "language"

    def shards(self, rank: int) -> list[Path]:
        return shard_paths(self.src)[rank :: self.tasks]

    def prefix(self, rank: int) -> str:
        return "part" if self.tasks == 1 else f"part-{rank:05d}"

    def load(self, rank: int) -> tuple[Raters | None, Judge | None, Any]:
        raters = Raters(self.raters_dir) if self.raters_dir else None
        judge = scorer = None
        if self.judge:
            from qurate.llm import load_engine

            cache = Path(self.out) / "cache" / f"llm-{rank:05d}.sqlite"
            judge = Judge(load_engine(self.config.engine, cache_path=cache), self.config.judge)
        if self.perplexity:
            from qurate.score.perplexity import PerplexityScorer

            scorer = PerplexityScorer(self.config.perplexity)
        return raters, judge, scorer


class _Emitter:
    """Writes one task's scored rows: kept ones to shards, the rest to rejects."""

    def __init__(self, job: _Job, rank: int) -> None:
        out = Path(job.out)
        self.threshold = job.config.apply.keep_threshold
        self.writer = ShardWriter(out, prefix=job.prefix(rank))
        self.rejects = ShardWriter(out / REJECTS, prefix=job.prefix(rank), rejects=True)
        self.kept = 0
        self.rejected: Counter[str] = Counter()

    def emit(self, rows: list[dict[str, Any]], quality: np.ndarray) -> None:
        for row, q in zip(rows, quality.tolist(), strict=True):
            row["quality"] = None if np.isnan(q) else float(q)
            if self.threshold is not None and not q >= self.threshold:
                self.rejected["low_quality"] += 1
                self.rejects.write(
                    {
                        **row,
                        "reject_reason": "low_quality",
                        "stage": "score.apply",
                        "reject_detail": f"quality={q:.3f} < {self.threshold}",
                    }
                )
            else:
                self.kept += 1
                self.writer.write(row)

    def close(self) -> dict[str, Any]:
        self.writer.close()
        self.rejects.close()
        return {"kept": self.kept, "rejected": dict(self.rejected)}


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


def _score_task(job: _Job, rank: int, models: tuple | None = None) -> None:
    """Pass 1 of one task: score its shards. Without per-language ranking the rows are
    written at once; with it they are staged and their components saved for the ranking."""
    if not _fresh(job, rank, "score"):
        return
    raters, judge, scorer = models or job.load(rank)
    out, acfg = Path(job.out), job.config.apply
    parts = out / PARTS
    n_in = n_bytes = 0
    staged: dict[str, list[np.ndarray]] = {c: [] for c in COMPONENTS}
    langs: list[str] = []
    emitter = None if job.relative else _Emitter(job, rank)
    staging = ShardWriter(out / STAGING, prefix=job.prefix(rank)) if job.relative else None
    rows = (r for path in job.shards(rank) for r in iter_rows_of(path))
    for batch in _batches(rows, acfg.batch_size):
        n_in += len(batch)
        n_bytes += sum(len((r["text"] or "").encode()) for r in batch)
        comps = score_batch(batch, raters, judge, scorer, job.config)
        if staging is not None:
            for c in COMPONENTS:
                staged[c].append(comps.get(c, np.full(len(batch), np.nan)))
            langs += [r.get("lang") or "?" for r in batch]
            for row in batch:
                staging.write(row)
        else:
            assert emitter is not None
            if scorer is not None:
                comps["perplexity"] = scorer.quality(comps["perplexity"])
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
    emitter = _Emitter(job, rank)
    staged = sorted((out / STAGING).glob(f"{job.prefix(rank)}-*.parquet"))
    k = 0
    rows = (r for path in staged for r in iter_rows_of(path))
    for batch in _batches(rows, job.config.apply.batch_size):
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
    raters = (Path(job.raters_dir) / RATERS_FILE).read_text() if job.raters_dir else None
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


def _run_pass(job: _Job, which: str, executor: ExecutorConfig | None, models: tuple) -> None:
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
    perplexity: bool = False,
    executor: ExecutorConfig | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Score every document of ``in_dir`` with the raters (and optionally the judge and
    perplexity under ``config.perplexity.model``); write ``out_dir``.

    With ``score.apply.tasks`` > 1 the input shards are split among that many tasks, run on
    ``executor`` (datatrove's local or Ray executor; local by default). Per-language
    perplexity percentiles are still taken over the whole input: the tasks save their
    components, this process ranks them, and a second pass writes the rows.

    The rerun policy is ``StageDir``'s: a rerun of a finished run (same config, input stage,
    raters, judge and perplexity) is a no-op; a rerun of an interrupted one keeps each task's
    finished passes and redoes the rest; a different run needs ``overwrite`` (the LLM answers
    in ``cache/`` stay).
    """
    config = config or ScoreConfig()
    src, out = check_stage_dir(in_dir), Path(out_dir)
    if raters_dir is None and not judge and not perplexity:
        raise BadInputError("nothing to score with: give --raters, --judge or --perplexity")
    if config.apply.tasks > 1 and executor is not None and executor.kind == "slurm":
        raise ConfigError(
            "score.apply.tasks: several tasks run on the local or Ray executor, not Slurm "
            "(the per-language ranking between the passes runs in this process); run "
            "`qurate score apply` inside one Slurm allocation with executor.kind: local"
        )
    probe = _Job(str(src), str(out), str(raters_dir) if raters_dir else None, config, judge,
                 perplexity, {}, 1)  # fmt: skip
    sd = StageDir(out, "score.apply", overwrite=overwrite, keep=("cache",))
    with sd:
        done = sd.begin(_fingerprint(probe))  # an interrupted attempt keeps its finished passes
        if done is not None:
            return done
        (out / PARTS).mkdir(parents=True, exist_ok=True)
        return _apply(probe, sd, executor)


def _apply(probe: _Job, sd: StageDir, executor: ExecutorConfig | None) -> dict[str, Any]:
    src, out, config = Path(probe.src), sd.path, probe.config
    pcfg, judge, perplexity = config.perplexity, probe.judge, probe.perplexity
    raters_dir = probe.raters_dir
    # Loaded here even for several tasks: the judge check needs the judge, and a bad model
    # path fails once, in one line, before any task starts.
    models = probe.load(0)
    raters, the_judge, scorer = models
    weights, present, judge_check = _weights(src, config, raters, the_judge, scorer)
    tasks = max(1, min(config.apply.tasks, len(shard_paths(src))))
    job = _Job(probe.src, probe.out, probe.raters_dir, config, judge, perplexity, weights, tasks)
    judge_meta = the_judge.metadata() if the_judge else None
    ppl_model = scorer.model_id if scorer else None
    if tasks > 1:  # every task loads its own models: free this process's (a GPU, say)
        for engine in (getattr(the_judge, "engine", None), getattr(scorer, "engine", None)):
            if engine is not None:
                engine.close()
        models = raters = the_judge = scorer = None
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
    for d in (STAGING, PARTS):
        shutil.rmtree(out / d, ignore_errors=True)
    extra: dict[str, Any] = {
        "raters": str(raters_dir) if raters_dir else None,
        "judge": judge_meta,
        "perplexity_model": ppl_model,
        "weights": {c: weights[c] for c in present},
        "judge_check": judge_check,
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


def _weights(
    src: Path, config: ScoreConfig, raters: Raters | None, judge: Judge | None, scorer: Any
) -> tuple[dict[str, float], list[str], dict[str, Any] | None]:
    """Each component's weight in ``quality``, the components present, and the judge check.

    A judge that failed its check (scoring_check.py) passes its low reliability on to the
    raters distilled from it; a judge asked here is checked on the first documents (their
    answers are cached, so scoring them again later costs nothing).
    """
    acfg = config.apply
    judge_check = None
    if judge is not None and config.annotate.check_docs:
        head = [
            r["text"] or ""
            for r in islice(iter_rows(src, columns=["text"]), config.annotate.check_docs)
        ]
        quality = [judge.quality(j.scores) if not j.error else np.nan for j in judge.judge(head)]
        judge_check = check_judge(judge, head, quality)
    configured = {
        "rater": acfg.rater_weight,
        "judge": acfg.judge_weight,
        "perplexity": acfg.perplexity_weight,
    }
    weights = {
        **configured,
        "rater": acfg.rater_weight
        * reliability_of(raters.meta.get("judge_check") if raters else None),
        "judge": acfg.judge_weight * reliability_of(judge_check),
    }
    present = [
        c for c, on in zip(COMPONENTS, (raters, judge, scorer), strict=True) if on is not None
    ]
    if not sum(weights[c] for c in present):
        # Nothing else to lean on: the checked signal is all there is, so it keeps its weight
        # (the manifest records the check, so the weakness is on record).
        weights = configured
    return weights, present, judge_check


def _batches(rows: Any, size: int) -> Any:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def score_batch(
    rows: list[dict[str, Any]],
    raters: Raters | None,
    judge: Judge | None,
    scorer: Any,
    config: ScoreConfig,
) -> dict[str, np.ndarray]:
    """Fill scores / domain / domain_score of ``rows`` in place; return the components:
    ``rater`` and ``judge`` in [0, 1] (NaN where missing) and ``perplexity`` raw."""
    acfg = config.apply
    texts = [r["text"] or "" for r in rows]
    comps: dict[str, np.ndarray] = {}
    new_scores: list[dict[str, float]] = [{} for _ in rows]
    if raters is not None:
        scores, domains, dprob = raters.predict(texts)
        comp = np.zeros(len(rows), dtype=np.float64)
        total_w = 0.0
        for dim, vals in scores.items():
            w = acfg.weights.get(dim, 1.0)
            comp += w * np.clip(vals, 0, 5) / 5.0
            total_w += w
            for i, v in enumerate(vals.tolist()):
                new_scores[i][dim] = v
        if total_w > 0:
            comps["rater"] = comp / total_w
        if raters.domain_model is not None:
            for i, row in enumerate(rows):
                row["domain"], row["domain_score"] = domains[i], float(dprob[i])
    if judge is not None:
        comp = np.full(len(rows), np.nan)
        for i, j in enumerate(judge.judge(texts)):
            if j.error:
                continue
            comp[i] = judge.quality(j.scores)
            for dim, v in j.scores.items():
                new_scores[i][f"judge_{dim}"] = v
            if raters is None or raters.domain_model is None:
                rows[i]["domain"], rows[i]["domain_score"] = j.domain, j.domain_score
        comps["judge"] = comp
    if scorer is not None:
        ppl = scorer.perplexity(texts)
        for i, p in enumerate(ppl.tolist()):
            if not np.isnan(p):
                new_scores[i]["perplexity"] = p
        comps["perplexity"] = ppl
    for row, s in zip(rows, new_scores, strict=True):
        row["scores"] = {**(row.get("scores") or {}), **s}
    return comps


def combine(comps: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Weighted mean of the components each document has (NaN when it has none)."""
    n = len(next(iter(comps.values()))) if comps else 0
    num, den = np.zeros(n), np.zeros(n)
    for name, comp in comps.items():
        ok = ~np.isnan(comp)
        num[ok] += weights[name] * comp[ok]
        den[ok] += weights[name]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _indices_by_group(groups: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted group names and, for each, the positions that hold it (one sort, not a mask
    over the whole array per group)."""
    names, inv = np.unique(groups.astype(str), return_inverse=True)
    order = np.argsort(inv, kind="stable")
    return names, np.split(order, np.cumsum(np.bincount(inv, minlength=len(names)))[:-1])


def percentile_by_group(values: np.ndarray, groups: np.ndarray, min_group: int) -> np.ndarray:
    """Mid-rank percentile in (0, 1) of each value within its group (ties share a rank);
    NaN stays NaN; groups with fewer than ``min_group`` values are ranked together."""
    out = np.full(len(values), np.nan)
    ok = np.flatnonzero(~np.isnan(values))
    if not len(ok):
        return out
    _, parts = _indices_by_group(groups[ok])
    small = [p for p in parts if len(p) < min_group]
    ranked = [p for p in parts if len(p) >= min_group]
    if small:
        ranked.append(np.concatenate(small))
    for part in ranked:
        idx = ok[part]
        out[idx] = (rankdata(values[idx]) - 0.5) / len(idx)
    return out


def perplexity_quantiles(ppl: np.ndarray, groups: np.ndarray) -> dict[str, dict[str, float]]:
    """Per-language document count and 10/50/90th percentile perplexity (CCNet-style cuts)."""
    ok = np.flatnonzero(~np.isnan(ppl))
    table: dict[str, dict[str, float]] = {}
    if not len(ok):
        return table
    names, parts = _indices_by_group(groups[ok])
    for name, part in zip(names.tolist(), parts, strict=True):
        p10, p50, p90 = np.percentile(ppl[ok[part]], [10, 50, 90])
        table[name] = {"n": len(part), "p10": float(p10), "p50": float(p50), "p90": float(p90)}
    return table


def raters_summary(models_dir: str | Path) -> dict[str, Any]:
    """The saved ``raters.json`` of a models directory (for rendering)."""
    path = Path(models_dir) / RATERS_FILE
    if not path.is_file():
        raise BadInputError(f"{models_dir}: no {RATERS_FILE}")
    return json.loads(path.read_text())
