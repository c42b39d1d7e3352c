"""Map the config's ``executor`` key to datatrove's own executors (local, Slurm, Ray).

qurate never schedules tasks itself: each stage of a run is a datatrove pipeline, handed to
``LocalPipelineExecutor``, ``SlurmPipelineExecutor`` or ``RayPipelineExecutor`` with a
logging directory inside the run's work folder. Their completion markers are what make a
rerun skip finished tasks and a killed run resume.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from datatrove.executor.base import PipelineExecutor
from pydantic import BaseModel, ConfigDict, Field

from qurate.errors import BadInputError, ConfigError, MissingExtraError


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


def quiet_datatrove_logs() -> None:
    """datatrove prints every task's INFO lines and a stats dump to the console, which tears
    the progress bar and buries the summary. It hard-codes that level, so route its console
    sink through the level it gives non-first local tasks (ERROR); the full logs stay in
    each stage's logging folder. Applied on import, so worker processes get it too."""
    import datatrove.executor.base as base
    import datatrove.utils.logging as dt_logging
    from datatrove.utils.logging import logger

    if getattr(base.add_task_logger, "_qurate_quiet", False):
        return
    original = base.add_task_logger

    def add_task_logger(logging_dir, rank, local_rank=0, node_rank=-1):
        return original(logging_dir, rank, local_rank=1, node_rank=node_rank)

    def setup_default_logger() -> None:
        logger.remove()
        logger.add(sys.stderr, level="WARNING")

    add_task_logger._qurate_quiet = True
    base.add_task_logger = add_task_logger
    dt_logging.setup_default_logger = setup_default_logger
    setup_default_logger()


quiet_datatrove_logs()


class QuietLogs:
    """First step of every qurate pipeline. It passes documents through; its job is that a
    worker process unpickling the pipeline imports this module, which quiets datatrove's
    console logs there before the task starts (see ``quiet_datatrove_logs``)."""

    def __call__(self, data, rank: int = 0, world_size: int = 1):
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
    steps = [QuietLogs(), *pipeline]
    if cfg.kind == "local":
        import os

        from datatrove.executor import LocalPipelineExecutor

        n = min(tasks, workers or os.cpu_count() or 1)
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
    """Run a datatrove executor; any task left incomplete is a one-line error naming the logs."""
    executor.run()
    incomplete = executor.get_incomplete_ranks(skip_completed=True)
    if incomplete:
        raise BadInputError(
            f"{len(incomplete)} task(s) failed; see the logs in {executor.logging_dir.path}"
        )
