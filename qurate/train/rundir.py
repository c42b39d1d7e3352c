"""A run directory remembers its run, so re-running a command does the right thing.

``RUN/train.yaml`` holds the resolved config of the last start (every field, defaults
included: a YAML that ``-c`` reads back). With it:

- ``qurate train -o RUN --resume`` and nothing else continues the run as it was configured;
  flags given with ``--resume`` override the stored fields (``--max-steps 200`` extends it).
- The same command re-run on a finished run with the same config does nothing and says so,
  which is what makes ``qurate run`` safe to run twice.
- Another config into a directory that holds a run is a one-line error naming
  ``--overwrite`` (clear the directory and start again) and ``--resume``.

A checkpoint's ``train.json`` says whether the run had reached the end of its schedule
(``finished``); a run stopped early (preempted, ``stop_at``) is not finished.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from qurate.errors import BadInputError, ConfigError, one_line
from qurate.train.config import TrainConfig

CONFIG = "train.yaml"
# what two configs may differ in and still be the same run
_NOT_COMPARED = ("out",)


def stored_config(run: Path) -> TrainConfig | None:
    """The config a run directory was last started with, or None."""
    path = run / CONFIG
    if not path.is_file():
        return None
    try:
        return TrainConfig.model_validate(yaml.safe_load(path.read_text()))
    except (yaml.YAMLError, ValueError) as e:
        raise ConfigError(
            f"{path} is not a train config ({one_line(e)}); remove it or pass -c"
        ) from None


def write_config(run: Path, cfg: TrainConfig) -> None:
    """Store the resolved config (written to a temp name, then renamed)."""
    tmp = run / f".{CONFIG}.tmp"
    tmp.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
    tmp.replace(run / CONFIG)


def _given(model: BaseModel) -> dict[str, Any]:
    """Only the fields set explicitly (flags, YAML keys), nested models likewise."""
    out: dict[str, Any] = {}
    for name in model.model_fields_set:
        value = getattr(model, name)
        out[name] = _given(value) if isinstance(value, BaseModel) else value
    return out


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def for_resume(cfg: TrainConfig) -> TrainConfig:
    """The stored config of ``cfg.out`` with the fields set in ``cfg`` on top (or ``cfg``)."""
    stored = stored_config(Path(cfg.out)) if cfg.out else None
    if stored is None:
        return cfg
    raw = _merge(stored.model_dump(mode="json"), json.loads(json.dumps(_given(cfg), default=str)))
    return TrainConfig.model_validate(raw)


def config_diff(old: dict[str, Any], cfg: TrainConfig) -> list[str]:
    """Fields where ``cfg`` differs from a stored config dump (``out`` not compared)."""
    new = cfg.model_dump(mode="json")
    return [
        f"{k}: {old.get(k)!r} -> {new[k]!r}"
        for k in new
        if k not in _NOT_COMPARED and old.get(k) != new[k]
    ]


def check_fresh_start(run: Path, saved: dict[str, Any] | None, cfg: TrainConfig) -> bool:
    """Whether a start without ``--resume`` may go ahead in ``run``; True: it already ran.

    ``saved`` is the latest checkpoint's train state (None: no checkpoint). A finished run
    of the same config is a no-op (True); anything else already there is a one-line error.
    """
    if saved is None:
        return False
    diffs = config_diff(saved["config"], cfg)
    state = "a finished" if saved.get("finished") else "an unfinished"
    if not diffs and saved.get("finished"):
        return True
    if not diffs:
        raise BadInputError(
            f"{run} holds an unfinished run of this config (step {saved['step']}): pass --resume "
            "to continue it, or --overwrite to start again"
        )
    raise BadInputError(
        f"{run} holds {state} run of another config ({'; '.join(diffs[:3])}): pass --overwrite "
        "to clear it and start fresh, --resume to continue it, or use a new -o"
    )


# everything a run writes into its directory; --overwrite removes these and nothing else
RUN_FILES = ("checkpoints", "tokenizer", "metrics.jsonl", "plan.json", CONFIG)


def clear(run: Path) -> None:
    """``--overwrite``: remove what a run left in ``run``. Only the run's own files go, so
    a mistyped -o never costs a user's other files."""
    for name in RUN_FILES:
        path = run / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The rows of a metrics.jsonl (none if there is no file)."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def truncate_metrics(path: Path, step: int) -> None:
    """Keep only the rows a checkpoint at ``step`` covers (atomically)."""
    keep = [r for r in read_metrics(path) if r["step"] <= step]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in keep))
    tmp.replace(path)
