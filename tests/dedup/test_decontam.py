"""Decontamination: benchmark n-gram index, the filter, and bad benchmark files.

Benchmark-like records are written here (GSM8K/MMLU-style questions); clean documents are
Python standard-library docstrings (real prose, shipped with the interpreter).
"""

from __future__ import annotations

import gzip
import inspect
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

from qurate.contract.rejects import REJECT_DETAIL, REJECT_REASON
from qurate.dedup.config import DecontamConfig
from qurate.dedup.decontam import DecontamFilter, build_decontam_index
from qurate.errors import BadInputError, ConfigError

BENCH = [
    {
        "id": "gsm8k-17",
        "text": "Natalia sold clips to 48 of her friends in April, and then she sold half as many "
        "clips in May. How many clips did Natalia sell altogether in April and May?",
    },
    {
        "id": "gsm8k-18",
        "text": "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of "
        "babysitting. How much did she earn?",
    },
    {
        "id": "mmlu-3",
        "text": "Which of the following best describes the function of the mitochondria in a cell?",
    },
    {"id": "short", "text": "Paris, France"},
]


def clean_docs() -> list[str]:
    import argparse
    import collections
    import json as json_mod
    import logging
    import subprocess
    import unittest

    mods = [argparse, collections, json_mod, logging, subprocess, unittest]
    docs = [inspect.getdoc(m) for m in mods]
    docs += [inspect.getdoc(c) for c in (argparse.ArgumentParser, logging.Logger, subprocess.Popen)]
    return [d for d in docs if d and len(d.split()) > 30]


def write_jsonl(path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@pytest.fixture
def index(tmp_path):
    bench = tmp_path / "bench.jsonl"
    write_jsonl(bench, BENCH)
    return build_decontam_index([bench], tmp_path / "work")


def run_filter(index_path, texts: list[str]) -> list[Document]:
    docs = [Document(text=t, id=f"d{i}") for i, t in enumerate(texts)]
    return list(DecontamFilter(index_path).run(iter(docs), 0, 1))


def test_pasted_benchmark_item_is_caught_with_its_id(index):
    clean = clean_docs()
    pasted = (
        clean[0][:400]
        + "\n\nQuiz of the day: natalia SOLD clips to 48 of her friends in April -- and then "
        "she sold half as many clips in May!\n\n" + clean[1][:300]
    )
    out = run_filter(index, [pasted, *clean])
    assert out[0].metadata[REJECT_REASON] == "contaminated"
    assert out[0].metadata[REJECT_DETAIL] == "gsm8k-17"
    assert all(REJECT_REASON not in d.metadata for d in out[1:]), "clean text stays"


def test_short_benchmark_text_matched_whole_and_trivial_ones_ignored(index):
    out = run_filter(
        index,
        [
            "Question 4. Which of the following best describes the function of the mitochondria in a cell? (a) ...",
            "The capital is Paris, France, a city on the Seine.",
        ],
    )
    assert out[0].metadata[REJECT_DETAIL] == "mmlu-3"  # 14 words: two 13-grams
    assert REJECT_REASON not in out[1].metadata  # 2 words: below min_tokens, ignored


def test_short_text_under_n_words(tmp_path):
    bench = tmp_path / "b.jsonl"
    write_jsonl(bench, [{"id": "q1", "text": "What is the boiling point of ethanol at sea level?"}])
    idx = build_decontam_index([bench], tmp_path / "i.npz")
    out = run_filter(
        idx,
        [
            "Lab notes. what is the boiling point of ethanol at sea level? About 78 C.",
            "What is the boiling point of water at sea level? 100 C.",
        ],
    )
    assert out[0].metadata[REJECT_DETAIL] == "q1"
    assert REJECT_REASON not in out[1].metadata


def test_template_ngrams_shared_by_many_records_are_ignored(tmp_path):
    template = "Answer the following multiple choice question and explain your reasoning step by step please."
    records = [
        {"id": f"r{i}", "text": f"{template} Question number {i}: name a prime larger than {i}."}
        for i in range(8)
    ]
    bench = tmp_path / "b.jsonl"
    write_jsonl(bench, records)
    idx = build_decontam_index([bench], tmp_path / "i.npz", DecontamConfig(max_ngram_records=5))
    out = run_filter(idx, [f"Course page. {template} Then hand in the sheet.", records[3]["text"]])
    assert REJECT_REASON not in out[0].metadata
    assert out[1].metadata[REJECT_DETAIL] == "r3"


def test_parquet_gzip_and_several_text_fields(tmp_path):
    pq.write_table(
        pa.table(
            {
                "question": [BENCH[1]["text"]],
                "answer": [
                    "She earned 0.2 x 50 = 10 dollars in total for the fifty minutes of work."
                ],
            }
        ),
        tmp_path / "b.parquet",
    )
    with gzip.open(tmp_path / "he.jsonl.gz", "wt") as f:
        f.write(
            json.dumps(
                {
                    "task_id": "HumanEval/0",
                    "prompt": 'def has_close_elements(numbers, threshold):\n    """ Check if in given list of numbers, are any two numbers closer to each other than given threshold."""\n',
                }
            )
            + "\n"
        )
    cfg = DecontamConfig(text_field=["question", "answer", "prompt"], id_field="task_id")
    idx = build_decontam_index(
        [tmp_path / "b.parquet", tmp_path / "he.jsonl.gz"], tmp_path / "i.npz", cfg
    )
    out = run_filter(
        idx,
        [
            "Solution: she earned 0.2 x 50 = 10 dollars in total for the fifty minutes of work.",
            "# Check if in given list of numbers, are any two numbers closer to each other than given threshold? pairs",
            clean_docs()[0],
        ],
    )
    assert out[0].metadata[REJECT_DETAIL] == "b.parquet:1"  # no id column: file:row
    assert out[1].metadata[REJECT_DETAIL] == "HumanEval/0"
    assert REJECT_REASON not in out[2].metadata


def test_cjk_benchmark_matched_by_characters(tmp_path):
    bench = tmp_path / "b.jsonl"
    item = "小明有十二个苹果，他给了小红五个，又买了三个，请问小明现在有多少个苹果？"
    write_jsonl(bench, [{"id": "cmath-1", "text": item}])
    idx = build_decontam_index([bench], tmp_path / "i.npz")
    out = run_filter(
        idx, ["今天的练习题：" + item + "答案是十个。", "小明有十二本书，他很喜欢读书。"]
    )
    assert out[0].metadata[REJECT_DETAIL] == "cmath-1"
    assert REJECT_REASON not in out[1].metadata


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "ok"}\n{"text": broken\n', r"bench.jsonl:2: not valid JSON"),
        (
            '{"id": 1, "question": "no text"}\n',
            r"bench.jsonl:1: benchmark record has no field 'text'",
        ),
        ('{"text": 42}\n', r"bench.jsonl:1: field 'text' must be text"),
        ("[1, 2]\n", r"bench.jsonl:1: a benchmark record must be a JSON object"),
    ],
)
def test_bad_benchmark_records_name_file_and_line(tmp_path, content, message):
    (tmp_path / "bench.jsonl").write_text(content)
    with pytest.raises(BadInputError, match=message):
        build_decontam_index([tmp_path / "bench.jsonl"], tmp_path / "i.npz")


