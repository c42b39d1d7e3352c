"""``qurate ablate``: train one proxy model per arm and seed with one recipe, then evaluate.

Order of work: read and check every evaluation and arm first (a bad file fails in seconds,
not after hours of training), train or load the shared tokenizer, write each arm's
training shard (sampled or repeated to the budget), then run the (arm, seed) jobs, one
after another or ``parallel`` at once in worker processes that split the cores. A job
trains with the built-in trainer (``qurate.train.api``; with ``launcher: torchrun`` as one
``torchrun`` job, ``ablate/launch.py``) into ``OUT/<arm>/seed-<k>/``,
evaluates the final checkpoint and writes ``result.json`` there last (atomically): a job
with that file is finished, so a killed ablation resumes keeping finished runs, and an
interrupted run continues from its last checkpoint. The output directory follows the
stage rerun policy (``StageDir``: same run again is a no-op, another run needs
``--overwrite``, one lock).
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from qurate.ablate.arms import (
    ArmData,
    arm_texts,
    check_eval_window,
    check_recipe,
    prepare_arm,
    recipe,
    shared_tokenizer,
)
from qurate.ablate.config import AblateConfig
from qurate.ablate.launch import train_torchrun
from qurate.ablate.leakage import leakage_table
from qurate.ablate.scoring import load_model
from qurate.ablate.summary import curves, summarize
from qurate.ablate.tasks import EvalSet, load_eval, run_eval
from qurate.contract.stagedir import (
    StageDir,
    atomic_write_text,
    config_hash,
    fingerprint,
)
from qurate.errors import BadInputError, ConfigError

RESULT = "result.json"
TRAIN_FACTS = ("tokens", "steps", "params", "batch_tokens", "lr", "final_loss")
RESULTS = "results.json"
Say = Callable[[str], None]


def load_evals(cfg: AblateConfig) -> dict[str, EvalSet]:
    """Every evaluation, checked (a one-line error for one with no usable rows)."""
    return {n: load_eval(n, p, cfg.eval_max_docs) for n, p in cfg.evals.items()}


def evaluate_model(
    model_path: str | Path,
    evals: dict[str, EvalSet],
    cfg: AblateConfig,
    *,
    progress: bool = False,
) -> dict[str, dict[str, Any]]:
    """Every evaluation's metrics on one model, with the wall time of each. ``progress``: a
    bar per evaluation on stderr (windows scored, or prompts generated)."""
    from qurate.progress import Bar

    lm = load_model(model_path)
    check_eval_window(cfg, lm.model.config.max_position_embeddings, str(model_path))
    out = {}
    for name, ev in evals.items():
        t0 = time.perf_counter()
        unit = "prompts" if ev.kind == "gen" else "windows"
        with Bar(f"eval {name}", None, enabled=progress, unit=unit, transient=True) as bar:
            res = run_eval(
                lm,
                ev,
                seq_len=cfg.eval_seq_len,
                batch_size=cfg.eval_batch_size,
                max_new_tokens=cfg.max_new_tokens,
                on_rows=bar.update,
            )
        res["wall_s"] = round(time.perf_counter() - t0, 3)
        if not math.isfinite(res["value"]):  # a NaN metric was printed and written, exit 0
            raise BadInputError(
                f"{model_path}: eval {name} gives {res['metric']} {res['value']}: the model's "
                "outputs are not finite (NaN or infinite weights?)"
            )
        out[name] = res
    return out


def _job(
    arm: ArmData,
    seed: int,
    run_dir: str,
    tok_dir: str,
    evals: dict[str, EvalSet],
    cfg: AblateConfig,
    threads: int | None,
    on_event: Any = None,
) -> dict[str, Any]:
    """Train (or resume) one arm and seed, evaluate it, write ``result.json``.
    ``on_event``: the trainer's events (a progress bar; local launcher only)."""
    import torch

    from qurate.train.api import train_config

    if threads:
        torch.set_num_threads(threads)
    run = Path(run_dir)
    done = run / RESULT
    if done.is_file():
        return json.loads(done.read_text())
    tcfg = recipe(cfg, arm.data_dir, run, seed, tokenizer=tok_dir)
    t0 = time.perf_counter()
    if cfg.launcher == "torchrun":
        trained = train_torchrun(tcfg, run, cfg.nproc_per_node)
    else:
        res = train_config(tcfg, resume=True, on_event=on_event)
        trained = {k: getattr(res, k) for k in TRAIN_FACTS} | {"checkpoint": str(res.checkpoint)}
    train_s = time.perf_counter() - t0
    record = {
        "arm": arm.name,
        "seed": seed,
        "run_dir": str(run),
        **{k: trained[k] for k in TRAIN_FACTS},
        "launcher": cfg.launcher,
        "train_wall_s": round(train_s, 3),
        "evals": evaluate_model(trained["checkpoint"], evals, cfg),
    }
    atomic_write_text(done, json.dumps(record, indent=2))
    return record


