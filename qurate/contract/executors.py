"""Map the config's ``executor`` key to datatrove's own executors (local, Slurm, Ray).

qurate never schedules tasks itself: each stage of a run is a datatrove pipeline, handed to
``LocalPipelineExecutor``, ``SlurmPipelineExecutor`` or ``RayPipelineExecutor`` with a
logging directory inside the run's work folder. Their completion markers are what make a
rerun skip finished tasks and a killed run resume.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from datatrove.executor.base import PipelineExecutor
from pydantic import BaseModel, ConfigDict, Field, model_validator

from qurate.errors import BadInputError, ConfigError, MissingExtraError, QurateError


class SlurmConfig(BaseModel):
    """Options passed to datatrove's SlurmPipelineExecutor."""

    model_config = ConfigDict(extra="forbid")
    partition: str | None = Field(
        None, description="Slurm partition (required for executor: slurm)"
    )
    time: str = Field("24:00:00", description="time limit per job array")
    cpus_per_task: int = Field(1, ge=1, description="CPUs per task")
    mem_per_cpu_gb: float = Field(2, gt=0, description="memory per CPU in GB")
    qos: str | None = Field(None, description="Slurm QOS")
    sbatch_args: dict[str, str] = Field(default_factory=dict, description="extra #SBATCH options")
    env_command: str | None = Field(
        None, description="shell command run before each task, e.g. activating a venv"
    )


class RayConfig(BaseModel):
    """Options passed to datatrove's RayPipelineExecutor."""

    model_config = ConfigDict(extra="forbid")
    address: str | None = Field(
        None, description="Ray cluster address; none starts a local Ray instance"
    )
    cpus_per_task: int = Field(1, ge=1, description="CPUs reserved per task")
    mem_per_cpu_gb: float = Field(2, gt=0, description="memory reserved per CPU in GB")


