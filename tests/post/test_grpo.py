"""`post grpo`: runs against our verifier, survives a broken reward, and (slow) learns."""

from __future__ import annotations

import json
import random

import pytest
from post_builders import chat_dir, write_jsonl

from qurate.post.config import PostConfig
from qurate.post.rewards import math_reward
from qurate.post.trainers import run_grpo, run_sft

pytest.importorskip("trl")

WORDS = ["Compute", "Tell me", "What is", "Find", "Give", "Say", "Work out", "Calculate"]


def _prompts(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [
        {"prompt": f"{rng.choice(WORDS)} one plus two, case {i}.", "reference": "3"}
        for i in range(n)
    ]


def _sampled_reward(model_dir, prompts, n=4) -> float:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    torch.manual_seed(0)
    scores = []
    for p in prompts:
        msgs = [{"role": "user", "content": p["prompt"]}]
        enc = tok.apply_chat_template(
            msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        out = model.generate(
            **enc, do_sample=True, temperature=1.0, max_new_tokens=12, num_return_sequences=n
        )
        texts = tok.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
        scores += math_reward(texts, reference=[p["reference"]] * n)
    return sum(s or 0.0 for s in scores) / len(scores)


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


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_grpo_raises_sampled_verifier_reward_after_sft(tiny_chat, tmp_path, seed):
    rng = random.Random(seed)
    warm = [
        {
            "messages": [
                {"role": "user", "content": p["prompt"]},
                {"role": "assistant", "content": f"\\boxed{{{rng.randint(1, 5)}}}"},
            ]
        }
        for p in _prompts(64, seed + 10)
    ]
    sft_cfg = PostConfig(
        device="cpu", sft={"learning_rate": 3e-3, "batch_size": 8, "max_tokens": 256, "seed": seed}
    )
    sft = run_sft(
        tiny_chat, [str(chat_dir(tmp_path / "warm", warm))], tmp_path / "sft", sft_cfg, max_steps=40
    )
    held = _prompts(12, seed + 100)
    before = _sampled_reward(sft.final, held)
    assert 0.0 < before < 0.8, before  # the warm start sometimes succeeds: GRPO has signal
    prompts = write_jsonl(tmp_path / "p.jsonl", _prompts(32, seed + 20))
    cfg = PostConfig(
        device="cpu",
        grpo={
            "learning_rate": 2e-3,
            "num_generations": 8,
            "batch_size": 16,
            "max_completion_tokens": 8,
            "seed": seed,
        },
    )
    r = run_grpo(sft.final, prompts, tmp_path / "grpo", ["math"], cfg, max_steps=15)
    after = _sampled_reward(r.final, held)
    assert after > before + 0.15, (before, after)
