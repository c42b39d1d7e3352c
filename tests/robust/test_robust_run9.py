"""Ninth sweep: `qurate run pipeline.yaml`'s levers under `run:` (`ingest`, `recall`, `synth`,
`ablate`, `post`), driven from the CLI with tiny hostile configs. Every case here is refused
before curate starts, so none runs a stage.

What it found, each now one line (exit 2) before any work: a NUL byte in a lever's path was a
`ValueError` traceback (after curate, for the seed files); a path with a line break gave a
two-line error; an unknown key inside a lever's item (`run.ingest.0.Domain`) did not list the
valid keys, as every other unknown key does; an ingest folder with no readable files, an
empty, binary or over-long seeds file and an evaluation with no usable rows failed only after
curate (and the pool's curate, and mix); a recall pool inside run.out was "not found" on a
first run and curated on the second, a pool or ingest folder holding run.out was refused
only after curate, and the same file given to two levers was mixed twice without a word;
synth seeds the run makes itself (`run.out/recall-math/recalled`, the `seed_domain` use)
were refused as missing; `run.post` with `sft` and `dpo` both false ended with exit 0 and no
post-training at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.robust.test_robust_cli import one_line_error, run_cli


def _jsonl(path: Path, n: int = 3) -> str:
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": f"x {i}"}) + "\n" for i in range(n)))
    return str(path)


def _refused(tmp_path: Path, capsys, run: dict, **sections: object) -> str:
    """The one error line of `qurate run` on a config of ``run`` (inputs and out filled in),
    which must have stopped before the run directory was made."""
    web = _jsonl(tmp_path / "web.jsonl")
    cfg = {"run": {"inputs": [web], "out": str(tmp_path / "run"), **run}, **sections}
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(cfg))
    line = one_line_error(*run_cli(["run", str(path), "--no-progress"], capsys))
    assert not (tmp_path / "run").exists(), line
    return line


@pytest.mark.parametrize(
    ("run", "key"),
    [
        ({"ingest": [{"domain": "math", "inputs": ["a\0b"]}]}, "run.ingest.0.inputs"),
        ({"recall": [{"domain": "math", "pool": ["p"], "seeds": "a\0b"}]}, "run.recall.0.seeds"),
        ({"synth": [{"seeds": "a\0b"}]}, "run.synth.0.seeds"),
        ({"out": "a\0b"}, "run.out"),
    ],
)
def test_a_nul_byte_in_a_path_is_named(tmp_path: Path, capsys, run: dict, key: str):
    # Before: "error: ValueError: embedded null byte (traceback in ...)", exit 1
    line = _refused(tmp_path, capsys, run)
    assert f"{key}: 'a\\x00b': a path cannot contain a NUL byte" in line, line


def test_a_line_break_in_a_path_stays_on_one_line(tmp_path: Path, capsys):
    # Before: the error ran over two lines, split where the path was
    line = _refused(tmp_path, capsys, {"ingest": [{"domain": "math", "inputs": ["a\nb"]}]})
    assert "run.ingest[0].inputs: a\\nb: no such file or directory" in line, line


@pytest.mark.parametrize(
    ("run", "message"),
    [
        ({"ingest": [{"domain": "math", "inputs": ["x"], "Domain": "code"}]},
         "run.ingest.0.Domain: unknown key (valid: domain, inputs)"),
        ({"recall": [{"domain": "math", "pool": ["x"], "seed": "s"}]},
         "run.recall.0.seed: unknown key (valid: domain, pool, seeds)"),
        ({"synth": [{"seeds": "s", "tasks": "math"}]},
         "run.synth.0.tasks: unknown key (valid: seeds, task)"),
    ],
)  # fmt: skip
def test_an_unknown_key_in_a_lever_item_lists_the_valid_ones(tmp_path, capsys, run, message):
    # Before: "unknown key" alone; run.post's and run's own unknown keys listed theirs
    assert message in _refused(tmp_path, capsys, run)


def test_what_a_lever_reads_is_checked_before_curate(tmp_path: Path, capsys):
    # Before: each failed only after curate (and the recall pool's curate, and the mix) ran
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "binary.jsonl").write_bytes(b"\xff\xfe\x00\x81" * 50)
    (tmp_path / "long.jsonl").write_text(json.dumps({"text": "x" * 1_100_000}) + "\n")
    pool = _jsonl(tmp_path / "pool.jsonl")
    mix = {"budget_tokens": 1000, "quality_buckets": 1}
    for run, sections, message in [
        ({"ingest": [{"domain": "math", "inputs": [str(tmp_path / "empty")]}]}, {},
         "run.ingest[0].inputs: no documents in"),
        ({"recall": [{"domain": "math", "pool": [pool], "seeds": str(tmp_path / "empty.jsonl")}]},
         {}, "run.recall[0].seeds: " + str(tmp_path / "empty.jsonl") + ": no seed documents"),
        ({"recall": [{"domain": "math", "pool": [pool], "seeds": str(tmp_path / "binary.jsonl")}]},
         {}, "run.recall[0].seeds: " + str(tmp_path / "binary.jsonl") + ":1: invalid UTF-8"),
        ({"recall": [{"domain": "math", "pool": [pool], "seeds": str(tmp_path / "long.jsonl")}]},
         {}, "> max_chars"),
        ({"synth": [{"seeds": str(tmp_path / "binary.jsonl")}]}, {},
         "run.synth[0].seeds: " + str(tmp_path / "binary.jsonl") + ":1: not UTF-8"),
        ({"synth": [{"seeds": str(tmp_path / "empty.jsonl")}]}, {}, "no seed rows"),
        ({"ablate": True},
         {"mix": mix, "ablate": {"evals": {"h": str(tmp_path / "empty.jsonl")}}},
         "ablate.evals: eval h (" + str(tmp_path / "empty.jsonl") + "): no usable rows"),
    ]:  # fmt: skip
        line = _refused(tmp_path, capsys, run, **sections)
        assert message in line, (message, line)


def test_a_lever_corpus_overlaps_neither_run_out_nor_another_lever(tmp_path: Path, capsys):
    run_dir = tmp_path / "run"
    web = str(tmp_path / "web.jsonl")
    other = _jsonl(tmp_path / "other.jsonl")
    for run, message in [
        # was "no such file" on a first run, curated as a pool on the second
        ({"recall": [{"domain": "math", "pool": [str(run_dir / "curated")]}]},
         f"run.recall[0].pool: {run_dir}/curated: overlaps run.out ({run_dir})"),
        # was refused by the pool's curate, after the run's own curate
        ({"recall": [{"domain": "math", "pool": [str(tmp_path)]}]},
         f"run.recall[0].pool: {tmp_path}: overlaps run.out"),
        ({"ingest": [{"domain": "code", "inputs": [str(tmp_path)]}]},
         f"run.ingest[0].inputs: {tmp_path}: overlaps run.out"),
        # was run with exit 0: the file's documents went into the mix twice
        ({"ingest": [{"domain": "math", "inputs": [web]}]},
         f"run.ingest[0].inputs: {web}: overlaps run.inputs ({web}); its documents would join "
         "the mix twice"),
        ({"ingest": [{"domain": "math", "inputs": [other]}],
          "recall": [{"domain": "code", "pool": [other]}]},
         "run.recall[0].pool: " + other + ": overlaps run.ingest[0].inputs"),
    ]:  # fmt: skip
        line = _refused(tmp_path, capsys, run)
        assert message in line, (message, line)


def test_synth_seeds_the_run_makes_are_not_refused_as_missing(tmp_path: Path, monkeypatch):
    # synth.generate.seed_domain takes e.g. the math documents of the run's recalled pool;
    # run.out/recall-math/recalled is there only after recall: it was "no such file"
    import qurate.run as qrun
    from qurate.config import parse_config

    run_dir = tmp_path / "run"
    data = {"run": {"inputs": [_jsonl(tmp_path / "web.jsonl")], "out": str(run_dir),
                    "recall": [{"domain": "math", "pool": [_jsonl(tmp_path / "pool.jsonl")]}],
                    "synth": [{"seeds": str(run_dir / "recall-math" / "recalled")}]},
            "synth": {"generate": {"seed_domain": "math"}}}  # fmt: skip
    monkeypatch.setattr(qrun, "_curate", lambda *a: (_ for _ in ()).throw(RuntimeError("past")))
    with pytest.raises(RuntimeError, match="past"):  # the checks passed; curate was next
        qrun.run_pipeline(parse_config(data), say=lambda s: None, progress=False)


def test_post_with_nothing_to_do_is_refused(tmp_path: Path, capsys):
    # Before: exit 0, no post/ and no word
    model = tmp_path / "model"
    model.mkdir()
    line = _refused(tmp_path, capsys, {"post": {"model": str(model), "sft": False, "dpo": False}})
    assert "run.post: sft and dpo are both false" in line, line


def test_a_lever_taken_out_of_the_config_leaves_the_report_and_closing_table(tmp_path: Path):
    # Before: after a run with `run.ingest` and a second run (--overwrite) without it, the
    # closing table and the report still had "augment ingest-code: ... ingested", though the
    # second mix did not read it. Now the run records its own directories (RUN_STAGES), the
    # report reads only those, and the run names the leftover once.
    from qurate.config import parse_config
    from qurate.contract.files import read_manifest
    from qurate.report.levers import lever_lines
    from qurate.run import run_pipeline

    sample = Path(__file__).resolve().parents[2] / "qurate" / "data" / "sample"
    rows = [json.loads(x) for x in (sample / "web.jsonl").read_text().splitlines()[:20]]
    web = tmp_path / "web.jsonl"
    web.write_text("".join(json.dumps({"id": f"w{i}", "text": r["text"]}) + "\n"
                           for i, r in enumerate(rows)))  # fmt: skip
    cfg = {
        "run": {"inputs": [str(web)], "out": str(tmp_path / "run"),
                "ingest": [{"domain": "code", "inputs": [str(sample / "code.parquet")]}]},
        "mix": {"budget_tokens": 20_000, "quality_buckets": 1},
    }  # fmt: skip
    run = tmp_path / "run"
    run_pipeline(parse_config(cfg), say=lambda _: None, progress=False)
    assert any(k.startswith("augment") for k, _ in lever_lines(run))
    del cfg["run"]["ingest"]
    said: list[str] = []
    run_pipeline(parse_config(cfg), say=said.append, progress=False, overwrite=True)
    assert (run / "ingest-code").is_dir()  # left on disk
    assert [s for s in said if s.startswith("not part of this run")] == [
        "not part of this run (an earlier config's; left on disk, out of the mix and the "
        "report): ingest-code/"
    ], said
    kinds = [k for k, _ in lever_lines(run)]
    assert not any(k.startswith("augment") for k in kinds) and "mix" in kinds, kinds
    assert [Path(p).name for p in read_manifest(run / "mixed")["inputs"]] == ["curated"]
    assert "ingest-code" not in (run / "report.html").read_text()
