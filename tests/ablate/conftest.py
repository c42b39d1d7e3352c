"""Shared fixtures: toy corpora as JSONL, and one tiny model trained once on known facts."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # tiny models; several jobs share the machine's cores

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


@pytest.fixture(scope="session")
def fact_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen2.5 trained on the four facts (the 'fixed model' the proofs score)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from qurate.train.api import train

    base = tmp_path_factory.mktemp("fact-model")
    data = base / "data"
    data.mkdir()
    texts = [r["text"] for r in fact_docs(400)]
    pq.write_table(pa.table({"text": texts}), data / "part-00000.parquet")
    train(
        data,
        base / "run",
        preset="tiny",
        max_steps=60,
        seq_len=32,
        micro_batch_size=8,
        batch_tokens=256,
        lr=3e-3,
        tokenizer_vocab=300,
        eval_every=0,
        save_every=60,
    )
    return base / "run"


@pytest.fixture
def jsonl():
    return write_jsonl