class ExecutorConfig(BaseModel):
    """Where the curation tasks run."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["local", "slurm", "ray"] = Field(
        "local", description="local | slurm | ray (datatrove's executors)"
    )
    tasks: int = Field(0, ge=0, description="tasks per stage; 0 = one per input file, at most 64")
    workers: int = Field(0, ge=0, description="tasks run at once; 0 = number of CPU cores")
    slurm: SlurmConfig = Field(default_factory=SlurmConfig, description="kind: slurm options")
    ray: RayConfig = Field(default_factory=RayConfig, description="kind: ray options")

    @model_validator(mode="after")
    def _slurm_partition(self) -> ExecutorConfig:
        # Checked on load: found only when the executor was built, a run had already made
        # its output directory and run marker.
        if self.kind == "slurm" and not self.slurm.partition:
            raise ValueError("slurm.partition: required when executor.kind is slurm")
        return self


TASK_LOG_FORMAT = (
    "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} - {message}"
)


def _console_line(message) -> None:
    """Console sink: a warning or error as one line; a record carrying a traceback not at
    all (it is in the task's log file, and the CLI reports the failure in one line)."""
    record = message.record
    if record["exception"] is not None:
        return
    lines = record["message"].strip().splitlines() or [""]
    more = " (...)" if len(lines) > 1 else ""
    sys.stderr.write(f"{record['level'].name.lower()}: {lines[0]}{more}\n")


def quiet_datatrove_logs() -> None:
    """datatrove prints every task's INFO lines, a stats dump and, when a task fails, a
    loguru traceback (177 lines for a missing Parquet column, 11 tracebacks for a full disk)
    to the console. That tears the progress bar and buries the one-line error the CLI
    prints. It hard-codes its sinks, so replace its task logger: the console gets single-line
    warnings and errors, without tracebacks; the task's log file
    (``<logging_dir>/logs/task_NNNNN.log``) gets everything, tracebacks included, and
    :func:`run_executor` names that file in its one-line error. Applied on import, so worker
    processes get it too."""
    import datatrove.executor.base as base
    import datatrove.utils.logging as dt_logging
    from datatrove.utils.logging import logger

    if getattr(base.add_task_logger, "_qurate_quiet", False):
        return

    def setup_default_logger() -> None:
        logger.remove()
        logger.add(_console_line, level="WARNING")

    def add_task_logger(logging_dir, rank, local_rank=0, node_rank=-1):
        logger.remove()
        logfile = logging_dir.open(f"logs/task_{rank:05d}.log", "w")
        setup_default_logger()
        logger.add(logfile, level="DEBUG", format=TASK_LOG_FORMAT, colorize=False, diagnose=False)
        logger.info(f"Launching pipeline for {rank=}")
        return logfile

    add_task_logger._qurate_quiet = True
    base.add_task_logger = add_task_logger
    dt_logging.setup_default_logger = setup_default_logger
    setup_default_logger()


quiet_datatrove_logs()


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a worker process: be killed when the parent dies, and leave Ctrl-C to the parent.

    Killing only the main ``qurate`` process used to leave pool workers running for minutes
    (parent 1); Ctrl-C reached every worker of the terminal's process group and each printed
    a traceback. ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` makes the kernel kill this process when
    its parent exits (a pool worker's parent is the forkserver, which exits as soon as the
    main process is gone); SIGINT is ignored here because the main process handles it, says
    one line and exits, which takes the workers with it. A task killed this way resumes on
    the next run (datatrove's completion markers). Linux only; elsewhere a no-op.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: workers outlive a killed parent as before
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def _forked_children_die_with_parent() -> None:
    """The same for processes forked from this one by ``multiprocess`` (datatrove's Manager)."""
    global _AFTER_FORK_SET
    if _AFTER_FORK_SET:
        return
    import multiprocess.util

    multiprocess.util.register_after_fork(die_with_parent, lambda _: die_with_parent())
    _AFTER_FORK_SET = True


_AFTER_FORK_SET = False


# Imported in every worker that builds an Arrow array from Python objects (pyarrow imports it
# lazily then, to check for pandas types): 0.4 s per worker per stage here.
_ALWAYS_PRELOAD = ("pandas",)


def preload_in_workers(pipelines: Iterable[Iterable[object]], extra: Iterable[str] = ()) -> None:
    """Have local pool workers start with the modules of these pipelines' steps imported.

    datatrove starts a fresh pool for every stage, and each worker, forked from the
    forkserver, imports what unpickling its steps needs: ~1 s a worker (qurate, datatrove,
    pyarrow, numpy, pandas), on every stage. A forkserver that imports them once makes that
    ~0.1 s: a trivial two-worker stage went from 0.8 s to 0.1 s, and a ``qurate curate`` run
    (seven stages) saves ~5 s of worker start-up whatever its size. Call before the first
    local executor runs: a forkserver that is already running (started by an earlier run in
    this process) keeps what it has, which is only slower, never wrong. ``extra``: more
    modules to import there (modules whose import builds a table every worker would build).
    """
    from multiprocess import forkserver

    modules = {type(step).__module__ for steps in pipelines for step in steps}
    modules.discard("builtins")
    forkserver.set_forkserver_preload(["__main__", *sorted(modules), *_ALWAYS_PRELOAD, *extra])


def _start_forkserver_ignoring_sigint() -> None:
    """Start multiprocess's forkserver (the parent of every local pool worker) with SIGINT
    ignored. A Python started that way keeps ignoring it, and so do the workers it forks:
    Ctrl-C reaches the whole process group, and a worker that got it while unpickling its
    task printed a ``KeyboardInterrupt`` traceback before ``die_with_parent`` could run. The
    main process handles Ctrl-C alone (one line, then it kills its descendants)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    from multiprocess import forkserver

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def kill_descendants() -> int:
    """SIGKILL every process descended from this one (pool workers, the forkserver, the
    Manager, the resource tracker); the number killed. For an interrupted command on its way
    out: a worker left to finish its task would print a ``BrokenPipeError`` traceback when
    it reports to a parent that is gone. Linux (``/proc``); elsewhere 0."""
    import signal

    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return len(found)


class QuietLogs:
    """First step of every qurate pipeline. It passes documents through; its job is that a
    worker process unpickling the pipeline imports this module, which quiets datatrove's
    console logs there before the task starts (see ``quiet_datatrove_logs``), and, in a
    local worker process, ties the worker's life to its parent (``die_with_parent``)."""

    def __init__(self, local: bool = False) -> None:
        self.local = local
        self.main_pid = os.getpid()

    def __call__(self, data, rank: int = 0, world_size: int = 1):
        if self.local and os.getpid() != self.main_pid:
            die_with_parent()
        return data


def make_executor(
    pipeline: list,
    cfg: ExecutorConfig,
    *,
    tasks: int,
    logging_dir: Path,
    job_name: str,
    depends: PipelineExecutor | None = None,
) -> PipelineExecutor:
    """Build the configured datatrove executor for one stage of a run."""
    workers = cfg.workers or None
    steps = [QuietLogs(local=cfg.kind == "local"), *pipeline]
    if cfg.kind == "local":
        _forked_children_die_with_parent()
        import os

        from datatrove.executor import LocalPipelineExecutor

        n = min(tasks, workers or os.cpu_count() or 1)
        if n > 1:
            _start_forkserver_ignoring_sigint()
        return LocalPipelineExecutor(
            steps, tasks=tasks, workers=n, logging_dir=str(logging_dir), depends=depends
        )
    if cfg.kind == "slurm":
        from datatrove.executor import SlurmPipelineExecutor

        if not cfg.slurm.partition:
            raise ConfigError("executor.slurm.partition: required when executor.kind is slurm")
        return SlurmPipelineExecutor(
            steps,
            tasks=tasks,
            workers=cfg.workers or -1,
            time=cfg.slurm.time,
            partition=cfg.slurm.partition,
            cpus_per_task=cfg.slurm.cpus_per_task,
            mem_per_cpu_gb=cfg.slurm.mem_per_cpu_gb,
            qos=cfg.slurm.qos or "normal",
            sbatch_args=cfg.slurm.sbatch_args or None,
            env_command=cfg.slurm.env_command,
            job_name=job_name,
            logging_dir=str(logging_dir),
            depends=depends,
        )
    try:
        import ray
        from datatrove.executor import RayPipelineExecutor
    except ImportError as e:
        raise MissingExtraError("ray", "ray") from e
    if not ray.is_initialized():
        ray.init(address=cfg.ray.address, include_dashboard=False, log_to_driver=False)
    return RayPipelineExecutor(
        steps,
        tasks=tasks,
        workers=cfg.workers or -1,
        cpus_per_task=cfg.ray.cpus_per_task,
        mem_per_cpu_gb=cfg.ray.mem_per_cpu_gb,
        logging_dir=str(logging_dir),
        depends=depends,
    )


def run_executor(executor) -> None:
    """Run a datatrove executor; a failed task is a one-line error naming its log file.

    The error keeps the task's own message (a ``QurateError`` as raised, anything else as
    ``Type: message``) and says where the traceback is; nothing is printed here.

    The ``DATATROVE_*`` variables datatrove sets for a task run in this process (one worker)
    are put back as they were: they described that task, not the caller's environment.
    """
    saved = {k: v for k, v in os.environ.items() if k.startswith("DATATROVE_")}
    try:
        executor.run()
    except QurateError as e:
        e.args = (f"{e} (log: {_failed_log(executor)})",)
        raise
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise QurateError(
            f"a task failed: {type(e).__name__}{': ' + first if first else ''} "
            f"(traceback in {_failed_log(executor)})"
        ) from e
    finally:
        _restore_datatrove_env(saved)
    incomplete = executor.get_incomplete_ranks(skip_completed=True)
    if incomplete:
        raise BadInputError(
            f"{len(incomplete)} task(s) failed; see the logs in {executor.logging_dir.path}"
        )


def _restore_datatrove_env(saved: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith("DATATROVE_")]:
        if key not in saved:
            del os.environ[key]
    os.environ.update(saved)


def _failed_log(executor) -> str:
    """The log file of the first unfinished task that logged an error, else the logs folder."""
    root = Path(executor.logging_dir.path)
    try:
        ranks = executor.get_incomplete_ranks(skip_completed=True)
    except Exception:
        ranks = []
    for rank in ranks:
        log = root / "logs" / f"task_{rank:05d}.log"
        try:
            if log.is_file() and "| ERROR" in log.read_text(errors="replace"):
                return str(log)
        except OSError:
            continue
    return str(root / "logs")
