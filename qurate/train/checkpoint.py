"""Checkpoints (atomic, resumable) and Hugging Face export.

A checkpoint is a directory ``RUN/checkpoints/step-00000123/`` that is already a Hugging
Face model directory (``config.json``, ``model.safetensors`` with HF names, tokenizer
files) plus the training state: ``optim.pt`` (AdamW moments keyed by parameter name),
``trainer-rank{R}.pt`` (each process's RNG states and data-loader position) and
``train.json`` (the run config, step and stage). It is written under a temporary name and
renamed when every process has finished, then ``RUN/checkpoints/latest`` is replaced
atomically, so a crash never leaves a half checkpoint that ``--resume`` would pick up.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy._core.multiarray import _reconstruct
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from qurate.contract.stagedir import fingerprint
from qurate.errors import BadInputError, ConfigError, one_line
from qurate.train.hfnames import to_hf_disk
from qurate.train.model import ModelConfig, Qwen2, config_from_hf, config_to_hf
from qurate.train.tokenizer import EOS, HF_TOKENIZER_FILES, load_tokenizer

CKPT_DIR = "checkpoints"
LATEST = "latest"
TRAIN_STATE = "train.json"
_STATE_KEYS = {"step", "tokens", "stage", "config", "model"}  # what resuming reads


def step_dir(run: Path, step: int) -> Path:
    return run / CKPT_DIR / f"step-{step:08d}"


def write_hf_model(directory: Path, model: Qwen2, state: dict[str, torch.Tensor] | None) -> None:
    """config.json + model.safetensors of a Qwen2 (or Qwen2-MoE) model, HF names on disk.

    ``state`` is an in-memory state dict (e.g. FSDP's gathered one); experts are split into
    one tensor per expert, as Qwen's MoE checkpoints store them.
    """
    cfg = model.config
    sd = to_hf_disk(state if state is not None else model.state_dict(), cfg)
    sd = {k: v.detach().to("cpu").contiguous() for k, v in sd.items()}
    save_file(sd, str(directory / "model.safetensors"), metadata={"format": "pt"})
    (directory / "config.json").write_text(json.dumps(config_to_hf(cfg), indent=2))


def write_generation_config(directory: Path, eos: int) -> None:
    gen = {"eos_token_id": eos, "pad_token_id": eos, "do_sample": False}
    (directory / "generation_config.json").write_text(json.dumps(gen, indent=2))


def finalize(tmp: Path, final: Path) -> None:
    """Rename a finished checkpoint into place and point ``latest`` at it."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    latest = final.parent / LATEST
    tmp_latest = final.parent / f".{LATEST}.tmp"
    tmp_latest.write_text(final.name + "\n")
    os.replace(tmp_latest, latest)


def prune(run: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints."""
    steps = sorted((run / CKPT_DIR).glob("step-*"))
    for old in steps[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def latest_checkpoint(run: Path) -> Path | None:
    """The checkpoint ``latest`` points to in a run directory, or None."""
    pointer = run / CKPT_DIR / LATEST
    if pointer.is_file():
        ckpt = run / CKPT_DIR / pointer.read_text().strip()
        if ckpt.is_dir():
            return ckpt
    steps = sorted((run / CKPT_DIR).glob("step-*"))
    return steps[-1] if steps else None


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory from a run directory (its latest) or a checkpoint itself."""
    p = Path(path)
    if (p / "model.safetensors").is_file() and (p / "config.json").is_file():
        return p
    ckpt = latest_checkpoint(p) if p.is_dir() else None
    if ckpt is None:
        raise BadInputError(f"{p} is neither a checkpoint nor a run directory with checkpoints")
    return ckpt


def read_hf_config(directory: Path) -> ModelConfig:
    """The model config of a Hugging Face directory; refuses all but Qwen2 / Qwen2-MoE."""
    path = directory / "config.json"
    if not path.is_file():
        raise BadInputError(f"{directory} has no config.json: not a Hugging Face checkpoint")
    try:
        hf = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise BadInputError(f"{path}: {e}") from None
    if not isinstance(hf, dict):
        raise BadInputError(f"{path}: not a JSON object: not a Hugging Face config")
    try:
        return config_from_hf(hf)
    except (ConfigError, TypeError, ValueError, AttributeError) as e:  # wrong sign or type
        raise BadInputError(f"{path}: {e}") from None


def read_hf_weights(directory: Path) -> dict[str, torch.Tensor]:
    """All tensors of ``model.safetensors`` or a sharded ``model.safetensors.index.json``."""
    index = directory / "model.safetensors.index.json"
    try:
        if index.is_file():
            files = sorted(set(json.loads(index.read_text())["weight_map"].values()))
            sd: dict[str, torch.Tensor] = {}
            for name in files:
                sd.update(load_file(str(directory / name)))
            return sd
        if (directory / "model.safetensors").is_file():
            return load_file(str(directory / "model.safetensors"))
    except (OSError, SafetensorError, KeyError, json.JSONDecodeError) as e:
        raise BadInputError(f"cannot read weights in {directory}: {e}") from None
    raise BadInputError(f"{directory} has no model.safetensors (only safetensors are read)")


def load_hf_model(directory: Path) -> Qwen2:
    """A Qwen2 model with the weights of a Hugging Face (or our) checkpoint directory."""
    cfg = read_hf_config(directory)
    model = Qwen2(cfg)
    model.load_hf_state_dict(read_hf_weights(directory))
    return model


def non_finite_weights(model: torch.nn.Module) -> list[str]:
    """The names of the parameters that hold a NaN or infinite value (none: all finite)."""
    bad = []
    for name, p in model.named_parameters():
        t = p.detach()
        t = t.to_local() if hasattr(t, "to_local") else t  # FSDP: this process's shard
        if not bool(torch.isfinite(t).all()):
            bad.append(name)
    return bad


def check_finite_weights(model: torch.nn.Module, directory: Path, what: str) -> None:
    """Refuse the weights loaded from ``directory`` if any is NaN or infinite: training from
    them diverges at its first step, and ``--resume`` would only diverge again."""
    bad = non_finite_weights(model)
    if bad:
        more = f" and {len(bad) - 1} other tensors" if len(bad) > 1 else ""
        raise BadInputError(
            f"{directory}: its weights hold NaN or infinite values ({bad[0]}{more}); {what}"
        )


def read_train_state(ckpt: Path) -> dict[str, Any]:
    path = ckpt / TRAIN_STATE
    if not path.is_file():
        raise BadInputError(f"{ckpt} has no {TRAIN_STATE}: not a qurate training checkpoint")
    try:
        state = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInputError(f"{_damaged(path)}: {one_line(e)}") from None
    if not isinstance(state, dict) or not _STATE_KEYS <= state.keys():
        raise BadInputError(f"{_damaged(path)}: it lacks one of {', '.join(sorted(_STATE_KEYS))}")
    return state


# What ``trainer-rank{R}.pt`` holds beyond tensors and plain Python values: numpy's RNG state
# (an ndarray of uint32). Nothing else is unpickled, so a checkpoint from elsewhere cannot run
# code on --resume (torch's weights_only loader refuses any other global).
_SAFE_GLOBALS = [_reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]


def load_state(path: Path) -> Any:
    """A checkpoint's ``optim.pt`` or ``trainer-rank{R}.pt``; a missing or cut file (a
    copy that stopped half-way) is a user error that names it, not a pickle traceback.

    Read with ``weights_only=True``: a file that pickles anything but tensors, plain values
    and numpy's RNG state is refused, as loading it could run code."""
    try:
        with torch.serialization.safe_globals(_SAFE_GLOBALS):
            return torch.load(path, weights_only=True)
    except pickle.UnpicklingError as e:
        if "Unsupported global" in str(e):
            raise BadInputError(
                f"cannot resume from {path.parent}: {path.name} holds objects other than "
                "tensors and plain values, and loading it could run code; refused"
            ) from None
        raise BadInputError(f"{_damaged(path)}: {one_line(e)}") from None
    except (OSError, RuntimeError, ValueError, EOFError) as e:
        raise BadInputError(f"{_damaged(path)}: {one_line(e)}") from None


def _damaged(path: Path) -> str:
    return (
        f"cannot resume from {path.parent}: {path.name} is missing or damaged "
        "(delete that checkpoint to resume from an earlier one, or --overwrite)"
    )


# An export directory's record of what it holds: a rerun of the same export is a no-op, and
# any other content (a Hugging Face model from elsewhere, another checkpoint's export) is
# replaced only with --overwrite.
EXPORT_RECORD = ".qurate-export.json"
# weight files of another layout that would be read instead of (or beside) the export's
# model.safetensors: --overwrite removes them with the model it replaces
_OTHER_WEIGHTS = ("model.safetensors.index.json", "model-*.safetensors", "pytorch_model*.bin*")


def _export_fingerprint(ckpt: Path, dtype: str) -> str:
    return fingerprint({"dtype": dtype}, [ckpt])  # the checkpoint's files: names, sizes, times


def _export_record(dst: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((dst / EXPORT_RECORD).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def export_is_current(run_or_ckpt: str | Path, out: str | Path, *, dtype: str = "float32") -> bool:
    """Whether ``out`` already holds the finished export of this checkpoint in ``dtype``."""
    ckpt, dst = resolve_checkpoint(run_or_ckpt), Path(out)
    record = _export_record(dst)
    return (
        record is not None
        and record.get("finished") is True
        and record.get("fingerprint") == _export_fingerprint(ckpt, dtype)
        and all((dst / n).is_file() for n in ("config.json", "model.safetensors"))
    )


def _check_export_target(dst: Path, fp: str, overwrite: bool) -> None:
    """The rerun policy of an export directory (see ``EXPORT_RECORD``)."""
    if overwrite or not dst.is_dir():
        return
    record = _export_record(dst)
    if record is not None and record.get("fingerprint") != fp:
        raise BadInputError(
            f"{dst}: holds the export of another checkpoint or dtype "
            f"({record.get('checkpoint')}, {record.get('dtype')}); pass --overwrite to "
            "replace it, or choose a new -o"
        )
    if record is None and (names := sorted(p.name for p in dst.iterdir())):
        raise BadInputError(
            f"{dst}: not empty and not an export of this checkpoint (holds "
            f"{', '.join(names[:3])}{', ...' if len(names) > 3 else ''}); pass --overwrite "
            "to replace its model files, or choose a new -o"
        )


def export(
    run_or_ckpt: str | Path, out: str | Path, *, dtype: str = "float32", overwrite: bool = False
) -> Path:
    """Write a Hugging Face directory (transformers / vLLM) from a run or checkpoint.

    The same export again is a no-op; a non-empty ``out`` that holds anything else is
    refused unless ``overwrite`` (which replaces the model files and nothing else)."""
    ckpt = resolve_checkpoint(run_or_ckpt)
    dst = Path(out)
    if dst.resolve() == ckpt.resolve():
        raise BadInputError("export needs an output directory other than the checkpoint")
    if (dst / CKPT_DIR).is_dir():  # its model files would shadow the run's later checkpoints
        raise BadInputError(f"{dst}: holds a training run; export to a new -o")
    if _in_checkpoints(dst):  # its weights would be overwritten (in another dtype) in place
        raise BadInputError(
            f"{dst}: is a training checkpoint or inside a run's {CKPT_DIR}/; export to a new -o"
        )
    if dtype not in ("float32", "bfloat16", "float16"):
        raise BadInputError(f"unknown dtype {dtype!r}; valid: float32, bfloat16, float16")
    if not overwrite and export_is_current(ckpt, dst, dtype=dtype):
        return dst  # the same export again: its files (and their times) stay as they are
    fp = _export_fingerprint(ckpt, dtype)
    _check_export_target(dst, fp, overwrite)
    model = load_hf_model(ckpt)
    model = model.to(getattr(torch, dtype))
    dst.mkdir(parents=True, exist_ok=True)
    record = {"checkpoint": str(ckpt.resolve()), "dtype": dtype, "fingerprint": fp}
    (dst / EXPORT_RECORD).write_text(json.dumps({**record, "finished": False}))
    for pattern in _OTHER_WEIGHTS:
        for stale in dst.glob(pattern):
            stale.unlink()
    write_hf_model(dst, model, None)
    cfg = json.loads((dst / "config.json").read_text())
    cfg["torch_dtype"] = dtype
    cfg["dtype"] = dtype
    tok = load_tokenizer(ckpt)
    eos = tok.token_to_id(EOS)
    if eos is not None:
        cfg["eos_token_id"] = cfg["bos_token_id"] = eos
        write_generation_config(dst, eos)
    (dst / "config.json").write_text(json.dumps(cfg, indent=2))
    for name in HF_TOKENIZER_FILES:
        if name != "generation_config.json" and (ckpt / name).is_file():
            shutil.copyfile(ckpt / name, dst / name)
    (dst / EXPORT_RECORD).write_text(json.dumps({**record, "finished": True}))
    return dst


def _in_checkpoints(dst: Path) -> bool:
    """Whether ``dst`` is a training checkpoint, or a run's checkpoints folder or a path
    under it: ``train export RUN -o RUN/checkpoints/step-N`` rewrote that checkpoint's
    weights (in bfloat16 with ``--dtype``), and ``--resume`` then read them back."""
    here = dst.resolve()
    if (here / TRAIN_STATE).is_file():
        return True
    for p in (here, *here.parents):
        if p.name == CKPT_DIR and ((p / LATEST).is_file() or any(p.glob("step-*"))):
            return True
    return False


def rng_state() -> dict[str, Any]:
    """Every RNG a step draws from (torch, CUDA, numpy, Python), for bit-identical resume."""
    state = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])
