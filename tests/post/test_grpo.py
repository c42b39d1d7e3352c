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


def _sampled_reward(model_dir, prompts: list[dict], n: int = 4) -> float:
    """Mean math-verifier reward of ``n`` sampled completions per prompt (no reward = 0)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from qurate.post.rewards import math_reward

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    torch.manual_seed(0)
    scores: list[float | None] = []
    for p in prompts:
        msgs = [{"role": "user", "content": p["prompt"]}]
        enc = tok.apply_chat_template(
            msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        out = model.generate(
            **enc, do_sample=True, temperature=1.0, max_new_tokens=16, num_return_sequences=n
        )
        texts = tok.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
        scores += math_reward(texts, reference=[p["reference"]] * n)
    return sum(s or 0.0 for s in scores) / len(scores)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_grpo_raises_sampled_verifier_reward_after_sft(tiny_chat, tmp_path, seed):
    """SFT teaches the format with answers 2, 3 or 4 to "one plus two"; GRPO with the math
    verifier then moves the policy toward 3 (completions get 16 tokens: at 8 the byte-level
    `\\boxed{3}` is cut and every reward is 0)."""
    from post_builders import chat_dir

    from qurate.post.trainers import run_sft

    rng = random.Random(seed)
    warm = [
        {
            "messages": [
                {"role": "user", "content": p["prompt"]},
                {"role": "assistant", "content": f"\\boxed{{{rng.choice([2, 3, 4])}}}"},
            ]
        }
        for p in _prompts(96, seed + 10)
    ]
    sft_cfg = PostConfig(
        device="cpu", sft={"learning_rate": 5e-3, "batch_size": 4, "max_tokens": 256, "seed": seed}
    )
    data = chat_dir(tmp_path / "warm", warm)
    sft = run_sft(tiny_chat, [str(data)], tmp_path / "sft", sft_cfg, max_steps=60)
    held = _prompts(12, seed + 100)
    before = _sampled_reward(sft.final, held)
    prompts = write_jsonl(tmp_path / "p.jsonl", _prompts(32, seed + 20))
    cfg = PostConfig(
        device="cpu",
        grpo={
            "learning_rate": 2e-3,
            "num_generations": 8,
            "batch_size": 16,
            "max_completion_tokens": 16,
            "seed": seed,
        },
    )
    r = run_grpo(sft.final, prompts, tmp_path / "grpo", ["math"], cfg, max_steps=12)
    after = _sampled_reward(r.final, held)
    assert after >= before + 0.1, (before, after)
