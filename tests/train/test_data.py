"""Packing, determinism, resumable position, stream split and bad data directories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from qurate.errors import BadInputError
from qurate.train.data import Loader, Stream, estimate_tokens, list_shards, resolve_packing
from qurate.train.loss import IGNORE_INDEX
from qurate.train.tokenizer import encode, load_tokenizer


def _stream(shards: Path, tok_dir: Path, **kw) -> Stream:
    kw.setdefault("seq_len", 32)
    kw.setdefault("seed", 0)
    return Stream(list_shards(shards), load_tokenizer(tok_dir), **kw)


def _all_docs(shards: Path, tok_dir: Path) -> list[list[int]]:
    tok = load_tokenizer(tok_dir)
    out = []
    for s in list_shards(shards):
        out += [d.tolist() for d in encode(tok, pq.read_table(s).column("text").to_pylist())]
    return out


def test_concat_rows_are_the_document_stream_with_eos(shards: Path, tokenizer_dir: Path) -> None:
    s = _stream(shards, tokenizer_dir, shuffle=False)
    rows = [s.next_row() for _ in range(20)]
    flat = np.concatenate([rows[0][0]] + [r[0][1:] for r in rows[1:]]).tolist()
    docs = _all_docs(shards, tokenizer_dir)
    expect = [t for d in docs for t in d + [s.eos]][: len(flat)]
    assert flat == expect
    batch = s.next_batch(3)
    assert batch["input_ids"].shape == (3, 32) and (batch["labels"] != IGNORE_INDEX).all()


def test_no_split_keeps_documents_whole(tmp_path: Path, tokenizer_dir: Path, shard_maker) -> None:
    shard_maker(tmp_path, n_shards=1, docs=40)
    s = _stream(tmp_path, tokenizer_dir, seq_len=64, packing="no_split", shuffle=False)
    docs = _all_docs(tmp_path, tokenizer_dir)
    seen = []
    for _ in range(12):
        toks, ids, valid = s.next_row()
        for d in np.unique(ids[valid]):
            seen.append(toks[(ids == d) & valid].tolist())
    for piece, doc in zip(seen, docs, strict=False):
        assert piece == (doc + [s.eos])[:65]  # whole (or truncated to a row), never split


def test_order_is_a_function_of_the_seed(shards: Path, tokenizer_dir: Path) -> None:
    a = [_stream(shards, tokenizer_dir, seed=1).next_row()[0] for _ in range(1)]
    b = [_stream(shards, tokenizer_dir, seed=1).next_row()[0] for _ in range(1)]
    c = [_stream(shards, tokenizer_dir, seed=2).next_row()[0] for _ in range(1)]
    assert np.array_equal(a[0], b[0]) and not np.array_equal(a[0], c[0])


def test_state_dict_resumes_exactly(shards: Path, tokenizer_dir: Path) -> None:
    ref = _stream(shards, tokenizer_dir, seq_len=48)
    expect = []
    while ref.pos.epoch < 1 or len(expect) < 10:  # run across both shards into epoch 2
        expect.append(ref.next_row()[0])
    expect += [ref.next_row()[0] for _ in range(20)]
    for cut in (len(expect) // 3, len(expect) - 25):
        s = _stream(shards, tokenizer_dir, seq_len=48)
        for _ in range(cut):
            s.next_row()
        resumed = _stream(shards, tokenizer_dir, seq_len=48)
        resumed.load_state_dict(s.state_dict())
        for want in expect[cut:]:
            assert np.array_equal(resumed.next_row()[0], want)


def test_streams_split_the_documents(tmp_path: Path, tokenizer_dir: Path, shard_maker) -> None:
    shard_maker(tmp_path, n_shards=1, docs=50)
    tok = load_tokenizer(tokenizer_dir)
    loader = Loader(
        list_shards(tmp_path),
        tok,
        seq_len=16,
        micro_batch=1,
        n_streams=2,
        rank=0,
        world=1,
        seed=0,
        packing="concat",
    )
    a, b = loader.next_step()
    assert not torch.equal(a["input_ids"], b["input_ids"])
    other = Loader(
        list_shards(tmp_path),
        tok,
        seq_len=16,
        micro_batch=1,
        n_streams=2,
        rank=1,
        world=2,
        seed=0,
        packing="concat",
    )
    assert torch.equal(other.next_step()[0]["input_ids"], b["input_ids"])


def test_bad_data_directories(tmp_path: Path, tokenizer_dir: Path) -> None:
    with pytest.raises(BadInputError, match="no part"):
        list_shards(tmp_path)
    pq.write_table(pa.table({"id": ["a"], "body": ["x"]}), tmp_path / "part-00000.parquet")
    with pytest.raises(BadInputError, match="no string 'text' column"):
        list_shards(tmp_path)
    pq.write_table(
        pa.table({"text": pa.array(["", None], pa.string())}), tmp_path / "part-00000.parquet"
    )
    with pytest.raises(BadInputError, match="no text to train on"):
        _stream(tmp_path, tokenizer_dir).next_row()


def test_mixer_shards_and_long_context_manifest(tmp_path: Path, shard_maker) -> None:
    shard_maker(tmp_path, n_shards=1, docs=10, extra=True)
    assert estimate_tokens(list_shards(tmp_path)) > 0
    assert resolve_packing(tmp_path, "auto") == "concat"
    # the mix directory lists its stages; a stage directory is the one to keep whole
    (tmp_path / "manifest.json").write_text('{"stage": "mix", "long_context": [{"name": "s1"}]}')
    assert resolve_packing(tmp_path, "auto") == "concat"
    (tmp_path / "manifest.json").write_text('{"stage": "mix-long-context", "long_context": {}}')
    assert resolve_packing(tmp_path, "auto") == "no_split"