def _threads(parallel: int) -> int | None:
    if parallel <= 1:
        return None
    return max(1, (os.cpu_count() or 1) // parallel)


def run_ablation(
    cfg: AblateConfig,
    out: str | Path,
    *,
    overwrite: bool = False,
    say: Say = lambda s: None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run the ablation ``cfg`` describes into ``out``; returns what ``results.json`` holds.
    ``progress``: a training bar per proxy run on stderr (runs one at a time only)."""
    if cfg.launcher == "torchrun" and cfg.parallel > 1:
        raise ConfigError(
            "ablate: launcher torchrun runs one job at a time over nproc_per_node devices; "
            "set parallel: 1 (or launcher: local)"
        )
    if len(cfg.arms) < 1:
        raise ConfigError("ablate: give at least one arm NAME=PATH (two to compare)")
    if not cfg.evals:
        raise ConfigError("ablate: give at least one evaluation with --eval NAME=PATH")
    check_recipe(cfg)
    evals = load_evals(cfg)
    loaded = {name: arm_texts(name, path) for name, path in cfg.arms.items()}
    out = Path(out)
    inputs = [*cfg.arms.values(), *cfg.evals.values(), *([cfg.tokenizer] if cfg.tokenizer else [])]
    # inputs: `-o ARM --overwrite` deleted that arm's shards
    sd = StageDir(out, "ablate", overwrite=overwrite, inputs=inputs)
    with sd:
        if sd.begin(fingerprint(cfg, inputs)) is not None:
            say("this ablation is already finished in the output directory")
            return json.loads((out / RESULTS).read_text())
        say("tokenizer: " + ("given" if cfg.tokenizer else "one BPE on an equal share of each arm"))
        tok = shared_tokenizer({n: r for n, (r, _) in loaded.items()}, cfg, out / "tokenizer")
        arms = {
            name: prepare_arm(name, rows, facts, tok, cfg, out / name / "data")
            for name, (rows, facts) in loaded.items()
        }
        for a in arms.values():
            skipped = f"; {a.no_text:,} rows without text skipped" if a.no_text else ""
            say(f"arm {a.name}: {a.tokens:,} tokens, {a.mode} (epochs {a.epochs:g}){skipped}")
        say("leakage check of the evaluations against every arm")
        leakage = leakage_table(
            {n: [r["text"] for r in rows] for n, (rows, _) in loaded.items()},
            {n: ev.texts for n, ev in evals.items()},
            ngram=cfg.leakage_ngram,
            jaccard=cfg.leakage_jaccard,
        )
        jobs = [(a, k) for a in arms.values() for k in range(cfg.seeds)]
        records = _run_jobs(jobs, out, evals, cfg, say, progress)
        results = {
            "tokens": cfg.tokens,
            "preset": cfg.preset,
            "seeds": cfg.seeds,
            "arms": {n: a.facts() for n, a in arms.items()},
            "evals": {
                n: {"kind": e.kind, "path": e.path, "docs": len(e.rows), "rejected": e.rejected}
                for n, e in evals.items()
            },
            "runs": records,
            "summary": summarize(records),
            "leakage": leakage,
            "curves": curves(records),
        }
        atomic_write_text(out / RESULTS, json.dumps(results, indent=2))
        n_rows = {n: len(e.rows) + sum(e.rejected.values()) for n, e in evals.items()}
        rejected = {
            f"{n}:{reason}": k for n, e in evals.items() for reason, k in e.rejected.items()
        }
        sd.finish(
            config_hash=config_hash(cfg),
            inputs=inputs,
            n_in=sum(n_rows.values()),
            n_kept=sum(len(e.rows) for e in evals.values()),
            rejected_by_reason=rejected,
            extra={"ablation": RESULTS, "arms": list(arms), "evals": list(evals)},
        )
    return results


def _view(label: str) -> Any:
    """A training bar on stderr for one proxy run (``qurate.train.progress``)."""
    from rich.console import Console

    from qurate.train.progress import TrainView

    # markup off, as the CLI's console: the start line holds the user's paths
    return TrainView(Console(stderr=True, markup=False), label)


def _run_jobs(
    jobs: list[tuple[ArmData, int]],
    out: Path,
    evals: dict[str, EvalSet],
    cfg: AblateConfig,
    say: Say,
    progress: bool = False,
) -> list[dict[str, Any]]:
    tok_dir = str(out / "tokenizer")
    args = [(a, k, str(out / a.name / f"seed-{k}"), tok_dir, evals, cfg) for a, k in jobs]
    if cfg.parallel <= 1:
        records = []
        for a in args:
            say(f"train + eval: arm {a[0].name}, seed {a[1]}")
            view = _view(f"{a[0].name} seed {a[1]}") if progress else None
            try:
                records.append(_job(*a, None, view))
            finally:
                if view is not None:
                    view.stop()
        return records
    threads = _threads(cfg.parallel)
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=cfg.parallel, mp_context=ctx) as pool:
        futures = [pool.submit(_job, *a, threads) for a in args]
        say(f"{len(futures)} runs, {cfg.parallel} at once")
        return [f.result() for f in futures]
