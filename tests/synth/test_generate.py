"""Teacher generation: templates, output parsing, rejects with reasons, provenance, cache and
resume, and one-line errors for seeds that lack what a task needs."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from conftest import ScriptedEngine

from qurate.contract.shards import read_manifest
from qurate.errors import BadInputError, ConfigError
from qurate.llm.cache import CachedEngine, PromptCache
from qurate.synth.config import GenerateConfig
from qurate.synth.generate import REJECTS_FILE, generate
from qurate.synth.samples import read_samples
from qurate.synth.tasks import load_templates, parse_output

SEEDS = [
    {"id": "p1", "problem": "What is 2 + 3?", "answer": "5"},
    {"id": "p2", "problem": "What is half of 7?"},
]


def _math_teacher(user: str, k: int) -> str:
    if "half of 7" in user:
        return [
            "",
            "I think it is three and a half.",
            r"Half of 7 is \boxed{\frac{7}{2}}.",
            r"\boxed{3.5}",
        ][k]
    return rf"2 + 3 = {5 + k % 2}, so \boxed{{{5 + k % 2}}}."


def _rows(path):
    return pq.read_table(path).to_pylist()


def test_math_generation_keeps_parsed_and_rejects_empty_or_malformed(tmp_path):
    eng = ScriptedEngine(_math_teacher)
    r = generate(SEEDS, tmp_path, "math", n=4, engine=eng)
    assert r.template == "math_solve_v1" and r.outputs == 8
    assert r.kept == 6 and r.rejected == {"empty_output": 1, "malformed_output": 1}
    kept = _rows(tmp_path / "samples.parquet")
    rej = _rows(tmp_path / REJECTS_FILE)
    assert {x["reject_reason"] for x in rej} == {"empty_output", "malformed_output"}
    assert all(x["seed_id"] == "p2" for x in rej)
    p1 = [x for x in kept if x["seed_id"] == "p1"]
    assert {x["prompt"] for x in p1} == {"What is 2 + 3?"} and {x["reference"] for x in p1} == {"5"}
    prov = json.loads(p1[0]["provenance"])
    assert prov["teacher"] == {"engine": "scripted", "model": "scripted-teacher"}
    assert (prov["template"], prov["template_version"], prov["seed_id"]) == ("math_solve", 1, "p1")
    assert prov["sampling"]["n"] == 4 and prov["sampling"]["temperature"] == 0.7
    assert len({x["id"] for x in kept}) == 6  # stable, distinct ids
    m = read_manifest(tmp_path)
    assert m["counts"]["in"] == 8 and m["template"] == "math_solve_v1"
    assert {x["id"] for x in read_samples(tmp_path)} == {x["id"] for x in kept}  # not rejects


def test_the_directory_glob_reads_the_kept_samples_alone(tmp_path, monkeypatch):
    # Before: rejects.parquet lay beside samples.parquet, so `SELECT ... FROM 'OUT/*.parquet'`
    # in DuckDB (and polars) read the rejects as samples, and Hugging Face `datasets` failed
    # on the two files' different columns. Every other stage keeps its rejects under rejects/.
    import duckdb
    import polars as pl
    from datasets import load_dataset

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    generate(SEEDS, tmp_path, "math", n=4, engine=ScriptedEngine(_math_teacher))
    glob = f"{tmp_path}/*.parquet"
    assert duckdb.execute(f"SELECT count(*) FROM '{glob}'").fetchall() == [(6,)]
    assert pl.read_parquet(glob).height == 6
    hf = load_dataset("parquet", data_files=glob, split="train", cache_dir=str(tmp_path / "hf"))
    assert hf.num_rows == 6 and "reject_reason" not in hf.column_names
    assert len(_rows(tmp_path / REJECTS_FILE)) == 2


def test_seeds_without_needed_fields_are_a_clear_error(tmp_path):
    eng = ScriptedEngine(_math_teacher)
    with pytest.raises(BadInputError, match=r"seed s2: template math_solve_v1 .* needs .*problem"):
        generate(
            [{"id": "s1", "problem": "1+1?"}, {"id": "s2", "question": "x"}],
            tmp_path,
            "math",
            engine=eng,
        )
    assert eng.asked == []  # nothing was sent to the teacher
    with pytest.raises(BadInputError, match="need a field 'instruction' or 'text'"):
        generate([{"id": "s1", "problem": "1+1?"}], tmp_path, "code", engine=eng)
    with pytest.raises(ConfigError, match="unknown template 'nope'; known: .*math_synth_v1"):
        generate(SEEDS, tmp_path, "math", cfg=GenerateConfig(template="nope"), engine=eng)
    with pytest.raises(ConfigError, match="is for task code"):
        generate(SEEDS, tmp_path, "math", cfg=GenerateConfig(template="code_solve_v1"), engine=eng)


def test_code_generation_splits_solution_and_tests(tmp_path):
    out = "Here:\n```python\ndef sq(x):\n    return x * x\n```\nTests:\n```python\nassert sq(3) == 9\n```\n"
    seeds = [
        {"id": "c1", "instruction": "Write sq(x)."},
        {"id": "c2", "instruction": "Write sq.", "tests": "assert sq(2) == 4"},
    ]
    r = generate(seeds, tmp_path / "a", "code", n=1, engine=ScriptedEngine(lambda u, k: out))
    rows = {x["seed_id"]: x for x in _rows(tmp_path / "a" / "samples.parquet")}
    assert r.kept == 2
    assert rows["c1"]["tests"] == "assert sq(3) == 9" and "assert" not in rows["c1"]["response"]
    assert rows["c2"]["tests"] == "assert sq(2) == 4"  # the seed's own tests win
    bad = generate(
        seeds[:1], tmp_path / "b", "code", n=1, engine=ScriptedEngine(lambda u, k: "def sq(x): ...")
    )
    assert bad.rejected == {"malformed_output": 1}


def test_problem_solution_and_knowledge_parsing():
    t = load_templates()
    ps = parse_output(
        t["math_synth_v1"], {}, "**Problem:** Add 1 and 2.\n**Solution:** 1 + 2 = \\boxed{3}"
    )
    assert (ps.prompt, ps.response) == ("Add 1 and 2.", "1 + 2 = \\boxed{3}")
    assert (
        parse_output(t["math_extract_v1"], {}, "Solution only \\boxed{1}").reason
        == "malformed_output"
    )
    kn = parse_output(t["knowledge_rewrite_v1"], {"text": "x"}, "  A textbook section.  ")
    assert kn.response == "A textbook section." and kn.reason is None
    assert kn.prompt.startswith("Rewrite the passage") and kn.prompt.endswith("x")
    assert parse_output(t["knowledge_qa_v1"], {}, "   \n").reason == "empty_output"
    ic = parse_output(
        t["code_synth_v1"],
        {},
        "Instruction: Write inc.\n```python\ndef inc(x): return x+1\n```\n```\nassert inc(1)==2\n```",
    )
    assert ic.prompt == "Write inc." and ic.tests == "assert inc(1)==2"


def test_user_templates_extend_the_builtin_ones(tmp_path):
    d = tmp_path / "tpl"
    d.mkdir()
    (d / "mine.yaml").write_text(
        "name: trivia\nversion: 2\ntask: knowledge\ndomain: reference\nrequires: [topic]\n"
        "output: document\nuser: 'Explain {{ topic }} in {braces} kept.'\n"
    )
    eng = ScriptedEngine(lambda u, k: f"ECHO {u}")
    r = generate(
        [{"id": "t", "topic": "tides"}],
        tmp_path / "o",
        "knowledge",
        n=1,
        cfg=GenerateConfig(template="trivia_v2", templates_dir=str(d)),
        engine=eng,
    )
    assert r.kept == 1 and eng.asked == ["Explain tides in {braces} kept."]
    (d / "bad.yaml").write_text("name: Bad Name\nversion: 1\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_templates(d)


def test_cached_and_resumable(tmp_path):
    seeds = [{"id": f"s{i}", "problem": f"What is {i} + {i}?"} for i in range(6)]
    cache = tmp_path / "cache.sqlite"
    calls = {"n": 0}

    def dies_after_first_chunk(user: str, k: int) -> str:
        if "What is 2 +" in user:
            raise KeyboardInterrupt  # the run is killed during the second chunk
        return r"\boxed{0}"

    cfg = GenerateConfig(chunk=2, n=2)
    with pytest.raises(KeyboardInterrupt):
        generate(
            seeds,
            tmp_path / "o",
            "math",
            cfg=cfg,
            engine=CachedEngine(ScriptedEngine(dies_after_first_chunk), PromptCache(cache)),
        )

    def counting(user: str, k: int) -> str:
        calls["n"] += k == 0
        return r"\boxed{0}"

    eng = ScriptedEngine(counting)
    r = generate(
        seeds, tmp_path / "o", "math", cfg=cfg, engine=CachedEngine(eng, PromptCache(cache))
    )
    assert r.kept == 12 and r.cached == 2 and calls["n"] == 4  # only the unfinished seeds
    again = generate(
        seeds, tmp_path / "o", "math", cfg=cfg, engine=CachedEngine(eng, PromptCache(cache))
    )
    # the same finished run again is a no-op (StageDir's policy): nothing asked, not even the cache
    assert again.skipped and again.kept == 12 and calls["n"] == 4
    a, b = _rows(tmp_path / "o" / "samples.parquet"), r
    assert len(a) == b.kept


def test_real_engine_through_the_cache(tmp_path, tiny_chat):
    from qurate.llm import EngineConfig

    cfg = GenerateConfig(
        max_tokens=12, n=2, teacher=EngineConfig(model=str(tiny_chat), device="cpu")
    )
    seeds = [{"id": "k1", "text": "Photosynthesis converts light energy into chemical energy."}]
    r1 = generate(seeds, tmp_path, "knowledge", cfg=cfg)
    assert r1.outputs == 2 and r1.cached == 0
    first = _rows(tmp_path / "samples.parquet") + _rows(tmp_path / REJECTS_FILE)
    (tmp_path / "manifest.json").unlink()  # killed before the end: the cache answers the rerun
    r2 = generate(seeds, tmp_path, "knowledge", cfg=cfg)
    assert r2.cached == 1
    assert _rows(tmp_path / "samples.parquet") + _rows(tmp_path / REJECTS_FILE) == first
    prov = json.loads(first[0]["provenance"])
    assert prov["teacher"]["engine"] == "transformers" and prov["template"] == "knowledge_rewrite"


def test_math_documents_of_a_pool_stage_dir_as_seeds(tmp_path):
    from qurate.contract.shards import ShardWriter

    pool = tmp_path / "pool"
    with ShardWriter(pool) as w:
        w.write(
            {
                "id": "m1",
                "text": "The sum of the angles of a triangle is 180 degrees.",
                "domain": "math",
            }
        )
        w.write({"id": "w1", "text": "Buy cheap watches now.", "domain": "e-commerce"})
    out = (
        "Problem: Two angles are 50 and 60 degrees. Find the third.\nSolution: 180-110=\\boxed{70}"
    )
    eng = ScriptedEngine(lambda u, k: out)
    cfg = GenerateConfig(template="math_extract_v1", seed_domain="math", n=1)
    r = generate(pool, tmp_path / "o", "math", cfg=cfg, engine=eng)
    assert r.seeds == 1 and r.kept == 1 and "triangle" in eng.asked[0]
    row = _rows(tmp_path / "o" / "samples.parquet")[0]
    assert row["seed_id"] == "m1" and row["prompt"].startswith("Two angles")


def test_stats_on_a_generate_directory_says_it_holds_samples(tmp_path):
    # Before: "samples.parquet: not a qurate shard (no schema version in its metadata)", about
    # qurate's own output.
    from qurate.errors import BadInputError
    from qurate.report.stats import summary

    generate(SEEDS, tmp_path, "math", n=4, engine=ScriptedEngine(_math_teacher))
    with pytest.raises(BadInputError, match="a synth generate directory holds samples"):
        summary(tmp_path)
