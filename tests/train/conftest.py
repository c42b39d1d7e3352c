"""Shared fixtures: a small deterministic corpus as shards, and a BPE trained on it once."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qurate.contract.stagedir import write_manifest

torch = pytest.importorskip("torch")
# one thread: the tests are tiny, and several jobs share the machine's cores
torch.set_num_threads(1)

WORDS = (
    "the cat sat on a mat while data engineers curate corpora for language models ; "
    "math 1 2 3 + = code def return ( ) : 中文 文本 ."
).split()


def make_shards(
    directory: Path, n_shards: int = 2, docs: int = 120, seed: int = 0, extra: bool = False
) -> Path:
    """``n_shards`` Parquet shards of random word documents (5..60 words)."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for s in range(n_shards):
        texts = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60))) for _ in range(docs)
        ]
        cols = {
            "id": [f"{s}-{i}" for i in range(docs)],
            "text": pa.array(texts, pa.large_string()),
        }
        if extra:  # the mixer's training shards also carry these
            cols["n_tokens"] = [len(t) // 3 for t in texts]
            cols["domain"] = ["web"] * docs
        pq.write_table(pa.table(cols), directory / f"part-{s:05d}.parquet")
    # a finished stage directory: the trainer refuses one without a manifest
    n = n_shards * docs
    write_manifest(directory, stage="test", config_hash="t", inputs=[], n_in=n, n_kept=n,
                   rejected_by_reason={})  # fmt: skip
    return directory


@pytest.fixture(scope="session")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_shards(tmp_path_factory.mktemp("shards"))


@pytest.fixture(scope="session")
def tokenizer_dir(shards: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from qurate.train.api import train_tokenizer

    return train_tokenizer(shards, tmp_path_factory.mktemp("tok"), vocab_size=300)


@pytest.fixture
def shard_maker():
    """``make_shards`` as a fixture (test modules here are not a package)."""
    return make_shards
