"""Seventh sweep, data side: `mix`, `stats`, `report`, `init`, `run`, `augment ingest |
recall`, `synth filter` and `score apply --raters`, driven from the CLI with hand-made stage
directories (columns of the wrong type, nulls, negative or non-finite numbers, no rows, FIFOs
named like shards), hostile pipeline YAML and damaged or foreign raters directories.

What it found, each now one line (exit 2) or the documented result: `mix` on a shard with
`domain` of integers, `n_tokens` of doubles, `scores` as text or a null `id`/`text` ended in
a traceback, a shard without `source`/`lang` in a DuckDB binder error, a negative `n_tokens`
mixed with exit 0 on wrong counts, a NaN `quality` reached the SQL as a column named `nan`,
an empty input was "every document has a null quality"; `recall` and `score apply` on such a
pool were tracebacks; `stats` on such a shard and `report` on a list-typed `domain`, a token
total or a manifest count past 64 bits were tracebacks; `stats --json` printed `NaN`; a FIFO
named `part-1.parquet` blocked every reader forever; a hand-broken `raters.json` (not UTF-8,
`max_chars: "abc"`, a judge check of `"x"`, ...) was a traceback after the models loaded,
and raters of another preprocessing version scored silently; `init -o` wrote over an
existing file; `qurate run` skipped a section given with no keys (`score:`) without a word,
ran in the current folder for `run.out: ""`, and failed a quality mix without `score:` only
after curate; `augment ingest` read a stage directory's `rejects/` and manifest as
documents and ingested a path given twice twice; `synth filter` filtered an unfinished
`synth generate` directory; a negative `recall --seed` was a numpy traceback; a FIFO given
as a config, benchmark or samples file was "not found"; a foreign fastText model as a rater,
domain or reference model was a traceback or scored silently; a YAML alias that holds
itself, an alias bomb or `[[[[...` nested 600 deep was a RecursionError or a hang.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.robust.test_robust_cli import one_line_error, run_cli


def _stage(path: Path, n: int = 6, **columns: pa.Array) -> Path:
    """A finished stage directory of ``n`` documents; ``columns`` replace the schema's own
    (any type: what a hand-made or foreign shard holds)."""
    from qurate.contract.files import write_manifest
    from qurate.contract.schema import SCHEMA_VERSION_KEY, rows_to_table

    rows = [
        {"id": f"d{i}", "text": f"words {i} " * 50, "domain": "math", "quality": i / n,
         "n_tokens": 100, "lang": "en", "source": "s"}
        for i in range(n)
    ]  # fmt: skip
    t = rows_to_table(rows)
    for name, values in columns.items():
        t = t.set_column(t.schema.get_field_index(name), pa.field(name, values.type), values)
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        t.replace_schema_metadata({SCHEMA_VERSION_KEY: b"2"}), path / "part-00000.parquet"
    )
    write_manifest(path, stage="score.apply", config_hash="x", inputs=[], n_in=n, n_kept=n,
                   rejected_by_reason={})  # fmt: skip
    return path


def test_mix_names_a_column_of_the_wrong_type(tmp_path: Path, capsys):
    # Before: "error: ArrowInvalid: Could not convert 'unlabelled' with type str: tried to
    # convert to int64 (traceback in ...)", exit 1, and for the others a DuckDB binder error.
    cases = {
        "domain": pa.array([1] * 6),
        "n_tokens": pa.array([100.5] * 6),
        "scores": pa.array(["x"] * 6),
        "quality": pa.array(["0.5"] * 6),
    }
    for name, values in cases.items():
        s = _stage(tmp_path / name, **{name: values})
        line = one_line_error(*run_cli(["mix", str(s), "-o", str(tmp_path / f"m-{name}")], capsys))
        assert f"column {name} is {values.type}" in line, line
        assert not (tmp_path / f"m-{name}").exists()


def test_mix_refuses_a_shard_without_every_schema_column(tmp_path: Path, capsys):
    # Before: "mix: DuckDB failed: Binder Error: Table "d" does not have a column named "source"".
    from qurate.contract.files import write_manifest

    s = _stage(tmp_path / "s")
    shard = s / "part-00000.parquet"
    pq.write_table(pq.read_table(shard).drop_columns(["source", "lang"]), shard)
    write_manifest(s, stage="score.apply", config_hash="x", inputs=[], n_in=6, n_kept=6,
                   rejected_by_reason={})  # fmt: skip
    line = one_line_error(*run_cli(["mix", str(s), "-o", str(tmp_path / "m")], capsys))
    assert "missing column(s) source, lang" in line


def test_mix_refuses_documents_without_id_or_text(tmp_path: Path, capsys):
    # Before: "ValueError: Casting field 'id' with null values to non-nullable (traceback ...)".
    ids = pa.array([None, "a", "b", "c", "d", "e"], pa.string())
    texts = pa.array([None, None] + ["words"] * 4, pa.large_string())
    for name, values in (("id", ids), ("text", texts)):
        s = _stage(tmp_path / name, **{name: values})
        line = one_line_error(*run_cli(["mix", str(s), "-o", str(tmp_path / f"m-{name}")], capsys))
        assert f"with a null {name}" in line


def test_mix_refuses_negative_token_counts_and_non_finite_quality(tmp_path: Path, capsys):
    # Before: a negative n_tokens mixed, exit 0, its domain's supply short by it; a NaN
    # quality passed every min_quality, and an all-NaN one failed as "Referenced column
    # "nan" not found" (the quantile edge reached the SQL as a name).
    neg = _stage(tmp_path / "neg", n_tokens=pa.array([-100, 100, 100, 100, 100, 100]))
    line = one_line_error(*run_cli(["mix", str(neg), "-o", str(tmp_path / "m1")], capsys))
    assert "negative n_tokens" in line and str(neg) in line
    for i, bad in enumerate(([float("nan")] * 6, [float("inf"), 0.1, 0.2, 0.3, 0.4, 0.5])):
        s = _stage(tmp_path / f"q{i}", quality=pa.array(bad, pa.float32()))
        line = one_line_error(*run_cli(["mix", str(s), "-o", str(tmp_path / f"mq{i}")], capsys))
        assert "NaN or infinite quality" in line
    # a null quality is still the lowest bucket, as documented
    ok = _stage(tmp_path / "ok", quality=pa.array([None, 0.1, 0.2, None, 0.5, 0.9], pa.float32()))
    code, err = run_cli(["mix", str(ok), "-o", str(tmp_path / "m-ok")], capsys)
    assert code in (0, None), err


def test_mix_of_a_stage_that_kept_nothing_says_so(tmp_path: Path, capsys):
    # Before: "every input document has a null quality: score the inputs first" for an input
    # with no documents at all.
    empty = _stage(tmp_path / "empty", n=0)
    line = one_line_error(*run_cli(["mix", str(empty), "-o", str(tmp_path / "m")], capsys))
    assert "hold no documents" in line
    cfg = tmp_path / "mix.yaml"
    cfg.write_text("budget_tokens: 10\nquality_buckets: [0.5]\n")
    args = ["mix", str(empty), "-c", str(cfg), "--dry-run"]
    assert "hold no documents" in one_line_error(*run_cli(args, capsys))


def test_stats_on_a_column_of_the_wrong_type_is_one_line(tmp_path: Path, capsys):
    # Before: "error: BinderException: ... 'sum(VARCHAR)' ... (traceback in ...)", exit 1,
    # for `qurate stats` and every --by; for `scores` as text even --sql.
    s = _stage(tmp_path / "s", n_tokens=pa.array(["100"] * 6))
    for extra in ([], ["--by", "domain"], ["--by", "lang"]):
        line = one_line_error(*run_cli(["stats", str(s), *extra], capsys))
        assert str(s) in line and "cannot query its shards" in line
    t = _stage(tmp_path / "t", scores=pa.array(["x"] * 6))
    line = one_line_error(*run_cli(["stats", str(t), "--sql", "SELECT 1"], capsys))
    assert "cannot query its shards" in line


def test_report_on_odd_column_types(tmp_path: Path, capsys):
    # Before: a list-typed `domain` (or `lang`) was "TypeError: unhashable type: 'list'" and a
    # token total past 64 bits "TypeError: Integer exceeds 64-bit range" (in plotly), exit 1.
    run = tmp_path / "run"
    _stage(run / "a", domain=pa.array([["math"]] * 6), lang=pa.array([["en"]] * 6))
    code, err = run_cli(["report", str(run), "-o", str(tmp_path / "r.html")], capsys)
    assert code in (0, None), err
    assert (tmp_path / "r.html").is_file()
    _stage(run / "b", n_tokens=pa.array([2**62] * 6))
    line = one_line_error(*run_cli(["report", str(run), "-o", str(tmp_path / "r2.html")], capsys))
    assert "cannot read a stage's shards" in line


def test_score_apply_names_a_hand_broken_raters_json(tmp_path: Path, capsys):
    # Before, each a traceback (exit 1) once the models had loaded: raters.json not UTF-8
    # (UnicodeDecodeError in the run's fingerprint), max_chars "abc" or null, domain labels
    # that are not a list, a reference of the wrong shape, a judge check of "x", a null or NaN
    # reliability; a negative max_chars scored every text cut to its last characters.
    import json

    s = _stage(tmp_path / "s")
    good = {"dimensions": {"educational_value": {"file": "ev.ftz"}}, "max_chars": 10000}
    cases = [
        (b'\xff\xfe{"dimensions": {}}', "corrupt"),
        ({**good, "max_chars": "abc"}, "'max_chars' is 'abc'"),
        ({**good, "max_chars": -5}, "'max_chars' is -5"),
        ({**good, "domain": {"file": "d.ftz", "labels": 5}}, "'domain.labels'"),
        ({**good, "reference": {"file": 5}}, "'reference' names no model"),
        ({**good, "judge_check": "x"}, "'judge_check' is a str"),
        ({**good, "judge_check": {"auc": 0.7, "reliability": None}}, "reliability' is None"),
        ({**good, "judge_check": {"auc": 0.7, "reliability": 0.5}}, "count 'n'"),
    ]
    for i, (meta, what) in enumerate(cases):
        r = tmp_path / f"r{i}"
        r.mkdir()
        raw = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
        (r / "raters.json").write_bytes(raw)
        out = tmp_path / f"out{i}"
        args = ["score", "apply", str(s), "-o", str(out), "--raters", str(r), "--no-perplexity"]
        line = one_line_error(*run_cli(args, capsys))
        assert what in line, line
        assert not out.exists()


def test_init_keeps_an_existing_file_unless_overwrite(tmp_path: Path, capsys):
    # Before: `qurate init -o pipeline.yaml` replaced the user's edited config, exit 0.
    mine = tmp_path / "pipeline.yaml"
    mine.write_text("run: {inputs: [my-data]}\n")
    line = one_line_error(*run_cli(["init", "-o", str(mine)], capsys))
    assert "exists" in line and "--overwrite" in line
    assert mine.read_text() == "run: {inputs: [my-data]}\n"
    code, err = run_cli(["init", "-o", str(mine), "--overwrite"], capsys)
    assert code in (0, None), err
    assert mine.read_text().startswith("# qurate pipeline config")


def test_run_reads_a_section_given_with_no_keys_as_its_defaults(tmp_path: Path, capsys):
    # Before: `mix:` (or `score:`, `train:`) uncommented alone loaded as null, so `qurate run`
    # skipped that stage without a word, exit 0; every other command reads it as defaults.
    from qurate.config import load_config

    cfg = tmp_path / "p.yaml"
    cfg.write_text("run: {inputs: [x.jsonl]}\nscore:\ntrain:\n")
    loaded = load_config(cfg)
    assert loaded.score is not None and loaded.train is not None
    cfg.write_text(f"run: {{inputs: [x.jsonl], out: {tmp_path / 'r'}}}\nmix:\n")
    line = one_line_error(*run_cli(["run", str(cfg)], capsys))
    assert "mix.budget_tokens: Field required" in line
    assert not (tmp_path / "r").exists()


def test_run_refuses_an_empty_run_directory_and_an_unscored_quality_mix(tmp_path: Path, capsys):
    # Before: `run.out: ""` ran in the current folder (curated/ and report.html among the
    # user's files, the report reading every stage below it); a `mix:` section without
    # `score:` failed only after curate, "every input document has a null quality".
    doc = tmp_path / "in.jsonl"
    doc.write_text('{"text": "x"}\n')
    cfg = tmp_path / "p.yaml"
    cfg.write_text(f"run: {{inputs: [{doc}], out: ''}}\n")
    assert "run.out" in one_line_error(*run_cli(["run", str(cfg)], capsys))
    out = tmp_path / "r"
    cfg.write_text(f"run: {{inputs: [{doc}], out: {out}}}\nmix: {{budget_tokens: 10}}\n")
    line = one_line_error(*run_cli(["run", str(cfg)], capsys))
    assert "mix.quality_buckets" in line and "score:" in line
    assert not (out / "curated").exists()


def test_augment_recall_refuses_a_negative_seed_before_any_work(tmp_path: Path, capsys):
    # Before: "error: ValueError: expected non-negative integer (traceback in ...)", exit 1,
    # from numpy's SeedSequence after the pool was read.
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(
        '{"text": "Let x be a real number; the integral of x is x squared over two."}\n'
    )
    out = tmp_path / "out"
    args = ["augment", "recall", str(_stage(tmp_path / "pool")), "-o", str(out), "--seeds",
            str(seeds), "--domain", "math", "--seed", "-1"]  # fmt: skip
    line = one_line_error(*run_cli(args, capsys))
    assert "augment.recall.seed" in line and not out.exists()


def test_a_fifo_named_like_a_shard_is_refused_not_opened(tmp_path: Path, capsys):
    # Before: a FIFO `part-00001.parquet` in a stage directory blocked `mix`, `stats` and
    # `report` on open, forever (killed only with SIGKILL).
    import os

    from qurate.contract.shards import shard_paths
    from qurate.errors import BadInputError

    s = _stage(tmp_path / "run" / "s")
    os.mkfifo(s / "part-00001.parquet")
    with pytest.raises(BadInputError, match=r"part-00001.parquet: not a regular file \(FIFO\)"):
        shard_paths(s)
    for args in (["stats", str(s)], ["mix", str(s), "-o", str(tmp_path / "m")],
                 ["report", str(tmp_path / "run"), "-o", str(tmp_path / "r.html")]):  # fmt: skip
        assert "not a regular file (FIFO)" in one_line_error(*run_cli(args, capsys))
    with pytest.raises(BadInputError, match="not a regular file"):  # nor `qurate train --data`
        from qurate.train.data import list_shards

        list_shards(s)


def test_augment_ingest_reads_only_a_stage_directorys_kept_shards(tmp_path: Path, capsys):
    # Before: `augment ingest STAGE` (or a folder holding one) walked it as any folder: its
    # rejects/ came back in as documents and manifest.json as malformed_json rejects (a
    # recall output of 59 kept gave 571 kept and 66 rejects); the same file given twice was
    # ingested twice (no dedup here), exit 0.
    import json

    from qurate.contract.files import write_manifest

    corpus = tmp_path / "corpus"
    s = _stage(corpus / "recalled", n=4)
    rejected = s / "rejects"
    rejected.mkdir()
    pq.write_table(pq.read_table(s / "part-00000.parquet"), rejected / "part-00000.parquet")
    write_manifest(s, stage="augment_recall", config_hash="x", inputs=[], n_in=8, n_kept=4,
                   rejected_by_reason={"not_recalled": 4})  # fmt: skip
    (corpus / "more.jsonl").write_text('{"text": "The sum of two even numbers is even."}\n')
    for src, kept in ((s, 4), (corpus, 5)):
        out = tmp_path / f"out-{src.name}"
        args = ["augment", "ingest", str(src), "-o", str(out), "--domain", "math"]
        code, err = run_cli(args, capsys)
        assert code in (0, None), err
        counts = json.loads((out / "manifest.json").read_text())["counts"]
        assert counts["in"] == counts["kept"] == kept, counts
    doc = corpus / "more.jsonl"
    args = ["augment", "ingest", str(doc), str(doc), "-o", str(tmp_path / "o2"), "--domain", "math"]
    assert "given twice as an input" in one_line_error(*run_cli(args, capsys))


def test_recall_and_score_apply_name_a_bad_column_before_any_work(tmp_path: Path, capsys):
    # Before: `augment recall` on a pool with a null text was "TypeError: 'NoneType' object
    # is not subscriptable", with a null id or an int domain an ArrowInvalid after round 1;
    # `score apply` on a null text/id or n_tokens as text an ArrowInvalid (all exit 1); an
    # empty pool was "recall training needs positives and negatives (got 1 and 0)".
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text('{"text": "Let x be a real number; the integral of x is x squared."}\n')
    r = tmp_path / "r"
    r.mkdir()
    (r / "raters.json").write_text('{"dimensions": {"ev": {"file": "ev.ftz"}}}')
    bad = {
        "text": pa.array([None] + ["words"] * 5, pa.large_string()),
        "domain": pa.array([1] * 6),
        "n_tokens": pa.array(["100"] * 6),
    }
    for name, values in bad.items():
        s = _stage(tmp_path / name, **{name: values})
        recall = ["augment", "recall", str(s), "-o", str(tmp_path / f"rc-{name}"), "--seeds",
                  str(seeds), "--domain", "math", "--rounds", "1"]  # fmt: skip
        apply = ["score", "apply", str(s), "-o", str(tmp_path / f"sa-{name}"), "--raters",
                 str(r), "--no-perplexity"]  # fmt: skip
        for args in (recall, apply):
            line = one_line_error(*run_cli(args, capsys))
            assert str(s / "part-00000.parquet") in line and name in line, line
    empty = _stage(tmp_path / "empty", n=0)
    args = ["augment", "recall", str(empty), "-o", str(tmp_path / "rc-e"), "--seeds", str(seeds),
            "--domain", "math"]  # fmt: skip
    assert "no documents to recall from" in one_line_error(*run_cli(args, capsys))


def test_synth_filter_refuses_an_unfinished_generate_directory(tmp_path: Path, capsys):
    # Before: a `synth generate` directory with its run marker and no manifest (killed, or
    # still running) was filtered as it stood, exit 0: its half-written samples became a
    # finished stage. A plain folder of samples is still read.
    import json

    rows = [{"prompt": "What is 1+1?", "response": "\\boxed{2}", "task": "math", "reference": "2"}]
    gen = tmp_path / "gen"
    gen.mkdir()
    (gen / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (gen / ".qurate-run.json").write_text('{"stage": "synth_generate"}')
    for cmd in (["synth", "filter", "--no-verify"], ["post", "data"]):
        args = [*cmd[:2], str(gen), "-o", str(tmp_path / f"o-{cmd[0]}"), *cmd[2:]]
        assert "did not finish" in one_line_error(*run_cli(args, capsys))
    (gen / ".qurate-run.json").unlink()
    args = ["synth", "filter", str(gen), "-o", str(tmp_path / "o2"), "--no-verify"]
    code, err = run_cli(args, capsys)
    assert code in (0, None), err


def test_report_skips_a_manifest_with_a_count_past_64_bits(tmp_path: Path, capsys):
    # Before: a hand-edited manifest counting 10**23 rejects made the page fail in plotly's
    # JSON, "TypeError: Integer exceeds 64-bit range (traceback in ...)", exit 1.
    import json

    run = tmp_path / "run"
    _stage(run / "a")
    b = _stage(run / "b")
    m = json.loads((b / "manifest.json").read_text())
    m["counts"]["rejected_by_reason"] = {"duplicate": 10**23}
    (b / "manifest.json").write_text(json.dumps(m))
    code, err = run_cli(["report", str(run), "-o", str(tmp_path / "r.html")], capsys)
    assert code in (0, None), err


def test_stats_json_is_json_with_a_nan_in_the_rows(tmp_path: Path, capsys):
    # Before: `--json` printed `"quality": NaN` and `Infinity`, which no strict parser reads.
    import json

    s = _stage(tmp_path / "s", quality=pa.array([float("nan"), float("inf")] + [0.5] * 4))
    args = ["stats", str(s), "--json", "--sql", "SELECT id, quality, [quality] AS q FROM docs"]
    with pytest.raises(SystemExit) as e:
        from qurate.cli import main

        main(args)
    assert e.value.code in (0, None)
    rows = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(c))
    assert rows[0]["quality"] is None and rows[1]["q"] == [None] and rows[2]["quality"] == 0.5


def test_score_apply_refuses_raters_of_another_text_preprocessing(tmp_path: Path, capsys):
    # Before: raters.json records `preprocess_version` and nothing compared it, so raters
    # distilled with another text cleaning scored every document, exit 0.
    import json

    s = _stage(tmp_path / "s")
    r = tmp_path / "r"
    r.mkdir()
    meta = {"dimensions": {"ev": {"file": "ev.ftz"}}, "preprocess_version": 2}
    (r / "raters.json").write_text(json.dumps(meta))
    args = ["score", "apply", str(s), "-o", str(tmp_path / "o"), "--raters", str(r),
            "--no-perplexity"]  # fmt: skip
    line = one_line_error(*run_cli(args, capsys))
    assert "preprocessing version 2" in line and "score distill" in line


def test_a_fifo_given_as_a_file_is_named_a_fifo(tmp_path: Path, capsys):
    # Before: a FIFO given as -c, --benchmark or the samples of `synth filter` was "no such
    # config file", "benchmark file not found", "no such file or directory", and to `augment
    # ingest` "no documents in f.jsonl": each wrong about a file that is there.
    import os

    fifo = tmp_path / "f.jsonl"
    os.mkfifo(fifo)
    s = _stage(tmp_path / "s")
    samples = tmp_path / "samples.jsonl"
    samples.write_text('{"prompt": "q", "response": "a", "task": "math"}\n')
    for args in (
        ["mix", str(s), "-c", str(fifo), "-o", str(tmp_path / "o1")],
        ["synth", "filter", str(samples), "-o", str(tmp_path / "o2"), "--benchmark", str(fifo)],
        ["synth", "filter", str(fifo), "-o", str(tmp_path / "o3")],
        ["augment", "ingest", str(fifo), "-o", str(tmp_path / "o4"), "--domain", "math"],
    ):
        assert "not a regular file (FIFO)" in one_line_error(*run_cli(args, capsys)), args


def test_a_yaml_that_holds_itself_expands_or_nests_without_end_is_one_line(tmp_path: Path, capsys):
    # Before: `run: &a [*a]` was "RecursionError ... (traceback in ...)", exit 1 (the NaN
    # check walked it forever); ten levels of ten aliases hung `qurate run` (10**9 values);
    # `[[[[...` 600 deep was PyYAML's own RecursionError, a traceback.
    bomb = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 9)]
    cases = {
        "run: &a [*a]\n": "holds itself",
        "\n".join(bomb) + "\nrun: {inputs: *l8}\n": "expands to more than",
        "run: " + "[" * 600 + "]" * 600 + "\n": "nested too deeply",
    }
    for i, (text, what) in enumerate(cases.items()):
        cfg = tmp_path / f"p{i}.yaml"
        cfg.write_text(text)
        for args in (["run", str(cfg)], ["mix", str(_stage(tmp_path / "s")), "-c", str(cfg)]):
            assert what in one_line_error(*run_cli(args, capsys)), (text[:40], args)


def test_score_apply_refuses_a_foreign_fasttext_model_as_a_rater(tmp_path: Path, capsys):
    # Before: the bundled domain model named as a rater was "ValueError: could not convert
    # string to float: 'technology' (traceback in ...)", exit 1; the language-ID model named
    # as the domain model labelled every document's domain "en", exit 0; the domain model as
    # the reference classifier gave every document P(reference) 0, exit 0.
    import json
    import shutil

    import qurate
    from qurate.llm.fasttext import RaterTrainConfig, train_classifier

    data = Path(qurate.__file__).parent / "data"
    s = _stage(tmp_path / "s")
    r = tmp_path / "r"
    r.mkdir()
    shutil.copy(data / "domains_v1.ftz", r / "domains_v1.ftz")
    texts = [f"good words {i} here" for i in range(10)] + [f"bad {i} junk" for i in range(10)]
    labels = ["1"] * 10 + ["3"] * 10
    rater = train_classifier(texts, labels, r, "ev", RaterTrainConfig(epoch=2, quantize=False))
    cases = [
        ({"ev": {"file": "domains_v1.ftz"}}, None, "not a rater model (its labels"),
        ({"ev": {"file": rater.name}}, {"file": "domains_v1.ftz", "labels": ["math"]},
         "not this directory's domain model"),
        ({"ev": {"file": rater.name}}, None, "not a reference classifier"),
    ]  # fmt: skip
    for i, (dims, domain, what) in enumerate(cases):
        meta = {"dimensions": dims, "domain": domain, "reference": {"file": "domains_v1.ftz"}}
        (r / "raters.json").write_text(json.dumps(meta))
        args = ["score", "apply", str(s), "-o", str(tmp_path / f"o{i}"), "--raters", str(r),
                "--no-perplexity"]  # fmt: skip
        assert what in one_line_error(*run_cli(args, capsys))
        assert not (tmp_path / f"o{i}").exists()


def test_mix_names_a_tokenizer_that_is_a_folder(tmp_path: Path, capsys):
    # Before: "tokenizer: DIR does not exist" for a folder that is there.
    s = _stage(tmp_path / "s", n_tokens=pa.array([None] * 6, pa.int64()))
    cfg = tmp_path / "mix.yaml"
    cfg.write_text(f"budget_tokens: 100\ntokenizer: {tmp_path}\n")
    line = one_line_error(*run_cli(["mix", str(s), "-c", str(cfg), "--dry-run"], capsys))
    assert "not a regular file (directory)" in line


def test_report_of_a_file_says_it_is_not_a_directory(tmp_path: Path, capsys):
    # Before: "FILE: no such run directory" for a file that is there.
    shard = _stage(tmp_path / "s") / "part-00000.parquet"
    line = one_line_error(*run_cli(["report", str(shard), "-o", str(tmp_path / "r.html")], capsys))
    assert "not a directory" in line
