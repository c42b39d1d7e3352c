"""`qurate run`'s closing table: what each stage of a run did, from its manifests."""

from __future__ import annotations

import json
from pathlib import Path

from qurate.mixers import mix, parse_mix_config
from qurate.report.levers import lever_lines
from tests.report.test_report import _stage


def _run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    _stage(run / "curated", "curate", 300, scores=False, rejects={"duplicate": 7, "spam": 3})
    _stage(run / "scored", "score.apply", 300, scores=True, rejects={})
    manifest = json.loads((run / "scored" / "manifest.json").read_text())
    manifest["weights"] = {"perplexity": 0.9, "rater": 0.0}
    (run / "scored" / "manifest.json").write_text(json.dumps(manifest))
    cfg = parse_mix_config(
        {
            "budget_tokens": 20_000,
            "domains": {"shop": {"multiplier": 0.2}, "science": {"multiplier": 3}},
        }
    )
    mix([run / "scored"], run / "mixed", cfg)
    (run / "train").mkdir()
    rows = [{"step": 1, "loss": 9.5}, {"step": 2, "loss": 8.25, "eval_loss": 8.5}]
    (run / "train" / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


def test_each_stage_says_what_it_did(tmp_path: Path) -> None:
    lines = dict(lever_lines(_run(tmp_path)))
    assert list(lines) == ["curate", "score", "mix", "train"]
    assert lines["curate"].startswith("300 of 310 documents kept; rejected: duplicate 7, spam 3")
    score = lines["score"]
    assert "quality p5 0.0" in score and "median 0." in score and "p95 0.9" in score
    assert "3 domains: " in score and "weights in quality: perplexity 0.90, rater 0.00" in score
    # the mix moves the shares the config asked for: shop down, science up
    shares = json.loads((tmp_path / "run" / "mixed" / "manifest.json").read_text())["mix"][
        "domains"
    ]
    shop, science = shares["shop"], shares["science"]
    assert shop["achieved_share"] < shop["natural_share"]
    assert science["achieved_share"] > science["natural_share"]
    for d in ("shop", "science"):
        want = f"{d} {shares[d]['natural_share']:.0%} -> {shares[d]['achieved_share']:.0%}"
        assert want in lines["mix"], lines["mix"]
    assert lines["train"] == "loss 9.500 at step 1 -> 8.250 at step 2; held-out loss 8.500 -> 8.500"


def test_a_missing_or_broken_stage_is_left_out(tmp_path: Path) -> None:
    run = _run(tmp_path)
    (run / "train" / "metrics.jsonl").write_text("not json\n")
    for shard in (run / "scored").glob("part-*.parquet"):
        shard.write_bytes(b"not parquet")  # the score line needs its shards
    assert [name for name, _ in lever_lines(run)] == ["curate", "mix"]
    assert lever_lines(tmp_path / "nothing here") == []


def test_the_ablation_line_gives_each_arm_and_the_leakage(tmp_path: Path) -> None:
    from qurate.contract.files import write_manifest

    d = tmp_path / "run" / "ablation"
    d.mkdir(parents=True)
    write_manifest(d, stage="ablate", config_hash="t", inputs=[], n_in=0, n_kept=0,
                   rejected_by_reason={})  # fmt: skip
    ev = {"metric": "bits_per_byte"}
    results = {
        "tokens": 32768,
        "preset": "tiny",
        "runs": [
            {"arm": "mixed", "evals": {"heldout": {**ev, "value": 4.5}}},
            {"arm": "mixed", "evals": {"heldout": {**ev, "value": 4.7}}},
            {"arm": "raw", "evals": {"heldout": {**ev, "value": 4.75}}},
        ],
        "leakage": {"mixed": {"heldout": {"any": 8, "docs": 16}}, "raw": {"heldout": {"any": 0}}},
    }
    (d / "results.json").write_text(json.dumps(results))
    assert lever_lines(tmp_path / "run") == [
        (
            "ablate",
            "heldout bits per byte: mixed 4.600, raw 4.750 (tiny proxies, 32,768 tokens each); "
            "leakage: 8 of 16 heldout documents overlap arm mixed",
        )
    ]


def test_a_hand_edited_manifest_does_not_end_the_run_in_a_traceback(tmp_path: Path) -> None:
    run = _run(tmp_path)
    manifest = json.loads((run / "scored" / "manifest.json").read_text())
    manifest["weights"] = ["perplexity"]  # not an object
    (run / "scored" / "manifest.json").write_text(json.dumps(manifest))
    assert [name for name, _ in lever_lines(run)] == ["curate", "mix", "train"]


def test_two_stages_of_a_kind_are_told_apart_by_directory(tmp_path: Path) -> None:
    # `qurate run` with run.recall curates a pool beside the run's corpus: two "curate" lines
    # nobody could tell apart, and an ingested corpus had no line at all.
    run = _run(tmp_path)
    _stage(run / "recall-math" / "pool", "curate", 40, scores=False, rejects={"duplicate": 2})
    ingested = run / "ingest-code" / "ingested"
    _stage(ingested, "augment_ingest", 12, scores=False, rejects={})
    manifest = json.loads((ingested / "manifest.json").read_text())
    (ingested / "manifest.json").write_text(json.dumps({**manifest, "domain": "code"}))
    lines = lever_lines(run)
    names = [name for name, _ in lines]
    assert names[:3] == ["curate curated", "curate recall-math/pool", "score"], names
    assert dict(lines)["augment"] == "12 of 12 documents ingested as code"
