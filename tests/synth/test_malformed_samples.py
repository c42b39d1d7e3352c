"""Malformed synth rows (issue 12, section 2): a field of the wrong type or a broken line is a
``malformed_sample`` reject with a detail; the rest of the file is filtered and
in == kept + rejected."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qurate.contract.shards import iter_rows, read_manifest
from qurate.synth.config import FilterConfig
from qurate.synth.filter import filter_samples
from qurate.synth.sandbox import SandboxLimits

FAST = SandboxLimits(timeout_s=3, memory_mb=256, max_processes=4, workers=2)
GOOD = {"id": "good", "task": "math", "prompt": "1+1?", "response": r"\boxed{2}", "reference": "2"}
CODE = "```python\ndef sq(x):\n    return x * x\n```"
# id -> (row, a word the reject detail must name)
BAD = {
    "int_prompt": ({"task": "math", "prompt": 5, "response": r"\boxed{2}"}, "prompt"),
    "list_response": ({"task": "knowledge", "prompt": "", "response": ["x"]}, "response"),
    "dict_tests": ({"task": "code", "prompt": "Write sq.", "response": CODE, "tests": {"a": 1}}, "tests"),
    "list_reference": ({"task": "math", "prompt": "1+1?", "response": r"\boxed{2}", "reference": [2]}, "reference"),
    "list_task": ({"task": ["math"], "prompt": "1+1?", "response": r"\boxed{2}"}, "task"),
    "bad_messages": ({"task": "knowledge", "response": "Some text.", "messages": "hi"}, "messages"),
    "bad_turn": ({"task": "knowledge", "response": "Some text.", "messages": [{"role": "user", "content": 3}]}, "messages"),
}  # fmt: skip


def _write_jsonl(path, rows, extra_lines=()):
    lines = [json.dumps({"id": k, **row}).encode() for k, (row, _) in rows.items()]
    lines = [json.dumps(GOOD).encode(), *lines, *extra_lines]
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_malformed_rows_are_rejected_and_the_rest_is_filtered(tmp_path):
    p = tmp_path / "samples.jsonl"
    broken = [b'{"id": "cut", "task": "math", "prom', b"[1, 2]", b'{"id": "latin", "x": "\xe9"}']
    _write_jsonl(p, BAD, broken)
    out = tmp_path / "out"
    r = filter_samples(p, out, FilterConfig(sandbox=FAST))
    kept = [x["id"] for x in iter_rows(out)]
    rejects = {x["id"]: x for x in iter_rows(out, rejects=True)}
    assert kept == ["good"]
    assert r.n_in == 1 + len(BAD) + len(broken) == len(kept) + len(rejects)
    for k, (_, field) in BAD.items():
        assert rejects[k]["reject_reason"] == "malformed_sample", (k, rejects[k])
        assert field in rejects[k]["reject_detail"], (k, rejects[k]["reject_detail"])
    # The broken lines are named by file and line, with what is wrong.
    by_line = {k: v["reject_detail"] for k, v in rejects.items() if k.startswith("samples.jsonl:")}
    assert set(by_line) == {"samples.jsonl:9", "samples.jsonl:10", "samples.jsonl:11"}
    assert "not valid JSON" in by_line["samples.jsonl:9"]
    assert "JSON object" in by_line["samples.jsonl:10"]
    assert "UTF-8" in by_line["samples.jsonl:11"]
    assert {v["reject_reason"] for v in rejects.values()} == {"malformed_sample"}
    # Tests given as a dict are not code: the sample is never run, never "verified".
    prov = json.loads(rejects["dict_tests"]["provenance"])
    assert prov.get("verified") is None
    m = read_manifest(out)["counts"]
    assert m["in"] == m["kept"] + sum(m["rejected_by_reason"].values())


def test_a_parquet_column_of_the_wrong_type_is_malformed(tmp_path):
    p = tmp_path / "s.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["a", "b"],
                "task": ["math", "math"],
                "prompt": [7, 8],
                "response": [r"\boxed{2}", r"\boxed{3}"],
            }
        ),
        p,
    )
    r = filter_samples(p, tmp_path / "o", FilterConfig(sandbox=FAST))
    assert r.kept == 0 and r.rejected == {"malformed_sample": 2}


def test_a_numeric_reference_is_still_fine(tmp_path):
    rows = [
        {**GOOD, "id": "n", "reference": 2},
        {**GOOD, "id": "f", "prompt": "2-0?", "reference": 2.0},
        {**GOOD, "id": "b", "prompt": "True?", "reference": True},  # a bool is no number
    ]
    r = filter_samples(rows, tmp_path / "o", FilterConfig(sandbox=FAST))
    assert r.kept == 2 and r.rejected == {"malformed_sample": 1}, r.rejected


def test_chat_messages_become_prompt_and_response(tmp_path):
    rows = [
        {
            "id": "chat",
            "task": "math",
            "reference": "2",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "1+1?"},
                {"role": "assistant", "content": r"\boxed{2}"},
            ],
        }
    ]
    p = tmp_path / "chat.jsonl"
    p.write_text(json.dumps(rows[0]) + "\n")
    r = filter_samples(p, tmp_path / "o", FilterConfig(sandbox=FAST))
    assert r.kept == 1, r.rejected
    (doc,) = iter_rows(tmp_path / "o")
    assert doc["text"] == "1+1?\n\n\\boxed{2}"


def test_the_cli_filters_a_file_with_malformed_lines(tmp_path, capsys):
    from qurate.cli import main

    p = tmp_path / "s.jsonl"
    _write_jsonl(p, {"int_prompt": BAD["int_prompt"]}, [b"{not json"])
    with pytest.raises(SystemExit) as e:
        main(["synth", "filter", str(p), "-o", str(tmp_path / "o"), "--timeout", "2"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "kept 1 of 3" in out and "malformed_sample" in out
