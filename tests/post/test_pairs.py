"""`post pairs`: same-prompt pairs, rejected sides only from verifier failures, deterministic."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from qurate.contract.shards import iter_rows
from qurate.errors import BadInputError
from qurate.post.config import PairsConfig
from qurate.post.pairs import Sample, build_pairs, learnable_prompts, pair_group, read_pairs
from qurate.post.rewards import keep_learnable


def test_pairs_are_same_prompt_with_verifier_rejections(synth_dir, tmp_path):
    r = build_pairs(synth_dir, tmp_path / "prefs")
    samples = {s["id"]: s for s in iter_rows(synth_dir)}
    samples |= {s["id"]: s for s in iter_rows(synth_dir, rejects=True)}
    pairs = list(iter_rows(tmp_path / "prefs"))
    assert r.pairs == len(pairs) == 6 and r.paired == 3
    for p in pairs:
        c, rj = samples[p["chosen_id"]], samples[p["rejected_id"]]
        assert json.loads(c["meta"])["prompt"] == json.loads(rj["meta"])["prompt"]
        assert p["prompt"][0]["content"] == json.loads(c["meta"])["prompt"]
        assert c.get("reject_reason") is None and json.loads(c["provenance"])["verified"] is True
        assert rj["reject_reason"] in ("verify_failed", "no_final_answer")
        assert p["rejected_reason"] == rj["reject_reason"]
        assert p["chosen"][0]["role"] == p["rejected"][0]["role"] == "assistant"
        assert 0 < p["pass_rate"] < 1
    manifest = json.loads((tmp_path / "prefs" / "manifest.json").read_text())
    c = manifest["counts"]
    assert c["in"] == c["kept"] + c["rejected"] == 4
    assert c["rejected_by_reason"] == {"unpaired": 1}  # the all-correct prompt


def test_deterministic(synth_dir, tmp_path):
    build_pairs(synth_dir, tmp_path / "a")
    build_pairs(synth_dir, tmp_path / "b")
    ta = pq.read_table(tmp_path / "a" / "part-00000.parquet")
    tb = pq.read_table(tmp_path / "b" / "part-00000.parquet")
    assert ta.equals(tb)


def test_too_long_prompts_are_rejected(synth_dir, tmp_path):
    r = build_pairs(synth_dir, tmp_path / "p", PairsConfig(max_prompt_tokens=6))
    assert r.pairs == 0 and r.rejected == {"too_long": 4}
    with pytest.raises(BadInputError, match="holds no pairs"):
        read_pairs(tmp_path / "p")


def _s(i, reason=None, verified=None, rm=None):
    return Sample(f"s{i}", "p", f"r{i}", "knowledge", reason, verified, None, rm, None, None)


def test_other_rejections_never_make_a_rejected_side():
    cfg = PairsConfig()
    group = [
        _s(1, verified=True),
        _s(2, "duplicate", verified=False),
        _s(3, "contaminated"),
        _s(4, "unverifiable"),
    ]
    pairs, why = pair_group(group, cfg)
    assert pairs == [] and "0 failed verification" in why


def test_reward_model_pairs_need_the_margin():
    cfg = PairsConfig(rm_margin=0.5)
    pairs, _ = pair_group(
        [_s(1, rm=0.9), _s(2, "low_reward", rm=0.2), _s(3, "duplicate", rm=-5)], cfg
    )
    assert [(c.id, r.id, kind) for c, r, kind, _ in pairs] == [("s1", "s2", "reward_model")]
    assert pairs[0][3] == pytest.approx(0.7)
    pairs, why = pair_group([_s(1, rm=0.9), _s(2, "low_reward", rm=0.6)], cfg)
    assert pairs == [] and "0.5 apart" in why


def test_a_copy_of_the_chosen_response_is_never_its_rejected_side():
    # A flaky verifier (timeout once, pass once) or a reward model that scores one text twice
    # differently would pair a response with itself: a DPO pair with nothing to learn.
    def s(i, text, reason=None, verified=None, rm=None):
        return Sample(f"s{i}", "p", text, "math", reason, verified, None, rm, None, None)

    cfg = PairsConfig(rm_margin=0.5)
    same = [s(1, "x = 2", verified=True), s(2, " x = 2\n", "verify_failed", verified=False)]
    pairs, why = pair_group(same, cfg)
    assert pairs == [] and "0 failed verification" in why
    pairs, _ = pair_group([*same, s(3, "x = 3", "verify_failed", verified=False)], cfg)
    assert [(c.id, r.id) for c, r, _, _ in pairs] == [("s1", "s3")]
    rm = [s(1, "a", rm=0.9), s(2, "a", "low_reward", rm=0.1), s(3, "b", "low_reward", rm=0.2)]
    pairs, _ = pair_group(rm, cfg)
    assert [(c.id, r.id) for c, r, _, _ in pairs] == [("s1", "s3")]


def test_keep_learnable_is_strictly_between_zero_and_one():
    assert keep_learnable({"a": 0.0, "b": 0.5, "c": 1.0, "d": None, "e": 0.25}) == ["b", "e"]


def test_learnable_prompts_drop_all_pass_prompts(synth_dir, tmp_path):
    from post_builders import write_jsonl

    from qurate.post.rewards import read_prompts

    rows = learnable_prompts(synth_dir)
    assert len(rows) == 3 and all(r["pass_rate"] == 0.5 for r in rows)
    assert "What is 1 + 1?" not in {r["prompt"] for r in rows}
    prompts = read_prompts(write_jsonl(tmp_path / "rl.jsonl", rows))
    assert [p["reference"] for p in prompts] == ["7", "9", "11"]
