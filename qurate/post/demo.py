"""The post-training step of the embedded demo (``qurate run`` with no config).

After the demo has trained its tiny Qwen2.5, this exports it to a Hugging Face directory and
runs the commands a user would: ``post data`` and ``post pairs`` on the demo's synth output,
then a few steps of SFT on the chat rows and of DPO on the pairs (from the SFT result). The
demo's teacher is small, so its synth output may hold no pair (every sample of a prompt
right, or every one wrong): then DPO is skipped and the summary says why, rather than
training on invented pairs. Losses land in each run's ``metrics.jsonl``, which the report
plots.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qurate.contract.files import files_under
from qurate.post.config import DataConfig, PairsConfig, PostConfig
from qurate.post.data import build_chat_data
from qurate.post.pairs import build_pairs
from qurate.post.runs import read_metrics
from qurate.post.trainers import run_dpo, run_sft


def demo_config(steps: int) -> PostConfig:
    """Small CPU settings: a handful of steps, short sequences, one checkpoint at the end."""
    run = {"batch_size": 2, "save_steps": steps, "learning_rate": 1e-4}
    return PostConfig(
        device="cpu",
        data=DataConfig(max_tokens=1024),
        pairs=PairsConfig(max_prompt_tokens=512),
        sft={**run, "max_tokens": 1024},
        dpo={**run, "max_tokens": 1024, "learning_rate": 5e-5},
    )


def _export_once(train_run: Path, dest: Path) -> Path:
    """The HF export of ``train_run``, redone only when the run changed since: a fresh export
    would give the model new file times, and so the post stages a new fingerprint, and a
    second `qurate run` would refuse to overwrite them."""
    from qurate.train.api import export

    made = dest / "config.json"
    newest = max((f.stat().st_mtime_ns for f in files_under(train_run)), default=0)
    if made.is_file() and made.stat().st_mtime_ns >= newest:
        return dest
    return export(train_run, dest, overwrite=True)  # the demo's own export of an older run


@contextmanager
def quiet_hf_bars() -> Iterator[None]:
    """No transformers / datasets progress bars inside (the demo's and `qurate run`'s post
    steps): a dozen bars of three rows each (loading weights, tokenizing, packing, writing
    shards) buried the run's own lines. Each switch is put back as it was."""
    import datasets
    from transformers.utils import logging as hf_logging

    hf_on, ds_on = hf_logging.is_progress_bar_enabled(), datasets.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if hf_on:
            hf_logging.enable_progress_bar()
        if ds_on:
            datasets.enable_progress_bars()


def run_demo(
    synth_dir: str | Path,
    out: str | Path,
    *,
    train_run: str | Path | None = None,
    model: str | Path | None = None,
    steps: int = 4,
    progress: bool = True,
) -> dict[str, Any]:
    """Post data, post pairs, SFT and DPO on ``synth_dir`` into ``out``; the model is
    ``model`` (an HF directory) or the export of the pretraining run ``train_run``."""
    with quiet_hf_bars():
        return _run_demo(Path(synth_dir), Path(out), train_run, model, steps, progress)


def _run_demo(
    synth_dir: Path,
    out: Path,
    train_run: str | Path | None,
    model: str | Path | None,
    steps: int,
    progress: bool,
) -> dict[str, Any]:
    cfg = demo_config(steps)
    if model is None:
        if train_run is None:
            raise ValueError("post demo: give model or train_run")
        model = _export_once(Path(train_run), out / "hf")
    data = build_chat_data([synth_dir], out / "sft", cfg.data)
    pairs = build_pairs(synth_dir, out / "prefs", cfg.pairs)
    summary: dict[str, Any] = {
        "data": {"in": data.n_in, "kept": data.kept, "rejected": data.rejected},
        "pairs": {"prompts": pairs.prompts, "pairs": pairs.pairs, "rejected": pairs.rejected},
    }
    policy = Path(model)
    if data.kept:
        sft = run_sft(
            model, [str(out / "sft")], out / "sft-run", cfg, max_steps=steps, progress=progress
        )
        policy = sft.final
        summary["sft"] = {"steps": sft.steps, "losses": [r["loss"] for r in read_metrics(sft.out)]}
    else:
        summary["sft"] = {"skipped": "post data kept no conversation"}
    if pairs.pairs:
        dpo = run_dpo(
            policy, out / "prefs", out / "dpo-run", cfg, max_steps=steps, progress=progress
        )
        summary["dpo"] = {"steps": dpo.steps, "losses": [r["loss"] for r in read_metrics(dpo.out)]}
    else:
        summary["dpo"] = {"skipped": "no prompt had both a verified and a verifier-failed sample"}
    return summary


__all__ = ["demo_config", "quiet_hf_bars", "run_demo"]
