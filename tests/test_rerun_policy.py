"""One rerun policy, tested once per writing stage (the policy itself: tests/contract).

For every stage: the same run again is a no-op (the finished manifest comes back, nothing is
rewritten); a different run into the finished directory is a one-line error naming
`--overwrite`; with overwrite it replaces the run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qurate.contract.shards import ShardWriter, read_manifest, write_manifest
from qurate.errors import BadInputError
from qurate.llm.base import ChoiceResult, Engine, Generation, GenParams, Prompt

MATH = "Let x be a real number. Then x^2 >= 0, and the integral of 2x dx is x^2 + C. Proof."
PROSE = "The weather in spring is mild and the gardens of the old town fill with visitors."


def _stage(d: Path, rows: list[dict[str, Any]]) -> Path:
    with ShardWriter(d) as w:
        for r in rows:
            w.write(r)
    write_manifest(d, stage="curate", config_hash="t", inputs=[], n_in=len(rows),
                   n_kept=len(rows), rejected_by_reason={})  # fmt: skip
    return d


def _docs(n: int, **cols: Any) -> list[dict[str, Any]]:
    return [
        {"id": f"d{i:03d}", "text": f"{MATH if i % 2 else PROSE} ({i})", "lang": "en",
         "source": "t", "n_tokens": 40, **cols}
        for i in range(n)
    ]  # fmt: skip


def check_policy(out: Path, run: Callable[..., Any], same: dict, other: dict) -> None:
    """``run(**kw)`` writes ``out``; ``same`` repeats the first run, ``other`` differs."""
    run(**same)
    first = read_manifest(out)
    stamp = (out / "manifest.json").stat().st_mtime_ns
    run(**same)
    assert (out / "manifest.json").stat().st_mtime_ns == stamp  # a no-op
    with pytest.raises(BadInputError, match="different finished run .*--overwrite") as e:
        run(**other)
    assert "\n" not in str(e.value)
    assert read_manifest(out)["fingerprint"] == first["fingerprint"]  # left as it was
    run(**other, overwrite=True)
    assert read_manifest(out)["fingerprint"] != first["fingerprint"]
    assert not (out / ".qurate.lock").exists() and not (out / ".qurate-run.json").exists()


def test_curate(tmp_path):
    from qurate.contract.executors import ExecutorConfig
    from qurate.curate.config import CurateConfig
    from qurate.curate.pipeline import curate

    src = tmp_path / "in.jsonl"
    src.write_text("".join(f'{{"id": "{i}", "text": "{PROSE} {i} {MATH}"}}\n' for i in range(5)))
    out = tmp_path / "curated"

    def run(cfg, overwrite=False):
        curate([src], out, cfg, executor=ExecutorConfig(workers=1), progress=False,
               overwrite=overwrite)  # fmt: skip

    check_policy(out, run, {"cfg": CurateConfig()}, {"cfg": CurateConfig(max_chars=50)})


def test_augment_ingest(tmp_path):
    from qurate.augment.ingest import IngestConfig, ingest

    src = tmp_path / "math.jsonl"
    src.write_text(f'{{"text": "{MATH}"}}\n{{"text": "{MATH} again"}}\n')
    out = tmp_path / "ingested"

    def run(cfg, overwrite=False):
        ingest([src], out, "math", cfg, overwrite=overwrite)

    check_policy(out, run, {"cfg": IngestConfig()}, {"cfg": IngestConfig(max_chars=20)})


def test_augment_recall(tmp_path):
    from qurate.augment.classifier import RecallConfig
    from qurate.augment.recall import recall
    from qurate.llm.fasttext import RaterTrainConfig

    pool = _stage(tmp_path / "pool", _docs(60))
    seeds = [f"{MATH} seed {i}" for i in range(8)]
    out = tmp_path / "recalled"
    ft = RaterTrainConfig(dim=8, bucket=20_000, epoch=5, quantize=False)

    def run(cfg, overwrite=False):
        recall(pool, out, seeds, "math", cfg, overwrite=overwrite)

    base = {"fasttext": ft, "min_train_lines": 200, "rounds": 1}
    check_policy(out, run, {"cfg": RecallConfig(**base)},
                 {"cfg": RecallConfig(**base, threshold=0.6)})  # fmt: skip


def test_mix(tmp_path):
    from qurate.mixers import mix, parse_mix_config

    src = _stage(tmp_path / "scored", _docs(40, domain="science", quality=0.5))
    out = tmp_path / "mixed"

    def run(budget, overwrite=False):
        mix([src], out, parse_mix_config({"budget_tokens": budget}), overwrite=overwrite)

    check_policy(out, run, {"budget": 800}, {"budget": 400})
    assert not (out / ".mix-scratch").exists()


class _Teacher(Engine):
    kind = "scripted"
    model_id = "scripted-teacher"

    def generate(self, prompts: list[Prompt], params: GenParams) -> list[Generation]:
        text = "We add: 2 + 2 = 4.\\nThe answer is \\\\boxed{4}."
        return [Generation(texts=[text] * params.n, finish_reasons=["stop"] * params.n)
                for _ in prompts]  # fmt: skip

    def choice_probs(self, prompts: list[Prompt], choices: list[str]) -> list[ChoiceResult]:
        raise NotImplementedError


def test_synth_generate(tmp_path):
    from qurate.synth.config import GenerateConfig
    from qurate.synth.generate import generate

    seeds = [{"id": "s1", "problem": "What is 2 + 2?", "answer": "4"}]
    out = tmp_path / "generated"

    def run(n, overwrite=False):
        generate(seeds, out, cfg=GenerateConfig(n=n), engine=_Teacher(), overwrite=overwrite)

    check_policy(out, run, {"n": 2}, {"n": 3})


def test_synth_filter(tmp_path):
    from qurate.synth.config import FilterConfig
    from qurate.synth.filter import filter_samples

    samples = [
        {"id": f"s{i}", "prompt": "What is 2 + 2?", "response": f"It is 4. ({i})",
         "task": "math", "reference": "4", "seed_id": "q1", "provenance": "{}"}
        for i in range(3)
    ]  # fmt: skip
    out = tmp_path / "filtered"

    def run(cfg, overwrite=False):
        filter_samples(samples, out, cfg, overwrite=overwrite)

    check_policy(out, run, {"cfg": FilterConfig(verify=False)},
                 {"cfg": FilterConfig(verify=False, top_k=1)})  # fmt: skip


def test_score_distill_and_apply(tmp_path):
    from qurate.score.apply import apply
    from qurate.score.config import ScoreConfig
    from qurate.score.distill import distill

    rows = _docs(40)
    for i, r in enumerate(rows):
        r["scores"] = {"educational_value": 4.0 if i % 2 else 1.0}
        r["domain"] = "math" if i % 2 else "other"
    ann = _stage(tmp_path / "annotations", rows)
    raters = tmp_path / "raters"

    def cfg(**distill):
        c = ScoreConfig()
        c.distill.min_per_class = 1
        c.distill.train.epoch, c.distill.train.dim, c.distill.train.quantize = 5, 8, False
        for k, v in distill.items():
            setattr(c.distill, k, v)
        return c

    def run_distill(c, overwrite=False):
        distill(ann, raters, c, overwrite=overwrite)

    check_policy(raters, run_distill, {"c": cfg()}, {"c": cfg(test_fraction=0.3)})
    pool = _stage(tmp_path / "pool", _docs(10))
    scored = tmp_path / "scored"

    def run_apply(threshold, overwrite=False):
        c = cfg(test_fraction=0.3)
        c.apply.keep_threshold = threshold
        apply(pool, scored, raters, c, overwrite=overwrite)

    check_policy(scored, run_apply, {"threshold": None}, {"threshold": 0.5})


def test_score_annotate(tmp_path):
    from qurate.llm.testing import cached_tiny_chat_model
    from qurate.score.annotate import annotate
    from qurate.score.config import ScoreConfig

    pytest.importorskip("torch")
    src = _stage(tmp_path / "curated", _docs(6))
    out = tmp_path / "annotations"

    def run(sample, overwrite=False):
        c = ScoreConfig()
        c.engine.model, c.engine.device = str(cached_tiny_chat_model()), "cpu"
        c.annotate.sample, c.annotate.check_docs = sample, 0
        annotate(src, out, c, overwrite=overwrite)

    check_policy(out, run, {"sample": 4}, {"sample": 3})
    assert (out / "cache").is_dir()  # the prompt cache survives --overwrite


def test_qurate_run_twice_in_the_same_place(tmp_path):
    """`qurate run pipeline.yaml` again: every finished stage is a no-op, the report is redone."""
    from qurate.config import load_config
    from qurate.run import run_pipeline

    src = tmp_path / "in.jsonl"
    src.write_text("".join(f'{{"id": "{i}", "text": "{PROSE} {i} {MATH}"}}\n' for i in range(5)))
    cfg_file = tmp_path / "pipeline.yaml"
    cfg_file.write_text(f"run: {{inputs: ['{src}'], out: '{tmp_path / 'run'}'}}\n")
    cfg = load_config(cfg_file)
    first = run_pipeline(cfg, say=lambda _: None, progress=False)
    stamp = (tmp_path / "run" / "curated" / "manifest.json").stat().st_mtime_ns
    second = run_pipeline(cfg, say=lambda _: None, progress=False)
    assert (tmp_path / "run" / "curated" / "manifest.json").stat().st_mtime_ns == stamp
    assert second.stages["curate"] == first.stages["curate"]
    assert second.report is not None and second.report.is_file()


def test_train_refuses_a_half_written_mix(tmp_path, capsys):
    """A killed mix leaves shards but no manifest: `qurate train --data` must not train on it."""
    pytest.importorskip("torch")
    from qurate.cli import main

    half = _stage(tmp_path / "mixed", _docs(8, domain="science", quality=0.5))
    (half / "manifest.json").unlink()
    with pytest.raises(SystemExit) as e:
        main(["train", "--data", str(half), "-o", str(tmp_path / "run"), "--max-steps", "1"])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and f"{half}: no manifest.json" in err and "\n" not in err
    assert not (tmp_path / "run").exists()
