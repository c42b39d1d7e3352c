"""Builders for the ablate tests: toy corpora as JSONL and the facts the fixed model learns."""

from __future__ import annotations

import json
import random
from pathlib import Path

from qurate.ablate.config import AblateConfig

FACTS = {
    "the capital of france is": "paris",
    "the colour of the sky is": "blue",
    "the cat sat on the": "mat",
    "two plus two is": "four",
}
WORDS = "the cat sat on a mat while data engineers curate corpora for language models".split()


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def word_docs(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [
        {"text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60))) + "."}
        for _ in range(n)
    ]


def fact_docs(n: int) -> list[dict]:
    items = list(FACTS.items())
    return [{"text": f"{q} {a}."} for i in range(n) for q, a in [items[i % len(items)]]]


SMALL = {"tokens": 1024, "seq_len": 32, "micro_batch_size": 4, "batch_tokens": 128, "lr": 3e-3}


def small_cfg(arms: dict, evals: dict, **kw) -> AblateConfig:
    """An ablation small enough for a test: one seed, a 512-token vocabulary, 1,024 tokens."""
    return AblateConfig(
        arms={k: str(v) for k, v in arms.items()},
        evals={k: str(v) for k, v in evals.items()},
        tokenizer_chars=50_000,
        model={"vocab_size": 512},
        **{**SMALL, "seeds": 1, **kw},
    )
