"""Configs, inputs and ids that made a stage reject everything or repeat itself (sweep 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.robust.test_robust_cli import one_line_error, run_cli


def _docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"text": "one two three"}\n')
    return docs


@pytest.mark.parametrize(
    ("curate", "says"),
    [
        ('{text_key: ""}', 'curate: text_key: must name an input field'),
        ("{text_key: body, id_key: body}", "text_key and id_key are both 'body'"),
        ("{filters: {langid: {languages: [en, xx]}}}",
         "curate.filters.langid.languages: unknown language code(s) 'xx'"),
        ("{filters: {heuristics: {gopher_repetition: {top_n_grams: {-2: 0.2}}}}}",
         "gopher_repetition.top_n_grams: n-gram size -2 must be 1 or more"),
        ("{filters: {heuristics: {gopher_repetition: {dup_n_grams: {0: 0.2}}}}}",
         "gopher_repetition.dup_n_grams: n-gram size 0 must be 1 or more"),
        ("{filters: {heuristics: {gopher_repetition: {dup_n_grams: {5: -0.1}}}}}",
         "the limit for 5-grams (-0.1) must be 0 or more"),
        ("{filters: {heuristics: {gopher_quality: {min_doc_words: -1}}}}",
         "gopher_quality.min_doc_words: Input should be greater than or equal to 0"),
        ("{filters: {heuristics: {gopher_quality: {min_doc_words: 50, max_doc_words: 10}}}}",
         "min_doc_words (50) is above max_doc_words (10)"),
        ("{filters: {heuristics: {c4: {min_num_sentences: -3}}}}",
         "c4.min_num_sentences: Input should be greater than or equal to 0"),
        ("{filters: {heuristics: {fineweb: {short_line_thr: -0.5}}}}",
         "fineweb.short_line_thr: Input should be greater than or equal to 0"),
    ],
)  # fmt: skip
def test_a_curate_config_that_rejects_everything_is_refused_on_load(
    tmp_path: Path, capsys, curate: str, says: str
):
    # Before: each ran and rejected every document (missing_text, lang, gopher_short_doc,
    # gopher_rep_top_n_gram "-2-grams: ..."), exit 0, with nothing said about the config.
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"curate: {curate}\n")
    out = tmp_path / "out"
    args = ["curate", str(_docs(tmp_path)), "-o", str(out), "-c", str(cfg), "--no-progress"]
    line = one_line_error(*run_cli(args, capsys))
    assert line.startswith(f"error: {cfg}: ") and says in line
    assert not out.exists()


def test_the_unknown_language_message_lists_the_valid_codes(tmp_path: Path, capsys):
    import fasttext

    from qurate.filters.langid import LID176_LABELS, LanguageIDConfig, default_model_path

    fasttext.FastText.eprint = lambda *_: None
    model = fasttext.load_model(str(default_model_path()))
    assert {lb.removeprefix("__label__") for lb in model.get_labels()} == LID176_LABELS
    # every spelling of a code the model predicts (and "und", no text) still loads
    cfg = LanguageIDConfig(languages=["eng", "zh-CN", "pt_BR", "und", "yue"])
    assert cfg.languages == ["en", "pt", "und", "yue", "zh"]
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("post: {data: {languages: [klingon]}}\n")
    args = ["post", "data", str(_docs(tmp_path)), "-o", str(tmp_path / "o"), "-c", str(cfg_file)]
    line = one_line_error(*run_cli(args, capsys))
    assert "post.data.languages: unknown language code(s) 'klingon'" in line
    assert "af, als, am," in line and ", zh, and 'und'" in line


@pytest.mark.parametrize("key", ["tasks", "workers"])
def test_executor_counts_below_zero_are_refused_and_zero_means_auto(
    tmp_path: Path, capsys, key: str
):
    # Not a defect: executor.tasks 0 is the documented "one task per input file" and
    # workers 0 "one per CPU core"; a negative count was already refused. Kept as a guard.
    from qurate.contract.executors import ExecutorConfig

    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"executor: {{{key}: -1}}\n")
    args = ["curate", str(_docs(tmp_path)), "-o", str(tmp_path / "o"), "-c", str(cfg)]
    line = one_line_error(*run_cli(args, capsys))
    assert f"executor.{key}: Input should be greater than or equal to 0" in line
    assert getattr(ExecutorConfig(**{key: 0}), key) == 0


def test_augment_ingest_refuses_one_field_for_text_and_id(tmp_path: Path, capsys):
    # Before: every document was rejected as missing_text: the reader takes the id from the
    # field first, then finds no text.
    cfg = tmp_path / "c.yaml"
    cfg.write_text("augment: {ingest: {text_key: body, id_key: body}}\n")
    args = ["augment", "ingest", str(_docs(tmp_path)), "-o", str(tmp_path / "o"),
            "--domain", "math", "-c", str(cfg)]  # fmt: skip
    line = one_line_error(*run_cli(args, capsys))
    assert "text_key and id_key are both 'body'" in line


def _sample(i: int) -> str:
    row = {"id": f"s{i}", "prompt": f"What is {i} + {i}?", "response": f"so \\boxed{{{2 * i}}}",
           "task": "math", "reference": str(2 * i)}  # fmt: skip
    return json.dumps(row) + "\n"


def test_synth_reads_the_file_names_curate_reads_and_refuses_the_others(tmp_path: Path, capsys):
    # Before: `synth filter x.gz` (or x.txt) read the file as JSONL samples while curate said
    # "unknown input format"; in a folder, x.json.gz, X.JSONL and x.ndjson (which curate
    # reads) were passed over: "no .parquet or .jsonl files in this directory".
    import gzip

    import zstandard

    bare = tmp_path / "x.gz"
    bare.write_bytes(gzip.compress(_sample(1).encode()))
    for cmd in (["synth", "filter", str(bare), "--no-verify"], ["curate", str(bare)]):
        line = one_line_error(*run_cli([*cmd, "-o", str(tmp_path / "o")], capsys))
        assert line.startswith(f"error: {bare}: unknown input format (expected one of .jsonl,")
    folder = tmp_path / "samples"
    folder.mkdir()
    (folder / "a.json.gz").write_bytes(gzip.compress(_sample(1).encode()))
    (folder / "B.JSONL.ZST").write_bytes(zstandard.ZstdCompressor().compress(_sample(2).encode()))
    (folder / "c.ndjson").write_text(_sample(3))
    (folder / "notes.txt").write_text(_sample(4))  # not samples: curate reads it as a text
    out = tmp_path / "synth"
    code, err = run_cli(["synth", "filter", str(folder), "-o", str(out), "--no-verify"], capsys)
    assert code in (0, None), err
    assert json.loads((out / "manifest.json").read_text())["counts"]["in"] == 3


@pytest.mark.parametrize(
    ("second", "says"),
    [("5", "'text' is a number"), ("[1, 2]", "'text' is a list"), ("null", "'text' is null")],
)
def test_synth_generate_names_a_seed_field_that_is_not_text(
    tmp_path: Path, capsys, second: str, says: str
):
    # Before: "seed s2: template math_synth_v1 (task math) needs non-empty field(s) text; the
    # seed has id, text" (and for the first seed: "need a field 'problem' or 'text' (first
    # seed has ['id', 'text'])"): the field was there, only not a string.
    seeds = tmp_path / "seeds.jsonl"
    out = tmp_path / "gen"
    first = json.dumps({"id": "s1", "text": "What is 2 + 2?"})
    seeds.write_text(f'{first}\n{{"id": "s2", "text": {second}}}\n')
    args = ["synth", "generate", str(seeds), "-o", str(out), "--task", "math"]
    line = one_line_error(*run_cli(args, capsys))
    assert line.startswith(f"error: seed s2 (seeds.jsonl:2): {says}, not text;")
    seeds.write_text(f'{{"id": "s1", "text": {second}}}\n')
    line = one_line_error(*run_cli(args, capsys))
    assert f"in the first seed (seeds.jsonl:1) {says}, not text" in line
    assert not out.exists()


_NO_FILTERS = """curate:
  filters: {langid: {enabled: false}, web: {enabled: false}, heuristics: {enabled: false}}
  dedup: {exact: false, near: false}
