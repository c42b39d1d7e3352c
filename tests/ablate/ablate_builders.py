"""Builders for the ablate tests: toy corpora as JSONL and the facts the fixed model learns."""

from __future__ import annotations

import json
import random
from pathlib import Path

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
