"""`post grpo`: runs against our verifier and survives a broken reward."""

from __future__ import annotations

import json
import random

import pytest
from post_builders import write_jsonl

from qurate.post.config import PostConfig
from qurate.post.trainers import run_grpo

pytest.importorskip("trl")

WORDS = ["Compute", "Tell me", "What is", "Find", "Give", "Say", "Work out", "Calculate"]


def _prompts(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [
        {"prompt": f"{rng.choice(WORDS)} one plus two, case {i}.", "reference": "3"}
        for i in range(n)
    ]


def test_grpo_runs_and_survives_a_raising_reward(tiny_chat, tmp_path, monkeypatch):
    import qurate.post.rewards as rw

    def broken(completions, **_):
        raise ValueError("broken reward")

    monkeypatch.setattr(rw, "make_code_reward", lambda *a: broken)
    prompts = write_jsonl(tmp_path / "p.jsonl", _prompts(4, 0))
    cfg = PostConfig(
        device="cpu", grpo={"num_generations": 2, "batch_size": 4, "max_completion_tokens": 6}
    )
    r = run_grpo(tiny_chat, prompts, tmp_path / "run", ["math", "code"], cfg, max_steps=2)
    assert r.steps == 2 and (r.final / "config.json").is_file()
    assert r.extra["reward_failures"]["code"] > 0 and r.extra["reward_failures"]["math"] == 0
    manifest = json.loads((r.out / "manifest.json").read_text())
    assert manifest["reward_failures"]["code"] > 0
