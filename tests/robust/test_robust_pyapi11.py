"""The README's library calls, given what a script passes instead of what the CLI parses.

Each case was a bare ``TypeError`` / ``AttributeError`` from deep inside, a multi-line
message, or a silent wrong run (``curate("raw.jsonl")`` read the path one character at a
time; ``train(None, ...)`` trained from a directory named ``None``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qurate.augment.recall import recall
from qurate.config import load_config
from qurate.curate.pipeline import curate
from qurate.errors import BadInputError, ConfigError
from qurate.mixers import load_mix_config, mix
from qurate.report.stats import run_sql
from qurate.run import run_pipeline
from qurate.score.annotate import annotate
from qurate.score.apply import apply
from qurate.score.distill import distill
from qurate.train.api import train

SAMPLE = Path(__file__).resolve().parents[2] / "qurate" / "data" / "sample" / "web.jsonl"


def _one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg, msg
    return msg


@pytest.fixture()
def raw(tmp_path: Path) -> Path:
    p = tmp_path / "raw.jsonl"
    p.write_text("".join(SAMPLE.read_text().splitlines(keepends=True)[:20]))
    return p


class _Where:
    """An ``os.PathLike`` whose ``str`` is not its path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __fspath__(self) -> str:
        return str(self.path)


def test_a_single_input_path_and_no_config_curate_that_file_with_the_defaults(raw, tmp_path):
    res = curate(str(raw), tmp_path / "out", None, progress=False)
    assert res.manifest["counts"]["in"] == 20


def test_curate_refuses_no_inputs_a_bad_config_dict_and_another_section(raw, tmp_path):
    with pytest.raises(BadInputError, match="at least one input"):
        curate([], tmp_path / "o", None, progress=False)
    with pytest.raises(ConfigError, match=r"dedup\.nosuch: unknown key"):
        curate([raw], tmp_path / "o", {"dedup": {"nosuch": 1}}, progress=False)
    with pytest.raises(ConfigError, match="expected CurateConfig") as e:
        curate([raw], tmp_path / "o", load_config(None).executor, progress=False)
    _one_line(e)
    with pytest.raises(ConfigError, match="expected ExecutorConfig"):
        curate([raw], tmp_path / "o", None, executor=load_config(None).curate, progress=False)


@pytest.mark.parametrize("bad", [3, None, ""])
def test_every_stage_names_an_output_path_that_is_no_path(tmp_path, bad):
    calls = [
        lambda: curate([tmp_path], bad, None, progress=False),
        lambda: mix([tmp_path], bad, {"budget_tokens": 1000}),
        lambda: annotate(tmp_path, bad),
        lambda: distill(tmp_path, bad),
        lambda: apply(tmp_path, bad, tmp_path),
        lambda: recall(tmp_path, bad, ["a seed"], "math"),
        lambda: train(tmp_path, bad, max_steps=1),
        lambda: run_sql(bad, "SELECT 1"),
    ]
    for call in calls:
        with pytest.raises(BadInputError, match="expected a path|the path is empty") as e:
            call()
        _one_line(e)
    with pytest.raises(BadInputError, match="train data_dir"):
        train(None, tmp_path / "t", max_steps=1)  # trained from a directory named "None"


def test_every_stage_names_a_config_of_the_wrong_section(tmp_path):
    other = load_config(None).curate
    calls = [
        ("MixConfig", lambda: mix([tmp_path], tmp_path / "m", other)),
        ("ScoreConfig", lambda: annotate(tmp_path, tmp_path / "a", other)),
        ("ScoreConfig", lambda: distill(tmp_path, tmp_path / "d", other)),
        ("ScoreConfig", lambda: apply(tmp_path, tmp_path / "s", tmp_path, other)),
        ("RecallConfig", lambda: recall(tmp_path, tmp_path / "r", ["a"], "math", other)),
        ("PipelineConfig", lambda: run_pipeline(other)),
    ]
    for model, call in calls:
        with pytest.raises(ConfigError, match=f"expected {model}") as e:
            call()
        _one_line(e)
    with pytest.raises(ConfigError, match="budget_tokens"):  # None: the defaults, and a mix
        mix([tmp_path], tmp_path / "m", None)  # has no default budget


def test_run_pipeline_takes_none_a_dict_or_a_path(tmp_path):
    with pytest.raises(ConfigError, match="run.inputs"):
        run_pipeline(None)
    with pytest.raises(ConfigError, match="run.inputs"):
        run_pipeline({"run": {"out": str(tmp_path / "run")}})
    with pytest.raises(ConfigError, match="no such config file"):
        run_pipeline(tmp_path / "pipeline.yaml")


def test_recall_seeds_none_or_not_texts_is_a_clear_error(tmp_path):
    for bad in (None, (1, 2)):
        with pytest.raises(BadInputError, match="recall seeds") as e:
            recall(tmp_path, tmp_path / "r", bad, "math")
        _one_line(e)


def test_run_sql_refuses_a_query_that_is_not_text(tmp_path):
    for bad in (None, 3, b"SELECT 1"):
        with pytest.raises(BadInputError, match="the query must be a str"):
            run_sql(tmp_path, bad)


def test_the_config_loaders_refuse_yaml_text_dicts_and_non_paths_on_one_line(tmp_path):
    for load in (load_config, load_mix_config):
        for bad, why in [
            ("curate:\n  text_key: body\n", "got YAML text"),
            ({"curate": {}}, "got a dict"),
            (3, "expected a path"),
            ([str(tmp_path)], "expected a path"),
        ]:
            with pytest.raises(ConfigError, match=why) as e:
                load(bad)
            _one_line(e)
    with pytest.raises(ConfigError, match="no default mix"):
        load_mix_config(None)
    mix_yaml = tmp_path / "MIX.yaml"
    mix_yaml.write_text(json.dumps({"budget_tokens": "lots"}))
    with pytest.raises(ConfigError) as e:
        load_mix_config(_Where(mix_yaml))
    assert _one_line(e).startswith(f"{mix_yaml}: budget_tokens")  # was the object's repr
