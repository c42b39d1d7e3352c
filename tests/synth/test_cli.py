"""The synth commands: help, a full generate -> filter run, and one-line errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qurate.cli import _register, app
from qurate.contract.shards import read_manifest

runner = CliRunner()
_register()


def _run(args, code=0):
    from qurate.cli import main

    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == code
    return e


def test_help_lists_both_commands():
    r = runner.invoke(app, ["synth", "--help"])
    assert r.exit_code == 0 and "generate" in r.output and "filter" in r.output
    for cmd in ("generate", "filter"):
        assert runner.invoke(app, ["synth", cmd, "--help"]).exit_code == 0


def test_filter_command_end_to_end(tmp_path, capsys):
    p = tmp_path / "s.jsonl"
    rows = [
        {"id": "a", "task": "math", "prompt": "1+1?", "response": r"\boxed{2}", "reference": "2"},
        {"id": "b", "task": "math", "prompt": "1+1?", "response": r"\boxed{3}", "reference": "2"},
    ]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _run(["synth", "filter", str(p), "-o", str(tmp_path / "o"), "--timeout", "2"])
    out = capsys.readouterr().out
    assert "kept 1 of 2" in out and "verify_failed" in out
    assert read_manifest(tmp_path / "o")["counts"]["rejected_by_reason"] == {"verify_failed": 1}


def test_user_mistakes_are_one_line_errors(tmp_path, capsys, tiny_chat):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(json.dumps({"id": "x", "question": "no problem field"}) + "\n")
    _run(
        ["synth", "generate", str(seeds), "-o", str(tmp_path / "g"), "--teacher", str(tiny_chat)], 2
    )
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("error: ")
        and "needs a field 'problem' or 'text'" in err.replace("need a field", "needs a field")
        and "\n" not in err
    )
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task": "math", "prompt": "q", "response": r"\boxed{1}"}) + "\n")
    _run(["synth", "filter", str(samples), "-o", str(tmp_path / "f"), "--rm", str(tiny_chat)], 2)
    err = capsys.readouterr().err.strip()
    assert "not a reward or classification model" in err and "\n" not in err
    _run(["synth", "filter", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "f")], 2)
    assert "no such file or directory" in capsys.readouterr().err
    _run(["synth", "generate", str(seeds), "-o", str(tmp_path / "g"), "--task", "poems"], 2)
    assert capsys.readouterr().err.startswith("error: flags: synth.generate.task: Input should be")


def test_generate_command_runs_and_resumes_from_cache(tmp_path, capsys, tiny_chat):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(json.dumps({"id": "k", "text": "Water boils at 100 degrees Celsius."}) + "\n")
    args = ["synth", "generate", str(seeds), "-o", str(tmp_path / "g"), "--teacher", str(tiny_chat),
            "--task", "knowledge", "--n", "2", "--max-tokens", "4", "--device", "cpu"]  # fmt: skip
    _run(args)
    assert "0 prompts from cache" in capsys.readouterr().out
    _run(args)  # the same finished run again: a no-op
    assert "already complete" in capsys.readouterr().out
    (
        tmp_path / "g" / "manifest.json"
    ).unlink()  # a run killed before its end resumes from the cache
    _run(args)
    assert "1 prompts from cache" in capsys.readouterr().out
    assert read_manifest(tmp_path / "g")["counts"]["in"] == 2
