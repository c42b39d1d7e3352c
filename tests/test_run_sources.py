"""`qurate run pipeline.yaml` runs every lever from one config: dedicated corpora
(`run.ingest`), recall from a general pool (`run.recall`) and teacher synthesis (`run.synth`)
each write their own directory of the run and join the mix. Before, only curate, score, mix
and train could be run from a config; the other levers needed their own commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qurate.config import parse_config
from qurate.contract.shards import iter_rows, read_manifest
from qurate.errors import QurateError
from qurate.run import SAMPLE, run_pipeline

pytestmark = pytest.mark.slow


def _jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _sample(name: str, n: int) -> list[dict]:
    rows = [json.loads(line) for line in (SAMPLE / name).read_text().splitlines()]
    return [{"id": f"{name}-{i}", "text": r["text"]} for i, r in enumerate(rows[:n])]


def _config(tmp_path: Path, teacher: str, **run: object) -> dict:
    web = _jsonl(tmp_path / "web.jsonl", _sample("web.jsonl", 30))
    pool = _jsonl(tmp_path / "pool.jsonl", _sample("docs.jsonl", 40) + _sample("math.jsonl", 20))
    seeds = _jsonl(tmp_path / "synth-seeds.jsonl", [
        {"id": f"s{i}", "text": f"Water boils at {90 + i} degrees at some altitude."}
        for i in range(3)
    ])  # fmt: skip
    return {
        "run": {
            "inputs": [web],
            "out": str(tmp_path / "run"),
            "ingest": [{"domain": "code", "inputs": [str(SAMPLE / "code.parquet")]}],
            "recall": [{"domain": "math", "pool": [pool]}],
            "synth": [{"seeds": seeds, "task": "knowledge"}],
            "ablate": True,
            "post": {},
            **run,
        },
        "augment": {"recall": {"rounds": 1}},
        "synth": {
            "generate": {"n": 2, "max_tokens": 4, "teacher": {"model": teacher, "device": "cpu"}},
            "filter": {"min_votes": 1},
        },  # fmt: skip
        "mix": {"budget_tokens": 200_000, "quality_buckets": 1},
        "train": {
            "max_steps": 6,
            "seq_len": 64,
            "micro_batch_size": 4,
            "eval_every": 0,
            "save_every": 6,
        },
        "post": {
            "device": "cpu",
            "data": {"max_tokens": 256},
            "pairs": {"max_prompt_tokens": 128},
            "sft": {"max_steps": 2, "batch_size": 2, "max_tokens": 256, "save_steps": 2},
            "dpo": {"max_steps": 2, "batch_size": 2, "max_tokens": 256, "save_steps": 2},
        },
        "ablate": {
            "evals": {"heldout": str(SAMPLE / "seeds" / "math.jsonl")},
            "tokens": 4096,
            "seeds": 1,
            "seq_len": 32,
            "micro_batch_size": 4,
            "batch_tokens": 128,
            "tokenizer_chars": 50_000,
            "eval_max_docs": 4,
            "eval_seq_len": 64,
        },
    }


@pytest.fixture(scope="module")
def teacher() -> str:
    pytest.importorskip("torch")
    from qurate.llm.testing import cached_tiny_chat_model

    return str(cached_tiny_chat_model())


def test_ingest_recall_and_synth_each_write_their_directory_and_join_the_mix(tmp_path, teacher):
    cfg = parse_config(_config(tmp_path, teacher))
    lines: list[str] = []
    run_pipeline(cfg, say=lines.append, progress=False)
    run = tmp_path / "run"
    stages = {
        "ingest-code/ingested": "augment_ingest",
        "recall-math/pool": "curate",
        "recall-math/recalled": "recall",
        "synth-knowledge/synth": "synth_filter",
        "mixed": "mix",
    }
    for sub, stage in stages.items():
        m = read_manifest(run / sub)
        assert m["stage"] == stage and m["counts"]["in"] > 0, (sub, m["stage"], m["counts"])
    mixed = read_manifest(run / "mixed")
    joined = {Path(p).relative_to(run).as_posix() for p in mixed["inputs"]}
    assert joined == {"curated", "ingest-code/ingested", "recall-math/recalled",
                      "synth-knowledge/synth"}, joined  # fmt: skip
    domains = {r["domain"] for r in iter_rows(run / "mixed", columns=["domain"])}
    assert {"code", "math"} <= domains, domains  # the levers' documents reached the mix
    results = json.loads((run / "ablation" / "results.json").read_text())
    arms = {n: Path(a["path"]).resolve().relative_to(run.resolve()).as_posix()
            for n, a in results["arms"].items()}  # fmt: skip
    assert arms == {"mixed": "mixed", "curated": "curated"}, arms  # the default comparison
    assert set(results["summary"]["by_eval"]["heldout"]) == {"mixed", "curated"}
    # the directories the run records as its own (the report reads only those) are exactly
    # those it wrote: a stage added to the run but not to its record would vanish from it
    recorded = json.loads((run / ".qurate-stages.json").read_text())["stages"]
    written = {d.name for d in run.iterdir() if d.is_dir() and not d.name.startswith(".")}
    assert set(recorded) == written, (recorded, written)
    recalled = read_manifest(run / "recall-math/recalled")["counts"]
    assert 0 < recalled["kept"] < recalled["in"], recalled  # recall chose, not copied

    # post-training on the run's own model: SFT rows from the synth output, then SFT
    assert read_manifest(run / "post" / "sft")["counts"]["in"] > 0
    assert (run / "post" / "hf" / "config.json").is_file()  # the trained model, exported
    assert any(line.startswith(("post sft done", "post sft:")) for line in lines), lines

    again: list[str] = []  # the same config again: every stage is a finished no-op
    run_pipeline(cfg, say=again.append, progress=False)
    assert read_manifest(run / "mixed")["fingerprint"] == mixed["fingerprint"]


@pytest.mark.parametrize(
    ("run", "message"),
    [
        ({"recall": [{"domain": "math", "pool": ["a"]}, {"domain": "math", "pool": ["b"]}]},
         "recall: math given twice"),
        ({"synth": [{"seeds": "{seeds}"}, {"seeds": "{seeds}", "task": "math"}]},
         "run.synth: task math given twice"),
        ({"recall": [{"domain": "math", "pool": ["{tmp}/missing-pool"]}]},
         "run.recall[0].pool: {tmp}/missing-pool: no such file or directory"),
        ({"synth": [{"seeds": "{tmp}/nope.jsonl"}]},
         "run.synth[0].seeds: {tmp}/nope.jsonl: no such file or directory"),
        ({"ingest": [{"domain": "prose", "inputs": ["x"]}]}, "ingest.0.domain"),
        ({"ablate": True}, "run.ablate: name the held-out evaluations in ablate.evals"),
        ({"post": {}}, "run.post: name run.post.model"),
        ({"post": {"model": "{seeds}"}}, "run.post.dpo: DPO pairs come from run.synth"),
        ({"post": {"model": "{seeds}", "dpo": False}}, "run.post.sft: no SFT rows"),
    ],
)  # fmt: skip
def test_config_mistakes_are_one_line_before_anything_runs(tmp_path, run, message):
    seeds = _jsonl(tmp_path / "s.jsonl", [{"id": "a", "text": "x"}])
    raw = json.dumps(run).replace("{seeds}", seeds).replace("{tmp}", str(tmp_path))
    data = {"run": {"inputs": [seeds], "out": str(tmp_path / "run"), **json.loads(raw)}}
    with pytest.raises(QurateError) as e:
        run_pipeline(parse_config(data), say=lambda s: None, progress=False)
    assert message.replace("{tmp}", str(tmp_path)) in str(e.value), str(e.value)
    assert "\n" not in str(e.value) and not (tmp_path / "run").exists()


def test_an_arm_the_run_makes_is_not_refused_as_missing(tmp_path, monkeypatch):
    # ablate.arms naming the run's own mix (run.out/mixed) is there only after the mix; an
    # arm outside the run must exist before curate starts
    import qurate.run as qrun

    seeds = _jsonl(tmp_path / "s.jsonl", [{"id": "a", "text": "x"}])
    run = tmp_path / "run"
    arms = {"mixed": str(run / "mixed"), "base": str(tmp_path / "base.jsonl")}
    data = {"run": {"inputs": [seeds], "out": str(run), "ablate": True},
            "mix": {"budget_tokens": 1000, "quality_buckets": 1},
            "ablate": {"evals": {"h": seeds}, "arms": arms}}  # fmt: skip
    with pytest.raises(QurateError, match=r"ablate.arms.base: .*base.jsonl: no such file"):
        run_pipeline(parse_config(data), say=lambda s: None, progress=False)
    _jsonl(tmp_path / "base.jsonl", [{"id": "b", "text": "y"}])
    monkeypatch.setattr(qrun, "_curate", lambda *a: (_ for _ in ()).throw(RuntimeError("past")))
    with pytest.raises(RuntimeError, match="past"):  # the checks passed; curate was next
        run_pipeline(parse_config(data), say=lambda s: None, progress=False)


def test_the_default_ablation_needs_a_mix_and_a_recipe_that_fits(tmp_path):
    seeds = _jsonl(tmp_path / "s.jsonl", [{"id": "a", "text": "x"}])
    base = {"run": {"inputs": [seeds], "out": str(tmp_path / "run"), "ablate": True},
            "ablate": {"evals": {"h": seeds}}}  # fmt: skip
    for extra, message in [
        ({}, "run.ablate: with no ablate.arms the ablation compares the mix"),
        ({"mix": {"budget_tokens": 1000}, "ablate": {"evals": {"h": seeds}, "preset": "huge"}},
         "preset"),
        ({"mix": {"budget_tokens": 1000}, "ablate": {"evals": {"h": str(tmp_path / "no")}}},
         f"ablate.evals.h: {tmp_path}/no: no such file or directory"),
    ]:  # fmt: skip
        with pytest.raises(QurateError) as e:
            run_pipeline(parse_config({**base, **extra}), say=lambda s: None, progress=False)
        assert message in str(e.value), str(e.value)
        assert not (tmp_path / "run").exists()