"""


def _ids_and_originals(out: Path) -> list[tuple[str, str | None]]:
    import duckdb

    return duckdb.sql(
        f"SELECT id, json_extract_string(meta, '$.original_id') AS o FROM '{out}/part-*.parquet' "
        "ORDER BY id, o NULLS FIRST"
    ).fetchall()


def test_curate_never_renames_a_repeated_id_onto_an_input_id(tmp_path: Path, capsys):
    # Before: ids a, a~2 | a, a~3, a gave a, a~2, a~2 (renamed), a~3, a~3 (renamed): the
    # rename <id>~n did not look at the ids already in the input. Two input files, two
    # stage-1 tasks and two index ranges: the taken names are seen across tasks and ranges.
    src = tmp_path / "in"
    src.mkdir()
    for name, ids in (("1.jsonl", ["a", "a~2"]), ("2.jsonl", ["a", "a~3", "a"])):
        (src / name).write_text("".join(
            json.dumps({"id": i, "text": f"document {name} {k}"}) + "\n" for k, i in enumerate(ids)
        ))  # fmt: skip
    cfg = tmp_path / "c.yaml"
    cfg.write_text(_NO_FILTERS)
    out = tmp_path / "out"
    args = ["curate", str(src), "-o", str(out), "-c", str(cfg), "--no-progress",
            "--tasks", "2", "--workers", "2"]  # fmt: skip
    code, err = run_cli(args, capsys)
    assert code in (0, None), err
    assert _ids_and_originals(out) == [
        ("a", None), ("a~2", None), ("a~3", None), ("a~4", "a"), ("a~5", "a")
    ]  # fmt: skip


def test_augment_ingest_renames_repeated_ids_as_curate_does(tmp_path: Path, capsys):
    # Before: ids a, a, a~2, a were written as a, a, a~2, a (one id on three documents).
    src = tmp_path / "math.jsonl"
    src.write_text("".join(
        json.dumps({"id": i, "text": f"Let x = {k}. Then x + 1 = {k + 1}."}) + "\n"
        for k, i in enumerate(["a", "a", "a~2", "a"])
    ))  # fmt: skip
    out = tmp_path / "out"
    code, err = run_cli(["augment", "ingest", str(src), "-o", str(out), "--domain", "math"], capsys)
    assert code in (0, None), err
    assert _ids_and_originals(out) == [("a", None), ("a~2", None), ("a~3", "a"), ("a~4", "a")]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["renamed_ids"] == 2 and manifest["counts"]["in"] == 4
    assert not (out / ".work").exists()
