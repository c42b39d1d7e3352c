"""`qurate post` as a user meets it: one-line errors, and a kill mid-run then --resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from post_builders import chat_dir, color_chats, write_jsonl

REPO = Path(__file__).resolve().parents[2]


def qurate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "qurate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def _one_line(proc: subprocess.CompletedProcess, message: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [
        x
        for x in proc.stderr.splitlines()
        if x.strip() and not x.startswith(("Loading", "Writing"))
    ]
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_post_data_cli_counts(tmp_path):
    write_jsonl(
        tmp_path / "c.jsonl",
        [{"prompt": "Why is the sky blue today?", "response": "Scattering."}, {"messages": []}],
    )
    proc = qurate("post", "data", "c.jsonl", "-o", "sft", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "2 in, 1 kept, 1 rejected" in proc.stdout


def test_user_mistakes_are_one_line(tmp_path, tiny_chat):
    from qurate.llm.testing import build_tiny_classifier

    rm = build_tiny_classifier(tmp_path / "rm")
    _one_line(
        qurate("post", "sft", "--model", str(rm), "--data", "x", "-o", "run", cwd=tmp_path),
        "not a causal LM",
    )
    _one_line(
        qurate("post", "pairs", "nowhere", "-o", "p", cwd=tmp_path),
        "nowhere: no such directory",
    )
    (tmp_path / "bad.yaml").write_text("post:\n  sft:\n    nope: 1\n")
    _one_line(
        qurate("post", "data", "x.jsonl", "-o", "o", "-c", "bad.yaml", cwd=tmp_path),
        "post.sft.nope: unknown key",
    )
    # a tokenizer with no end-of-turn token
    nt = tmp_path / "noturn"
    shutil.copytree(tiny_chat, nt)
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(
        ["hello world"] * 4, trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"])
    )
    for f in nt.glob("tokenizer*"):
        f.unlink()
    PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>").save_pretrained(
        str(nt)
    )
    data = chat_dir(tmp_path / "sft", color_chats(4))
    _one_line(
        qurate("post", "sft", "--model", str(nt), "--data", str(data), "-o", "run", cwd=tmp_path),
        "no <|im_end|> token",
    )


@pytest.mark.slow
def test_kill_mid_run_then_resume(tmp_path, tiny_chat):
    data = chat_dir(tmp_path / "sft", color_chats(64))
    (tmp_path / "post.yaml").write_text(
        "post:\n  device: cpu\n  sft: {save_steps: 3, batch_size: 2, max_tokens: 256, packing: false}\n"
    )
    args = [
        "post",
        "sft",
        "--model",
        str(tiny_chat),
        "--data",
        str(data),
        "-o",
        "run",
        "-c",
        "post.yaml",
        "--max-steps",
        "36",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qurate", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ck = tmp_path / "run" / "phase-1" / "checkpoint-6" / "trainer_state.json"
    deadline = time.time() + 300
    # Killed as soon as step 6's checkpoint is whole (trainer_state.json is written after the
    # weights and optimiser): 30 steps are left, far more than one poll interval on any machine.
    while not ck.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ck.exists() and not (tmp_path / "run" / "manifest.json").exists()
    # without --resume another config is refused; with it the run continues from its checkpoint
    done = qurate(*args, "--resume", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("36 steps on 64 rows"), done.stdout
    recs = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in recs]
    assert steps == sorted(set(steps)) and steps[-1] == 36, steps
    assert (tmp_path / "run" / "final" / "config.json").is_file()
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["counts"]["in"] == 64
