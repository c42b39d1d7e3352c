"""Data-side commands fed hostile inputs, configs and output directories (sweep 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.robust.test_robust_cli import one_line_error, run_cli


def _scored(path: Path, n: int = 6, domain: str | None = "math") -> Path:
    from qurate.contract.files import write_manifest
    from qurate.contract.schema import rows_to_table
    from qurate.contract.stagedir import write_table

    rows = [
        {"id": f"d{i}", "text": f"words {i} " * 50, "domain": domain, "quality": i / n,
         "n_tokens": 100}
        for i in range(n)
    ]  # fmt: skip
    path.mkdir(parents=True, exist_ok=True)
    write_table(path / "part-00000.parquet", rows_to_table(rows))
    write_manifest(path, stage="score.apply", config_hash="x", inputs=[], n_in=n, n_kept=n,
                   rejected_by_reason={})  # fmt: skip
    return path


def test_mix_without_a_config_runs_the_demo_mix(tmp_path: Path, capsys):
    # Before: "error: flags: mix.budget_tokens: Field required", exit 2: the --budget-tokens
    # flag not given (None) replaced the demo config's budget sized to the inputs.
    from qurate.contract.files import read_manifest

    s = _scored(tmp_path / "scored")
    code, err = run_cli(["mix", str(s), "-o", str(tmp_path / "mix")], capsys)
    assert code in (0, None), err
    assert read_manifest(tmp_path / "mix")["mix"]["budget_tokens"] == 600
    code, err = run_cli(["mix", str(s), "-o", str(tmp_path / "m2"), "--seed", "3"], capsys)
    assert code in (0, None), err


def test_overwrite_keeps_a_folder_whose_manifest_json_is_not_a_stages(tmp_path: Path, capsys):
    # Before: any file named manifest.json (a web app's) made the folder a stage directory,
    # so `mix ... -o webapp --overwrite` deleted index.html and everything else in it.
    s = _scored(tmp_path / "scored")
    web = tmp_path / "webapp"
    web.mkdir()
    (web / "manifest.json").write_text('{"name": "my app", "icons": []}')
    (web / "index.html").write_text("<html>")
    line = one_line_error(*run_cli(["mix", str(s), "-o", str(web), "--overwrite"], capsys))
    assert "not a qurate stage directory" in line and "index.html" in line
    assert (web / "index.html").read_text() == "<html>"


def test_a_manifest_that_is_not_an_object_is_a_one_line_error(tmp_path: Path, capsys):
    # Before: "error: AttributeError: 'list' object has no attribute 'get' (traceback in ...)"
    # for an -o (or an input) whose manifest.json held `[]` or `"x"`, exit 1.
    s = _scored(tmp_path / "scored")
    out = tmp_path / "out"
    out.mkdir()
    for text in ("[]", '"x"', "3"):
        (out / "manifest.json").write_text(text)
        line = one_line_error(*run_cli(["mix", str(s), "-o", str(out)], capsys))
        assert "manifest.json: corrupt manifest" in line
    bad = _scored(tmp_path / "bad")
    (bad / "manifest.json").write_text(json.dumps([1]))
    line = one_line_error(*run_cli(["mix", str(bad), "-o", str(tmp_path / "m")], capsys))
    assert "corrupt manifest" in line


def test_a_refused_run_leaves_no_interrupted_run_behind(tmp_path: Path, capsys):
    # Before: `score distill CURATED -o d` ("no annotated documents", exit 2) left d/ with a
    # run marker, so the corrected command said "d: holds an interrupted run with another
    # config or inputs; ... pass --overwrite".
    s = _scored(tmp_path / "scored")
    out = tmp_path / "d"
    line = one_line_error(*run_cli(["score", "distill", str(s), "-o", str(out)], capsys))
    assert "no annotated documents" in line
    assert not out.exists()
    out.mkdir()
    args = ["score", "distill", str(s), "-o", str(out), "--keep-threshold", "2"]
    line = one_line_error(*run_cli(args, capsys))
    assert "no annotated documents" in line and list(out.iterdir()) == []


def test_score_apply_with_a_bad_raters_json_leaves_no_run_behind(tmp_path: Path, capsys):
    # Before: OUT kept a run marker and an empty _parts/, so the command with the right
    # --raters said "OUT: holds an interrupted run with another config or inputs".
    s = _scored(tmp_path / "scored")
    r = tmp_path / "r"
    r.mkdir()
    (r / "raters.json").write_text("garbage")
    out = tmp_path / "out"
    line = one_line_error(*run_cli(["score", "apply", str(s), "-o", str(out), "--raters",
                                    str(r)], capsys))  # fmt: skip
    assert "raters.json: corrupt" in line and not out.exists()


def test_report_output_that_is_a_directory_or_a_data_file_is_refused(tmp_path: Path, capsys):
    # Before: -o DIR was "error: IsADirectoryError: ... (traceback in ...)", exit 1, and
    # -o docs.jsonl (or a stage's manifest.json) was written over with the HTML page, exit 0.
    run = tmp_path / "run"
    _scored(run / "scored")
    data = tmp_path / "docs.jsonl"
    data.write_text('{"text": "mine"}\n')
    for out, what in ((run, "is a directory"), (data, "exists and is not an HTML page")):
        line = one_line_error(*run_cli(["report", str(run), "-o", str(out)], capsys))
        assert what in line
    assert data.read_text() == '{"text": "mine"}\n'
    page = tmp_path / "r.html"
    page.write_text("old")
    code, err = run_cli(["report", str(run), "-o", str(page)], capsys)
    assert code in (0, None), err
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_report_skips_a_hand_edited_mix_manifest(tmp_path: Path, capsys):
    # Before: "error: TypeError: string indices must be integers" / "AttributeError: 'int'
    # object has no attribute 'get'" / "KeyError: 'budget_tokens'" (traceback in ...), exit 1.
    from qurate.report.gather import discover_stages

    run = tmp_path / "run"
    scored = _scored(run / "scored")
    mixed = _scored(run / "mixed")
    bad = ['"mix": "x"', '"mix": {"domains": 5}', '"mix": {"domains": {"a": 5}}',
           '"mix": {"budget_tokens": 1}', '"long_context": 5',
           '"long_context": [{"sequences": 1}]', '"ablation": 5']  # fmt: skip
    for extra in bad:
        (mixed / "manifest.json").write_text('{"stage": "mix", ' + extra + "}")
        assert [d for d, _ in discover_stages(run)] == [scored], extra
    code, err = run_cli(["report", str(run), "-o", str(tmp_path / "r.html")], capsys)
    assert code in (0, None), err


@pytest.mark.parametrize(
    "command",
    [
        ["score", "apply", "{s}", "-o", "{s}", "--raters", "{r}"],
        ["score", "apply", "{s}", "-o", "{r}", "--raters", "{r}"],
        ["score", "distill", "{s}", "-o", "{s}"],
        ["augment", "ingest", "{s}", "-o", "{s}", "--domain", "math"],
        ["synth", "filter", "{s}", "-o", "{s}", "--no-verify"],
        ["mix", "{s}", "-o", "{s}/sub"],
    ],
)
def test_overwrite_never_clears_an_input(tmp_path: Path, capsys, command: list[str]):
    # Before: `score apply S -o S --raters R --overwrite` (and distill, augment ingest, synth
    # filter: -o naming their input) cleared S, then failed on the input it had just deleted
    # ("S: no such directory", or a raters.json error) with S's shards gone; mix took -o S/sub.
    s = _scored(tmp_path / "s")
    r = tmp_path / "r"
    r.mkdir()
    (r / "raters.json").write_text('{"dimensions": {}}')
    args = [a.format(s=s, r=r) for a in command]
    line = one_line_error(*run_cli([*args, "--overwrite"], capsys))
    assert "is inside the input" in line
    assert (s / "part-00000.parquet").is_file() and (r / "raters.json").is_file()


def test_augment_ingest_refuses_an_output_inside_its_input_folder(tmp_path: Path, capsys):
    # Before: `augment ingest corpus -o corpus/out` wrote there; the same command again read
    # corpus/out back as input (a stage directory in the folder) and doubled its documents.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.jsonl").write_text('{"text": "1 + 1 = 2"}\n')
    args = ["augment", "ingest", str(corpus), "-o", str(corpus / "out"), "--domain", "math"]
    line = one_line_error(*run_cli(args, capsys))
    assert "is inside the input" in line and not (corpus / "out").exists()


def test_a_stage_still_running_is_called_unfinished_not_empty(tmp_path: Path, capsys):
    # Before: `mix RUNNING_STAGE` (and score apply, ...) said "no Parquet shards
    # (part-*.parquet) in this directory" while the stage was still writing its _parts/.
    running = tmp_path / "scored"
    (running / "_parts").mkdir(parents=True)
    (running / ".qurate-run.json").write_text("{}")
    line = one_line_error(*run_cli(["mix", str(running), "-o", str(tmp_path / "m")], capsys))
    assert "no manifest.json, so its stage did not finish" in line


@pytest.mark.parametrize("bad", ["missing.json", "docs.jsonl"])
def test_a_bad_curate_tokenizer_is_a_config_error_before_any_task(tmp_path: Path, capsys, bad: str):
    # Before: curate ran its tasks, then "error: a task failed: FileNotFoundError: ...
    # '/x/missing.json'" / "Exception: expected `,` or `}` at line 1 column 8" (traceback in
    # OUT/.work/logs/.../task_00000.log), leaving an interrupted run in OUT.
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"text": "one two three"}\n')
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"curate: {{tokenizer: {tmp_path / bad}}}\n")
    out = tmp_path / "out"
    args = ["curate", str(docs), "-o", str(out), "-c", str(cfg), "--no-progress"]
    line = one_line_error(*run_cli(args, capsys))
    assert line.startswith(f"error: tokenizer: {tmp_path / bad} is not a")
    assert "task failed" not in line and not out.exists()


def test_extreme_mix_weights_and_temperature_still_plan(tmp_path: Path, capsys):
    # Before: weights of 1e308 summed to inf ("budget_tokens 600 exceeds the capped supply 0;
    # short domains: ."), and temperature 1e-6 underflowed every p^(1/T) to 0 ("the
    # multipliers x natural shares sum to 0"), both exit 2 on a mix that can be planned.
    from qurate.mixers import plan_mix
    from qurate.mixers.config import parse_mix_config

    math_ = _scored(tmp_path / "math", n=6)
    code = _scored(tmp_path / "code", n=3, domain="code")
    huge = {"budget_tokens": 600, "default": {"weight": 1e308}}
    plan = plan_mix([math_, code], parse_mix_config(huge))
    assert {d: p.target_tokens for d, p in plan.domains.items()} == {"code": 300, "math": 300}
    cold = {"budget_tokens": 600, "temperature": 1e-6}
    plan = plan_mix([math_, code], parse_mix_config(cold))
    assert {d: p.target_tokens for d, p in plan.domains.items()} == {"code": 0, "math": 600}


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_folder_of_dotfiles_is_not_ours_to_clear(tmp_path: Path, capsys, overwrite):
    # Before: every hidden name counted as a stage's own, so `mix S -o ~` (even without
    # --overwrite) on a home holding only .ssh/ and .bashrc deleted both, exit 0.
    s = _scored(tmp_path / "scored")
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("key")
    (home / ".bashrc").write_text("rc")
    line = one_line_error(*run_cli(["mix", str(s), "-o", str(home), *overwrite], capsys))
    assert "not a qurate stage directory" in line and ".bashrc" in line
    assert (home / ".ssh" / "id_rsa").read_text() == "key"


def test_a_raw_data_folder_given_to_a_stage_reader_is_called_raw(tmp_path: Path, capsys):
    # Before: `mix RAW_FOLDER` (score apply, augment recall, ...) said "no manifest.json, so
    # its stage did not finish (interrupted or still running); rerun that stage": no stage
    # ever ran there, the folder holds raw files for curate.
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "docs.jsonl").write_text('{"text": "hello"}\n')
    (raw / "more.parquet").write_bytes(b"PAR1")
    line = one_line_error(*run_cli(["mix", str(raw), "-o", str(tmp_path / "m")], capsys))
    assert "not a qurate stage directory" in line and "qurate curate" in line


def test_synth_filter_keeps_ids_unique(tmp_path: Path, capsys):
    # Before: two sample rows with one id were both kept under it (ids repeated in the stage
    # directory, a duplicate's reject_detail could name either).
    import duckdb

    rows = [{"id": "a", "prompt": f"What is {i} + {i}?", "response": f"so \\boxed{{{2 * i}}}",
             "task": "math", "reference": str(2 * i)} for i in (1, 2, 3)]  # fmt: skip
    rows.append({**rows[0], "id": "a~2", "prompt": "What is 9 + 9?", "reference": "18",
                 "response": "so \\boxed{18}"})  # fmt: skip
    src = tmp_path / "samples.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "synth"
    code, err = run_cli(["synth", "filter", str(src), "-o", str(out)], capsys)
    assert code in (0, None), err
    got = duckdb.sql(
        f"SELECT id, json_extract_string(meta, '$.original_id') FROM '{out}/part-*.parquet'"
    ).fetchall()
    assert sorted(got) == [("a", None), ("a~2", None), ("a~3", "a"), ("a~4", "a")]


def test_a_slurm_executor_without_a_partition_is_refused_on_load(tmp_path: Path, capsys):
    # Before: `qurate run` / `curate -c` made OUT/curated with a run marker and .work/, then
    # "error: executor.slurm.partition: required when executor.kind is slurm".
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"text": "one two three"}\n')
    cfg = tmp_path / "c.yaml"
    cfg.write_text("executor: {kind: slurm}\n")
    out = tmp_path / "out"
    line = one_line_error(*run_cli(["curate", str(docs), "-o", str(out), "-c", str(cfg)], capsys))
    assert "slurm.partition: required" in line and not out.exists()
