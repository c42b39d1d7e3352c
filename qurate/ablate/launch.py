"""One (arm, seed) training run as one ``torchrun`` job: the GPU path of ``qurate ablate``.

With ``launcher: torchrun`` the ablation writes the run's ``TrainConfig`` (the shared recipe
with the arm's data, run directory and seed) to ``OUT/<arm>/seed-<k>/recipe.json`` and runs

    python -m torch.distributed.run --standalone --nproc-per-node N -m qurate.ablate.launch recipe.json

(``torch.distributed.run`` is what the ``torchrun`` script runs; calling it through the
ablation's own interpreter keeps the job in the same environment whatever is on ``PATH``).
Every rank calls the trainer (``qurate.train.api.train_config``, which joins the process
group: NCCL on GPUs, gloo on CPU; DDP, the trainer's default); rank 0 writes
``train.json`` with what the trainer returned. The parent then evaluates the final
checkpoint in its own process, exactly as the local launcher does, so results are collected
the same way. Jobs run one after another (each takes the ``nproc_per_node`` devices it asks
for); a killed job resumes from its last checkpoint on the next ``qurate ablate``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from qurate.contract.stagedir import atomic_write_text
from qurate.errors import QurateError

RECIPE = "recipe.json"
TRAINED = "train.json"
TAIL_CHARS = 2000  # of a failed job's output, in the one-line error


def torchrun_command(recipe_path: str | Path, nproc_per_node: int) -> list[str]:
    """The command line of one job (a list for ``subprocess``, no shell)."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc_per_node}",
        "-m",
        "qurate.ablate.launch",
        str(recipe_path),
    ]


def train_torchrun(tcfg: Any, run: Path, nproc_per_node: int) -> dict[str, Any]:
    """Train ``tcfg`` (a ``TrainConfig``) as one torchrun job; what rank 0 wrote to
    ``train.json``. A job that fails is a one-line error with the end of its output."""
    run.mkdir(parents=True, exist_ok=True)
    recipe = run / RECIPE
    atomic_write_text(recipe, tcfg.model_dump_json(indent=1))
    (run / TRAINED).unlink(missing_ok=True)  # only this job's answer counts
    cmd = torchrun_command(recipe, nproc_per_node)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env())
    if proc.returncode != 0 or not (run / TRAINED).is_file():
        tail = (proc.stderr or proc.stdout or "")[-TAIL_CHARS:].strip().replace("\n", " | ")
        raise QurateError(  # the job's own error is in the tail; the CLI prints one line
            f"torchrun job for {run} failed (exit {proc.returncode}): {' '.join(cmd)}: {tail}"
        )
    return json.loads((run / TRAINED).read_text())


def _env() -> dict[str, str]:
    """The parent's environment, with this checkout first on the path of every rank."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def main(argv: list[str] | None = None) -> int:
    """Entry point of every rank: train the recipe; rank 0 writes ``train.json``."""
    from qurate.train.api import TrainConfig, train_config

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m qurate.ablate.launch RECIPE.json", file=sys.stderr)
        return 2
    recipe = Path(args[0])
    tcfg = TrainConfig.model_validate_json(recipe.read_text())
    res = train_config(tcfg, resume=True)
    if int(os.environ.get("RANK", "0")) == 0:
        facts = {
            "tokens": res.tokens,
            "steps": res.steps,
            "params": res.params,
            "batch_tokens": res.batch_tokens,
            "lr": res.lr,
            "final_loss": res.final_loss,
            "checkpoint": str(res.checkpoint),
            "world_size": int(os.environ.get("WORLD_SIZE", "1")),
        }
        atomic_write_text(recipe.parent / TRAINED, json.dumps(facts, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
