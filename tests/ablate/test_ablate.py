"""The ablation loop: one recipe per arm, identical arms agree, kills resume, bad arms explain."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ablate_builders import small_cfg, word_docs

from qurate.ablate import runner
from qurate.ablate.runner import run_ablation
from qurate.contract.stagedir import write_manifest
from qurate.errors import BadInputError


@pytest.fixture
def corpus(tmp_path, jsonl):
    docs = word_docs(120, seed=3)
    held = word_docs(15, seed=4)
    return {
        "a": jsonl(tmp_path / "a.jsonl", docs),
        "a_copy": jsonl(tmp_path / "a_copy.jsonl", docs),
        "other": jsonl(tmp_path / "other.jsonl", word_docs(120, seed=5) + [held[0]]),
        "held": jsonl(tmp_path / "held.jsonl", held),
    }


def test_identical_arms_give_identical_results_and_seeds_differ(tmp_path, corpus):
    c = small_cfg({"a": corpus["a"], "b": corpus["a_copy"]}, {"held": corpus["held"]}, seeds=2)
    res = run_ablation(c, tmp_path / "out")
    by = {(r["arm"], r["seed"]): r["evals"]["held"]["value"] for r in res["runs"]}
    assert by[("a", 0)] == by[("b", 0)] and by[("a", 1)] == by[("b", 1)]
    assert by[("a", 0)] != by[("a", 1)]  # the seed matters, so the equality above means something
    runs = {(r["arm"], r["seed"]): r for r in res["runs"]}
    assert {r["tokens"] for r in runs.values()} == {1024}  # the same budget for every run
    assert res["arms"]["a"]["mode"] == "sample" and 0.8 < res["arms"]["a"]["epochs"] < 1
    d = res["summary"]["differences"][0]
    assert d["delta"] == 0 and d["exceeds_spread"] is False
    on_disk = json.loads((tmp_path / "out" / "results.json").read_text())
    assert on_disk["summary"] == res["summary"]
    assert (tmp_path / "out" / "a" / "seed-1" / "metrics.jsonl").is_file()
    assert len(res["curves"]["b"]["0"]) == 8  # 1024 tokens / 128 per step
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["stage"] == "ablate" and manifest["counts"]["in"] == 15


def test_leakage_is_reported_per_arm(tmp_path, corpus):
    c = small_cfg({"a": corpus["a"], "other": corpus["other"]}, {"held": corpus["held"]})
    res = run_ablation(c, tmp_path / "out")
    assert res["leakage"]["a"]["held"]["any"] == 0
    assert res["leakage"]["other"]["held"]["exact"] == 1


def test_a_killed_ablation_resumes_keeping_finished_arms(tmp_path, corpus, monkeypatch):
    c = small_cfg({"a": corpus["a"], "b": corpus["other"]}, {"held": corpus["held"]})
    real = runner._job

    def dies_on_b(arm, *args):
        if arm.name == "b":
            raise KeyboardInterrupt  # what Ctrl-C does mid-arm
        return real(arm, *args)

    monkeypatch.setattr(runner, "_job", dies_on_b)
    with pytest.raises(KeyboardInterrupt):
        run_ablation(c, tmp_path / "out")
    done = tmp_path / "out" / "a" / "seed-0" / "result.json"
    first = done.stat().st_mtime_ns
    assert not (tmp_path / "out" / "manifest.json").exists()
    monkeypatch.setattr(runner, "_job", real)
    res = run_ablation(c, tmp_path / "out")
    assert done.stat().st_mtime_ns == first  # arm a was not trained again
    assert {r["arm"] for r in res["runs"]} == {"a", "b"}
    again = run_ablation(c, tmp_path / "out")  # the same finished run: a no-op
    assert again["runs"] == res["runs"]
    with pytest.raises(BadInputError, match="different finished run .*--overwrite"):
        run_ablation(c.model_copy(update={"tokens": 2048}), tmp_path / "out")


def test_bad_arms_are_one_line_errors_naming_the_arm(tmp_path, corpus, jsonl):
    empty = jsonl(tmp_path / "empty.jsonl", [{"text": ""}, {"text": "   "}])
    with pytest.raises(BadInputError, match=r"arm hollow .*no text") as e:
        run_ablation(small_cfg({"hollow": empty}, {"held": corpus["held"]}), tmp_path / "o1")
    assert "\n" not in str(e.value)
    tiny = jsonl(tmp_path / "tiny.jsonl", [{"text": "a few words only"}])
    with pytest.raises(
        BadInputError, match=r"arm small: \d+ tokens, fewer than one training batch"
    ) as e:
        run_ablation(
            small_cfg({"small": tiny, "a": corpus["a"]}, {"held": corpus["held"]}), tmp_path / "o2"
        )
    assert "\n" not in str(e.value)
    bad_eval = jsonl(
        tmp_path / "bad.jsonl", [{"question": "q", "choices": ["x", "y"], "answer": 3}]
    )
    with pytest.raises(BadInputError, match="eval mc .*no usable mc rows"):
        run_ablation(small_cfg({"a": corpus["a"]}, {"mc": bad_eval}), tmp_path / "o3")
    assert not (tmp_path / "o3").exists()  # checked before anything is written


def test_arms_of_different_schema_versions_compare(tmp_path, corpus):
    stages = {}
    for name, version in (("old", b"0"), ("new", b"1")):
        d = tmp_path / name
        d.mkdir()
        texts = [r["text"] for r in word_docs(120, seed=9)]
        table = pa.table({"id": [str(i) for i in range(120)], "text": texts})
        table = table.replace_schema_metadata({b"qurate.schema_version": version})
        pq.write_table(table, d / "part-00000.parquet")
        write_manifest(
            d,
            stage="curate",
            config_hash="x",
            inputs=[],
            n_in=120,
            n_kept=120,
            rejected_by_reason={},
        )
        stages[name] = d
    res = run_ablation(small_cfg(stages, {"held": corpus["held"]}), tmp_path / "out")
    assert res["arms"]["old"]["schema_versions"] != res["arms"]["new"]["schema_versions"]
    vals = {r["arm"]: r["evals"]["held"]["value"] for r in res["runs"]}
    assert vals["old"] == vals["new"]  # same text, same recipe: the version does not matter


def test_a_small_arm_is_repeated_and_a_large_one_sampled(tmp_path, corpus):
    from tokenizers import Tokenizer

    from qurate.ablate.arms import arm_texts, prepare_arm, shared_tokenizer

    c = small_cfg({"a": corpus["a"]}, {"held": corpus["held"]}, tokens=50_000)
    rows, facts = arm_texts("a", str(corpus["a"]))
    tok = shared_tokenizer({"a": rows}, c, tmp_path / "tok")
    assert isinstance(tok, Tokenizer)
    arm = prepare_arm("a", rows, facts, tok, c, tmp_path / "a")
    assert arm.mode == "repeat" and arm.used_docs == 120
    assert arm.epochs == pytest.approx(50_000 / arm.tokens, rel=1e-3) and arm.epochs > 1
    small = prepare_arm("a", rows, facts, tok, c.model_copy(update={"tokens": 500}), tmp_path / "b")
    assert small.mode == "sample" and small.used_docs < 120 and small.used_tokens >= 500


def test_parallel_runs_give_the_same_identical_arm_results(tmp_path, corpus):
    c = small_cfg({"a": corpus["a"], "b": corpus["a_copy"]}, {"held": corpus["held"]}, parallel=2)
    res = run_ablation(c, tmp_path / "out")
    vals = {r["arm"]: r["evals"]["held"]["value"] for r in res["runs"]}
    assert vals["a"] == vals["b"] and len(res["runs"]) == 2


def test_a_kill_mid_arm_resumes_from_its_checkpoint_to_the_same_result(
    tmp_path, corpus, monkeypatch
):
    import qurate.train.api as api

    c = small_cfg({"a": corpus["a"]}, {"held": corpus["held"]})
    whole = run_ablation(c, tmp_path / "whole")["runs"][0]
    real = api.train_config
    calls = []

    def killed_after_step_3(tcfg, **kw):
        calls.append(kw)
        if len(calls) == 1:
            real(tcfg, stop_at=3, **kw)  # trains 3 of 8 steps and checkpoints them
            raise KeyboardInterrupt  # then the kill
        return real(tcfg, **kw)

    monkeypatch.setattr(api, "train_config", killed_after_step_3)
    with pytest.raises(KeyboardInterrupt):
        run_ablation(c, tmp_path / "out")
    run = tmp_path / "out" / "a" / "seed-0"
    assert not (run / "result.json").exists()
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert max(steps) == 3
    resumed = run_ablation(c, tmp_path / "out")["runs"][0]
    assert calls[1].get("resume") is True and len(calls) == 2
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and max(steps) == 8  # no step trained twice
    assert resumed["tokens"] == whole["tokens"] == 1024
    assert resumed["final_loss"] == pytest.approx(whole["final_loss"], rel=1e-5)
    assert resumed["evals"]["held"]["value"] == pytest.approx(
        whole["evals"]["held"]["value"], rel=1e-5
    )
