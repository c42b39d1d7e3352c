"""Fixtures for the ablate tests (builders live in ablate_builders.py): one tiny model
trained once on known facts, and a JSONL writer."""

from __future__ import annotations

from pathlib import Path

import pytest
from ablate_builders import fact_docs, write_jsonl

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # tiny models; several jobs share the machine's cores


@pytest.fixture(scope="session")
def fact_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen2.5 trained on the four facts (the 'fixed model' the proofs score)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from qurate.contract.stagedir import write_manifest
    from qurate.train.api import train

    base = tmp_path_factory.mktemp("fact-model")
    data = base / "data"
    data.mkdir()
    texts = [r["text"] for r in fact_docs(400)]
    pq.write_table(pa.table({"text": texts}), data / "part-00000.parquet")
    # a finished stage directory: the trainer refuses one without a manifest
    write_manifest(
        data,
        stage="test",
        config_hash="t",
        inputs=[],
        n_in=len(texts),
        n_kept=len(texts),
        rejected_by_reason={},
    )
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
