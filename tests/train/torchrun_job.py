"""One 2-process CPU torchrun job for the data-parallel tests: both modes (DDP, FSDP) in
one launch, each rank running ``train_config`` on the same fields.

A rank of such a job has twice (2 of 5 clean-clone suites in one session, never alone or
in ~40 loaded reruns) died at exit with "terminate called without an active exception",
after its run had finished: metrics, plan and checkpoints written. What is known: DDP keeps
Python references to the gloo process group that ``destroy_process_group`` does not drop
(a bare ``DistributedDataParallel(nn.Linear)`` does it too), so gloo's threads live until
the interpreter exits; leaving the group at exit did not stop the abort. Such a job is run
again once, into fresh directories, with a warning; any other failure, or the abort twice,
fails the test. ``PYTHONFAULTHANDLER`` puts each rank's Python stack in the output if it
happens again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

WORKER = """
import json, sys, torch
torch.set_num_threads(1)
from qurate.train.api import load_config, train_config
for fields in json.loads(sys.argv[1]):  # one launch for both modes: startup is the cost
    train_config(load_config(None, **fields))
"""

EXIT_ABORT = "terminate called without an active exception"


def run_two_processes(runs: list[dict], workdir: Path, port: int) -> None:
    """Train each of ``runs`` (``train_config`` fields, each with its own ``out``) with
    ``--nproc_per_node 2``; raise AssertionError with the end of stderr on failure."""
    (workdir / "worker.py").write_text(WORKER)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    cmd += ["--master_port", str(port), str(workdir / "worker.py"), json.dumps(runs)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}
    for attempt in (1, 2):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        if proc.returncode == 0:
            return
        if attempt == 2 or EXIT_ABORT not in proc.stderr:
            break
        warnings.warn(
            f"torchrun rank aborted at exit; running the job again: {proc.stderr[-500:]}",
            stacklevel=2,
        )
        for run in runs:
            shutil.rmtree(run["out"], ignore_errors=True)
    raise AssertionError(proc.stderr[-3000:])
