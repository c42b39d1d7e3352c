"""``qurate curate``: the stages of a curation run and how they are chained.

A run is three datatrove pipelines over the same ``T`` tasks, then a manifest:

1. **filter**: read this task's input files -> normalise -> language ID -> heuristics ->
   decontamination -> exact-hash and MinHash signatures -> every document, in read order, to
   ``.work/docs/{rank}.parquet`` (rejected ones marked, not dropped).
2. **index**: the unique-ids index (``qurate.dedup.ids``: which later documents repeat an
   earlier id), then LSH buckets over the signatures, verified pairs, clusters: for each
   task, which of its documents duplicate which survivor.
3. **write**: re-read ``.work/docs/{rank}`` in order -> mark duplicates -> rename repeated
   ids -> kept documents to ``part-*.parquet``, rejects to ``rejects/``, per-task counts.

Then ``manifest.json`` sums the counts (``in == kept + rejected`` or it refuses). Each
pipeline runs on the configured datatrove executor with its own logging folder, whose
completion markers make a rerun skip finished tasks; a run whose manifest already matches
the config and inputs is a no-op.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qurate.contract.args import as_config, as_path, as_paths
from qurate.contract.executors import (
    ExecutorConfig,
    make_executor,
    preload_in_workers,
    run_executor,
)
from qurate.contract.shards import config_hash, read_manifest
from qurate.contract.stagedir import StageDir, atomic_write_text, fingerprint
from qurate.contract.steps import (
    ContractWriter,
    WorkReader,
    WorkWriter,
    resolve_tokenizer,
    write_stage_manifest,
)
from qurate.curate.config import CurateConfig
from qurate.dedup.ids import renamed_count
from qurate.errors import BadInputError
from qurate.readers.inputs import InputReader, scan_inputs

STAGE = "curate"
MAX_AUTO_TASKS = 64


@dataclass
class CurateResult:
    out: Path
    manifest: dict[str, Any]
    skipped: bool = False  # the run was already complete
    submitted: bool = False  # Slurm: the stages were submitted; rerun to see the manifest
    elapsed_s: float = 0.0


def _plan_tasks(executor: ExecutorConfig, n_files: int) -> int:
    if executor.tasks:
        return executor.tasks
    return max(1, min(n_files, MAX_AUTO_TASKS))


SLURM_JOBS = "slurm-jobs.json"


def slurm_jobs_in_queue(work: Path) -> list[str]:
    """Ids of the earlier submission's Slurm jobs that are still queued or running.

    A rerun while they run would resubmit every task that has not finished yet, so the
    same task would run twice. Array tasks show in ``squeue`` as ``123_4`` or ``123_[5-9]``.
    """
    path = work / SLURM_JOBS
    if not path.is_file():
        return []
    ids = [str(i) for i in json.loads(path.read_text()).get("job_ids", [])]
    if not ids:
        return []
    try:
        res = subprocess.run(
            ["squeue", "--noheader", "--format=%i", f"--jobs={','.join(ids)}"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BadInputError(
            f"{work.parent}: cannot ask Slurm whether the earlier submission still runs ({e})"
        ) from e
    if res.returncode != 0:  # squeue errors on ids that have all left the queue
        return []
    queued = {line.strip().split("_")[0] for line in res.stdout.splitlines() if line.strip()}
    return [i for i in ids if i in queued]


def curate(
    inputs: list[str | Path],
    out: str | Path,
    cfg: CurateConfig | None = None,
    *,
    executor: ExecutorConfig | None = None,
    decontaminate: list[str | Path] = (),
    progress: bool = True,
    overwrite: bool = False,
) -> CurateResult:
    """Run the curation stages on ``inputs`` into the stage directory ``out``.

    Rerun policy (``StageDir``): the same run again is a no-op; an interrupted one resumes
    (datatrove's completion markers in ``.work`` skip finished tasks); a different one needs
    ``overwrite``. ``.work`` (logs, dedup index) stays after the run."""
    t0 = time.time()
    cfg = as_config(cfg, CurateConfig, "curate cfg", hint="load_config(path).curate")
    executor = as_config(executor, ExecutorConfig, "executor", hint="load_config(path).executor")
    out = as_path(out, "curate out")
    inputs = as_paths(inputs, "curate inputs")
    if not inputs:
        raise BadInputError("curate inputs: give at least one input file or folder")
    resolve_tokenizer(cfg.tokenizer)  # a bad tokenizer: path fails here, not in every task
    work = out / ".work"
    plan = scan_inputs(inputs, text_key=cfg.text_key)
    files = plan.files
    benchmarks = [str(b) for b in as_paths(decontaminate, "decontaminate")]
    for b in benchmarks:
        if not Path(b).is_file():
            raise BadInputError(f"{b}: no such benchmark file")
    input_names = [f.path for f in files]
    # Inputs by name (as before): a user who fixes a broken input file and reruns resumes,
    # keeping the tasks that finished.
    fp = fingerprint(cfg, names=input_names, benchmarks=benchmarks)
    if executor.kind == "slurm" and (queued := slurm_jobs_in_queue(work)):
        raise BadInputError(
            f"{out}: Slurm jobs {', '.join(queued)} of the earlier submission are still queued "
            "or running; rerun when they finish (or scancel them to resubmit)"
        )
    # An output inside an input folder would be read back as input by a rerun.
    with StageDir(out, STAGE, overwrite=overwrite, keep_hidden=(".work",), inputs=inputs) as sd:
        if (done := sd.begin(fp)) is not None:
            return CurateResult(out, done, skipped=True)
        result = _run(plan, sd, cfg, executor, benchmarks, progress, t0)
        if not result.submitted:
            sd.done()
        return result


def _run(plan, sd: StageDir, cfg, executor: ExecutorConfig, benchmarks, progress, t0):
    files = plan.files
    out, work = sd.path, sd.path / ".work"
    input_names = [f.path for f in files]
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "started").exists():
        (work / "started").write_text(str(t0))

    tasks = _plan_tasks(executor, len(files))
    workers = executor.workers or os.cpu_count() or 1
    stage1, stage2, stage3 = build_stages(cfg, files, work, out, tasks, benchmarks, workers)
    progress_dir = work / "progress"
    total_bytes = sum(os.path.getsize(f.path) for f in files)

    finalize = Finalize(
        out,
        work,
        tasks=tasks,
        config_hash=config_hash(cfg),
        inputs=input_names,
        extra={
            "fingerprint": sd.fingerprint,
            "benchmarks": benchmarks,
            "tasks": tasks,
            "executor": executor.kind,
            "tokenizer": resolve_tokenizer(cfg.tokenizer),
            "skipped_inputs": plan.skipped_summary(),
        },
    )
    if executor.kind == "local":
        # qurate.dedup.warm: the dedup tokenizer's table, built once instead of per worker
        preload_in_workers(
            [stage1, *(steps for steps, _ in stage2), stage3], extra=("qurate.dedup.warm",)
        )
    logs = work / "logs"
    ex1 = make_executor(
        stage1, executor, tasks=tasks, logging_dir=logs / "1-filter", job_name="qurate-filter"
    )
    chain = [ex1]
    for i, (steps, n) in enumerate(stage2):
        chain.append(
            make_executor(
                steps,
                executor,
                tasks=n,
                logging_dir=logs / f"2-dedup-{i}",
                job_name=f"qurate-dedup-{i}",
                depends=chain[-1],
            )
        )
    chain.append(
        make_executor(
            stage3,
            executor,
            tasks=tasks,
            logging_dir=logs / "3-write",
            job_name="qurate-write",
            depends=chain[-1],
        )
    )
    ex4 = make_executor(
        [finalize],
        executor,
        tasks=1,
        logging_dir=logs / "4-manifest",
        job_name="qurate-manifest",
        depends=chain[-1],
    )
    chain.append(ex4)

    if executor.kind == "slurm":
        ex4.run()  # submits the four job arrays, chained by Slurm dependencies
        ids = [str(ex.job_id) for ex in chain if ex.job_id not in (None, -1, "-1")]
        (work / SLURM_JOBS).write_text(json.dumps({"job_ids": ids, "submitted_at": time.time()}))
        return CurateResult(out, {}, submitted=True, elapsed_s=time.time() - t0)

    def run_all() -> None:
        for ex in chain:
            ex.depends = None  # run in order here; datatrove's local `depends` polls every 2 min
            run_executor(ex)

    _with_progress(run_all, progress, progress_dir, total_bytes)
    manifest = read_manifest(out)
    return CurateResult(out, manifest, elapsed_s=time.time() - t0)


def build_stages(
    cfg: CurateConfig, files, work: Path, out: Path, tasks: int, benchmarks: list[str], workers: int
):
    """The pipelines of a curate run: stage 1 and stage 3 step lists, and stage 2 as a list
    of ``(steps, tasks)`` pipelines to run in order."""
    from qurate.dedup.ids import IdIndex, UniqueIds
    from qurate.dedup.steps import DedupFilter, DedupSignatures, dedup_index_pipelines
    from qurate.filters.steps import build_filter_steps

    dedup_dir = work / "dedup"
    dedup_on = cfg.dedup.exact or cfg.dedup.near
    decontam: list = []
    if benchmarks:
        from qurate.dedup.decontam import DecontamFilter, build_decontam_index

        index = build_decontam_index([Path(b) for b in benchmarks], work / "decontam", cfg.decontam)
        decontam = [DecontamFilter(index, cfg.decontam)]
    stage1 = [
        InputReader(
            files,
            text_key=cfg.text_key,
            id_key=cfg.id_key,
            max_chars=cfg.max_chars,
            progress_dir=str(work / "progress" / "read"),
        ),
        *build_filter_steps(cfg.filters),
        *decontam,
        # dedup comes last: a document rejected after it would take its cluster's copies with it
        *([DedupSignatures(dedup_dir, cfg.dedup)] if dedup_on else []),
        WorkWriter(str(work / "docs")),
    ]
    # Ids are made unique whatever the dedup settings: a stage directory never repeats one.
    stage2 = [([IdIndex(work / "docs", work / "ids", tasks)], max(1, workers))]
    stage2 += dedup_index_pipelines(dedup_dir, cfg.dedup, workers) if dedup_on else []
    stage3 = [
        WorkReader(str(work / "docs")),
        *([DedupFilter(dedup_dir)] if dedup_on else []),
        UniqueIds(work / "ids"),  # after DedupFilter, which checks stage 1's ids
        ContractWriter(
            str(out),
            str(work / "counts"),
            tokenizer=resolve_tokenizer(cfg.tokenizer),
            rows_per_shard=cfg.rows_per_shard,
            progress_dir=str(work / "progress" / "write"),
        ),
    ]
    return stage1, stage2, stage3


def _with_progress(fn, enabled: bool, progress_dir: Path, total_bytes: int) -> None:
    """Run ``fn`` in a thread while the main thread draws a rich progress bar from the
    per-task progress files (tasks may be in other processes)."""
    if not enabled:
        fn()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    error: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as e:  # re-raised in the main thread
            error.append(e)

    thread = threading.Thread(target=target, daemon=True)
    start = time.time()
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[docs]:>10,} docs  {task.fields[rate]:>8,.0f} docs/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    # On stderr, like every other bar (qurate/progress.py): on stdout it landed in
    # `qurate curate ... > log` and in front of whatever a pipe reads.
    with Progress(*columns, transient=False, console=Console(stderr=True)) as bar:
        read = bar.add_task("filter", total=max(total_bytes, 1), docs=0, rate=0.0)
        write = bar.add_task("write ", total=None, docs=0, rate=0.0)
        thread.start()
        while thread.is_alive():
            thread.join(0.5)
            r = _sum_progress(progress_dir / "read")
            done = min(max(r.get("bytes", 0), r.get("chars", 0)), total_bytes)
            elapsed = max(time.time() - start, 1e-6)
            bar.update(read, completed=done, docs=r.get("docs", 0), rate=r.get("docs", 0) / elapsed)
            w = _sum_progress(progress_dir / "write")
            if w.get("docs"):
                bar.update(
                    write,
                    total=max(r.get("docs", 1), 1),
                    completed=w["docs"],
                    docs=w["docs"],
                    rate=w["docs"] / elapsed,
                )
        r = _sum_progress(progress_dir / "read")
        bar.update(read, completed=total_bytes, docs=r.get("docs", 0))
        bar.update(
            write, total=max(r.get("docs", 1), 1), completed=r.get("docs", 0), docs=r.get("docs", 0)
        )
    if error:
        raise error[0]


def _sum_progress(directory: Path) -> dict[str, int]:
    total: dict[str, int] = {}
    if not directory.is_dir():
        return total
    for p in directory.glob("*.json"):
        try:
            for k, v in json.loads(p.read_text()).items():
                total[k] = total.get(k, 0) + v
        except (json.JSONDecodeError, OSError):
            continue  # being replaced right now
    return total


class Finalize:
    """Last stage (one task): sum the per-task counts into ``manifest.json`` and copy
    datatrove's step statistics next to the shards. A step, so Slurm can chain it too."""

    def __init__(
        self,
        out: Path,
        work: Path,
        *,
        tasks: int,
        config_hash: str,
        inputs: list[str],
        extra: dict[str, Any],
    ) -> None:
        self.out, self.work, self.tasks = str(out), str(work), tasks
        self.config_hash, self.inputs, self.extra = config_hash, inputs, extra

    def __call__(self, data, rank: int = 0, world_size: int = 1):
        out, work = Path(self.out), Path(self.work)
        started = (
            float((work / "started").read_text()) if (work / "started").exists() else time.time()
        )
        write_stage_manifest(
            out,
            work / "counts",
            tasks=self.tasks,
            stage=STAGE,
            config_hash=self.config_hash,
            inputs=self.inputs,
            extra={
                **self.extra,
                "renamed_ids": renamed_count(work / "ids"),
                "elapsed_s": round(time.time() - started, 2),
            },
        )
        _collect_stats(work, out)
        return data


def _collect_stats(work: Path, out: Path) -> None:
    """Merge datatrove's per-task step statistics next to the shards (``stats/NAME.json``).

    From the per-task files, not datatrove's merged ``stats.json``: that one sums only the
    tasks run by the last call, and is not written when every task had already finished, so
    a resumed curate lost counts, and one killed after a stage's last task lost its file."""
    from datatrove.utils.stats import PipelineStats

    stats = out / "stats"
    stats.mkdir(exist_ok=True)
    for d in sorted((work / "logs").glob("[123]-*")):
        tasks = sorted((d / "stats").glob("*.json"))
        if tasks:
            merged = sum(
                (PipelineStats.from_json(json.loads(p.read_text())) for p in tasks),
                start=PipelineStats(),
            )
            atomic_write_text(stats / f"{d.name}.json", merged.to_json())
