"""`post data`: every input row is kept or rejected with a reason; nothing is truncated."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
from post_builders import write_jsonl

from qurate.contract.shards import iter_rows
from qurate.post.config import DataConfig
from qurate.post.data import build_chat_data


def _chats(tmp_path: Path) -> Path:
    questions = [
        "Tell me a fact about the number seven.",
        "Why does ice float on liquid water in lakes?",
        "Name three rivers that flow through Germany.",
    ]
    ok = [
        {
            "messages": [
                {"role": "user", "content": q},
                {"role": "assistant", "content": f"An answer to: {q}"},
            ],
            "capability": "logical_reasoning",
            "extra_field": 1,
        }
        for q in questions
    ]
    rows = [
        *ok,
        {
            "prompt": "Write a haiku about winter snowfall on mountains",
            "response": "Snow on peaks.",
        },
        {"messages": [{"role": "robot", "content": "hi"}, {"role": "assistant", "content": "x"}]},
        {"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "x"}]},
        {"messages": "not a list"},
        {"messages": [{"role": "user", "content": "only a question"}]},
        {
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"},
                {"role": "user", "content": "c"},
            ]
        },
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "  "}]},
        {
            "messages": [
                {"role": "user", "content": "long " * 400},
                {"role": "assistant", "content": "ok"},
            ]
        },
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Tell me a fact about the number seven."},
                {"role": "assistant", "content": "Another answer."},
            ]
        },
    ]
    return write_jsonl(tmp_path / "chats.jsonl", rows)


def test_every_row_kept_or_rejected_with_its_reason(tmp_path):
    r = build_chat_data([_chats(tmp_path)], tmp_path / "sft", DataConfig(max_tokens=200))
    assert r.n_in == 12 and r.kept + sum(r.rejected.values()) == r.n_in
    assert r.rejected == {
        "bad_roles": 3,
        "no_assistant": 2,
        "empty_turn": 1,
        "too_long": 1,
        "duplicate": 1,
    }
    rows = list(iter_rows(tmp_path / "sft"))
    assert {row["capability"] for row in rows} == {"logical_reasoning", "other"}
    for row in rows:
        assert row["messages"][-1]["role"] == "assistant"
        assert row["text"].startswith("user: ") and row["n_prompt_tokens"] > 0
        assert row["n_response_tokens"] > 0
    rejects = list(iter_rows(tmp_path / "sft", rejects=True))
    long = [x for x in rejects if x["reject_reason"] == "too_long"][0]
    assert long["messages"][0]["content"] == "long " * 400  # kept whole, never cut
    dup = [x for x in rejects if x["reject_reason"] == "duplicate"][0]
    assert dup["messages"][0]["role"] == "system"  # the later copy of the same user turn goes


def test_stage_dir_loads_in_duckdb_and_pyarrow(tmp_path):
    build_chat_data([_chats(tmp_path)], tmp_path / "sft", DataConfig(max_tokens=200))
    n = duckdb.sql(
        f"select count(*) from '{tmp_path}/sft/part-*.parquet' where len(messages) = 2"
    ).fetchall()[0]
    assert n[0] == 4
    t = pq.read_table(tmp_path / "sft" / "part-00000.parquet")
    assert t.schema.field("messages").type.value_type.names == ["role", "content"]


def test_synth_output_becomes_conversations_and_contamination_is_caught(synth_dir, tmp_path):
    bench = write_jsonl(
        tmp_path / "bench.jsonl",
        [{"id": "gsm-1", "text": "What is 2 + 5? Put the final answer in a box."}],
    )
    cfg = DataConfig(benchmarks=[str(bench)])
    r = build_chat_data([synth_dir], tmp_path / "sft", cfg)
    rejects = list(iter_rows(tmp_path / "sft", rejects=True))
    assert r.rejected.get("contaminated") == 2
    assert {x["reject_detail"] for x in rejects if x["reject_reason"] == "contaminated"} == {
        "gsm-1"
    }
    kept = list(iter_rows(tmp_path / "sft"))
    assert kept and all(k["capability"] == "math" for k in kept)
    assert all("\\boxed" in k["messages"][1]["content"] for k in kept)
    manifest = json.loads((tmp_path / "sft" / "manifest.json").read_text())
    assert manifest["counts"]["in"] == 8  # the synth dir's kept samples


def test_pool_makes_rows_duplicates_and_rerun_is_a_noop(tmp_path):
    chats = _chats(tmp_path)
    build_chat_data([chats], tmp_path / "old", DataConfig(max_tokens=200))
    r = build_chat_data(
        [chats], tmp_path / "new", DataConfig(max_tokens=200, pool=[str(tmp_path / "old")])
    )
    assert r.kept == 0 and r.rejected["duplicate"] == 5
    again = build_chat_data(
        [chats], tmp_path / "new", DataConfig(max_tokens=200, pool=[str(tmp_path / "old")])
    )
    assert again.kept == 0 and again.n_in == r.n_in