def test_bad_benchmark_files(tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(BadInputError, match="bad.parquet: not a readable Parquet file"):
        build_decontam_index([tmp_path / "bad.parquet"], tmp_path / "i.npz")
    (tmp_path / "latin.jsonl").write_bytes(b'{"text": "caf\xe9"}\n')
    with pytest.raises(BadInputError, match="latin.jsonl: not UTF-8"):
        build_decontam_index([tmp_path / "latin.jsonl"], tmp_path / "i.npz")
    with pytest.raises(BadInputError, match="missing.jsonl: benchmark file not found$"):
        build_decontam_index([tmp_path / "missing.jsonl"], tmp_path / "i.npz")
    with pytest.raises(ConfigError):
        DecontamFilter(tmp_path / "nope.npz")


def test_a_benchmark_that_gives_nothing_to_match_is_refused(tmp_path):
    # Before: an empty file, or one of one-word answers, built an index that matched nothing,
    # and the curate run reported no contamination as if it had checked.
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(BadInputError, match="empty.jsonl: the benchmark file holds no records"):
        build_decontam_index([tmp_path / "empty.jsonl"], tmp_path / "i.npz")
    (tmp_path / "tiny.jsonl").write_text('{"text": "yes"}\n{"text": "no"}\n')
    with pytest.raises(BadInputError, match=r"of 2 texts, 2 are under min_tokens"):
        build_decontam_index([tmp_path / "tiny.jsonl"], tmp_path / "i.npz")
    assert not (tmp_path / "i.npz").exists()


def test_filter_checks_ngram_size_and_leaves_rejected_docs(index):
    step = DecontamFilter(index, DecontamConfig(ngram=8))
    with pytest.raises(ConfigError, match="13-grams"):
        list(step.run(iter([Document(text=BENCH[0]["text"], id="x")]), 0, 1))
    doc = Document(text=BENCH[0]["text"], id="x", metadata={REJECT_REASON: "gopher"})
    (out,) = list(DecontamFilter(index).run(iter([doc]), 0, 1))
    assert out.metadata[REJECT_REASON] == "gopher"
