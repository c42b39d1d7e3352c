"""Third sweep, data side: `stats --sql` cannot write or read outside its stage, and paths in
the pipeline config expand `~` and `$VAR` as the shell does. One clean line, exit 2."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from qurate.config import load_config
from qurate.contract.shards import write_manifest
from qurate.errors import BadInputError, ConfigError
from qurate.report import stats as st
from tests.contract.test_shards_stats import make_stage
from tests.robust.test_robust_cli import one_line_error, run_cli


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("COPY (SELECT 1) TO '{out}'", "COPY"),
        ("SELECT 1; COPY (SELECT * FROM docs) TO '{out}'", "COPY"),
        ("ATTACH '{out}' AS x", "ATTACH"),
        ("DROP VIEW docs", "DROP"),
        ("CREATE TABLE t AS SELECT 1", "CREATE"),
    ],
)
def test_stats_sql_refuses_statements_that_are_not_queries(
    tmp_path: Path, capsys, sql: str, kind: str
):
    # Before: exit 0, and COPY ... TO wrote the file (ATTACH created a database file).
    stage, out = tmp_path / "stage", tmp_path / "written.csv"
    make_stage(stage)
    line = one_line_error(*run_cli(["stats", str(stage), "--sql", sql.format(out=out)], capsys))
    assert "read-only" in line and kind in line
    assert not out.exists()


def test_stats_sql_reads_no_file_but_the_stage(tmp_path: Path, capsys):
    # Before: read_csv / read_text on any path printed the file (e.g. /etc/passwd).
    stage, secret = tmp_path / "stage", tmp_path / "secret.csv"
    make_stage(stage)
    secret.write_text("a\nsecret-value\n")
    for sql in (f"SELECT * FROM read_csv('{secret}')", f"SELECT * FROM '{secret}'"):
        line = one_line_error(*run_cli(["stats", str(stage), "--sql", sql], capsys))
        assert "secret-value" not in line and "--sql" in line
    with pytest.raises(BadInputError, match="refused: LOAD"):
        st.run_sql(stage, "INSTALL httpfs")


def test_stats_sql_still_answers_queries_over_every_view(tmp_path: Path):
    make_stage(tmp_path)
    assert st.run_sql(tmp_path, "SELECT count(*) FROM all_docs")[1] == [(7,)]
    assert st.run_sql(tmp_path, "SELECT 1; SELECT count(*) FROM rejects")[1] == [(2,)]
    assert st.run_sql(tmp_path, "EXPLAIN SELECT * FROM docs")[0]


def _config(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "pipe.yaml"
    p.write_text(body)
    return p


def test_config_paths_expand_home_and_environment(tmp_path: Path, monkeypatch):
    # Before: `out: ~/runs` made a folder literally named `~` in the working directory,
    # and `inputs: [$DATA]` failed as "no such file or directory: $DATA".
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("QURATE_TEST_DATA", str(tmp_path / "data"))
    cfg = load_config(
        _config(
            tmp_path,
            "run:\n  inputs: [$QURATE_TEST_DATA/a.jsonl, '${QURATE_TEST_DATA}/b']\n"
            "  out: ~/runs\n  benchmarks: [~/bench.jsonl]\n",
        )
    )
    assert cfg.run.inputs == [f"{tmp_path}/data/a.jsonl", f"{tmp_path}/data/b"]
    assert cfg.run.out == f"{tmp_path}/home/runs"
    assert cfg.run.benchmarks == [f"{tmp_path}/home/bench.jsonl"]


def test_an_unset_variable_in_a_config_path_is_named(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.delenv("QURATE_TEST_UNSET", raising=False)
    p = _config(tmp_path, "run:\n  inputs: [$QURATE_TEST_UNSET/x]\n  out: o\n")
    with pytest.raises(ConfigError, match="QURATE_TEST_UNSET is not set"):
        load_config(p)
    line = one_line_error(*run_cli(["run", str(p)], capsys))
    assert "run.inputs" in line and "QURATE_TEST_UNSET" in line
    assert not (tmp_path / "o").exists()


def _tiny_fasttext(path: Path) -> bytes:
    """A real rater file, trained as distill trains one (named by its content)."""
    from qurate.llm.fasttext import RaterTrainConfig, train_classifier

    texts = [f"word{i % 7} text {i}" for i in range(60)]
    cfg = RaterTrainConfig(epoch=2, dim=8, bucket=1000, quantize=False, thread=1)
    return train_classifier(
        texts, [str(i % 3) for i in range(60)], path.parent, "m", cfg
    ).read_bytes()


def _raters_dir(tmp_path: Path, name: str, data: bytes) -> Path:
    d = tmp_path / "models"
    d.mkdir()
    (d / name).write_bytes(data)
    (d / "raters.json").write_text(json.dumps({"dimensions": {"edu": {"file": name}}}))
    return d


def test_score_apply_names_a_truncated_rater_model(tmp_path: Path, capsys):
    # Before: "error: MemoryError: std::bad_alloc (traceback in ...)", exit 1: fastText read
    # the cut file's sizes as garbage. Distill names each model by its content's sha256.
    data = _tiny_fasttext(tmp_path / "m.bin")
    digest = hashlib.sha256(data).hexdigest()[:16]
    models = _raters_dir(tmp_path, f"edu-{digest}.bin", data[: len(data) // 3])
    make_stage(tmp_path / "stage")
    write_manifest(
        tmp_path / "stage",
        stage="curate",
        config_hash="x",
        inputs=[],
        n_in=7,
        n_kept=5,
        rejected_by_reason={"duplicate": 1, "malformed_json": 1},
    )
    args = ["score", "apply", str(tmp_path / "stage"), "-o", str(tmp_path / "out")]
    line = one_line_error(*run_cli([*args, "--raters", str(models)], capsys))
    assert f"edu-{digest}.bin" in line and "corrupt rater model" in line
