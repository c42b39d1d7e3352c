"""Recall rounds that do not drift: negatives from every language, a held-out split that
measures each round, a calibrated threshold, and a back-off when precision falls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from test_classifier import SAMPLE, _jsonl, tiny  # noqa: E402  (same folder)

from qurate.augment.holdout import calibrate, measure, sample_by_group, split_seeds, top_by_group
from qurate.augment.recall import recall
from qurate.contract.shards import ShardWriter, iter_rows, write_manifest


def test_negatives_cover_every_group_even_a_rare_one():
    groups = [np.array(["en"] * 990 + ["ja"] * 10, dtype=object)]
    masks = [np.ones(1000, dtype=bool)]
    rng = np.random.default_rng(0)
    (idx,) = sample_by_group(masks, groups, 100, 5, rng)
    picked = groups[0][idx]
    assert (picked == "ja").sum() == 5 and (picked == "en").sum() == 99
    assert len(set(idx.tolist())) == len(idx)  # without replacement
    masks[0][990:] = False  # a group with nothing eligible is simply absent
    (idx,) = sample_by_group(masks, groups, 100, 5, rng)
    assert set(groups[0][idx]) == {"en"}


def test_seed_split_is_stable_and_holds_out_a_share():
    seeds = [f"seed text {i}" for i in range(50)]
    train, held = split_seeds(seeds, 0.2, 0)
    assert len(held) == 10 and sorted(train + held) == sorted(seeds)
    assert split_seeds(list(reversed(seeds)), 0.2, 0)[1] == sorted(held, key=seeds.index)[
        ::-1
    ] or set(split_seeds(list(reversed(seeds)), 0.2, 0)[1]) == set(held)
    assert split_seeds(seeds[:4], 0.2, 0) == (seeds[:4], [])  # too few to hold any out


def test_the_calibrated_cut_trades_recall_for_precision_on_the_held_out_split():
    pos = np.array([0.95, 0.9, 0.85, 0.8, 0.2])
    neg = np.array([0.1] * 90 + [0.5] * 10)
    fit = calibrate(pos, neg, target_recall=0.8, floor=0.3)
    # the highest cut that keeps 80% of the held-out seeds: above the 0.5 pool documents
    assert fit.threshold == 0.8
    assert fit.recall == 0.8 and fit.pool_rate == 0.0 and fit.balanced_precision == 1.0
    low = measure(pos, neg, 0.3)  # the old fixed cut lets the 0.5 pool documents in
    assert low.pool_rate == 0.1 and low.balanced_precision < fit.balanced_precision
    # never below the floor, even when the target needs it
    assert calibrate(pos, neg, target_recall=1.0, floor=0.3).threshold == 0.3


def _pool(directory: Path) -> tuple[Path, dict[str, str]]:
    """Math docstrings, English docs and Chinese/Japanese man pages, with their languages."""
    rows = [(f"m{i}", r["text"], "en", "math") for i, r in enumerate(_jsonl(SAMPLE / "math.jsonl"))]
    for i, r in enumerate(_jsonl(SAMPLE / "docs.jsonl")):
        lang = r["source"].split(":")[0]
        lang = "zh" if lang.endswith(("-zh", "-zh-cn")) else "ja" if lang.endswith("-ja") else "en"
        rows.append((f"d{i}", r["text"], lang, "other"))
    seeds = {r["text"] for r in _jsonl(SAMPLE / "seeds" / "math.jsonl")}
    rows = [r for r in rows if r[1] not in seeds]
    with ShardWriter(directory, rows_per_shard=150) as w:
        for doc_id, text, lang, _ in rows:
            w.write({"id": doc_id, "text": text, "lang": lang, "n_chars": len(text),
                     "n_tokens": len(text) // 4})  # fmt: skip
    write_manifest(directory, stage="curate", config_hash="-", inputs=[], n_in=len(rows),
                   n_kept=len(rows), rejected_by_reason={})  # fmt: skip
    return directory, {r[0]: r[3] for r in rows}


def test_every_round_is_measured_on_the_held_out_split(tmp_path):
    pool_dir, labels = _pool(tmp_path / "pool")
    m = recall(pool_dir, tmp_path / "out", SAMPLE / "seeds" / "math.jsonl", "math", tiny(rounds=3))
    assert m["holdout"]["seeds"] == 12 and m["holdout"]["pool_docs"] > 0
    for r in m["rounds"]:
        assert 0 <= r["holdout_recall"] <= 1 and 0 <= r["holdout_precision"] <= 1
        assert r["holdout_pool_rate"] is not None
    used = [r for r in m["rounds"] if r["used"]]
    assert len(used) == 1 and used[0]["threshold"] == m["threshold"]
    assert used[0]["recalled_docs"] == m["counts"]["kept"]
    got = {r["id"] for r in iter_rows(tmp_path / "out")}
    truth = {i for i, lab in labels.items() if lab == "math"}
    # Chinese and Japanese pages (78) were among the negatives: at most a stray one or two
    # comes back as math (a tiny dim-8 model; training is deterministic, so this run is too)
    langs = {r["id"]: r["lang"] for r in iter_rows(pool_dir)}
    assert sum(langs[i] in ("zh", "ja") for i in got) <= 2
    assert len(got & truth) / len(got) >= 0.9 and len(got & truth) / len(truth) >= 0.8


def test_a_round_whose_held_out_precision_falls_is_not_used(tmp_path, monkeypatch):
    """Round 2 is sabotaged (every pool document looks like math): the run stops there and
    writes round 1's recall."""
    import qurate.augment.rounds as rec

    pool_dir, _ = _pool(tmp_path / "pool")
    real = rec.RecallClassifier.train
    calls = []

    def train(positives, negatives, cfg, seed=0):
        calls.append(1)
        if len(calls) == 2:  # round 2 learns that the negatives are positives
            return real(list(negatives), list(positives), cfg, seed=seed)
        return real(positives, negatives, cfg, seed=seed)

    monkeypatch.setattr(rec.RecallClassifier, "train", staticmethod(train))
    m = recall(pool_dir, tmp_path / "out", SAMPLE / "seeds" / "math.jsonl", "math", tiny(rounds=3))
    assert [r["round"] for r in m["rounds"]] == [1, 2]  # stopped after the drifting round
    r1, r2 = m["rounds"]
    assert r1["used"] and not r2["used"] and r2["holdout_precision"] < r1["holdout_precision"]
    assert m["threshold"] == r1["threshold"] and m["counts"]["kept"] == r1["recalled_docs"]


def test_top_by_group_takes_each_languages_best_above_a_floor_only_where_asked() -> None:
    scores = [np.array([0.9, 0.5, 0.05, 0.2], dtype=np.float32), np.array([0.3, 0.02])]
    langs = [np.array(["km", "km", "km", "en"], dtype=object), np.array(["km", "en"])]
    # km: 0.9, 0.5, 0.05, 0.3 -> its top half is 0.9 and 0.5
    top = top_by_group(scores, langs, 0.5, 0.1, {"km"})
    assert [m.tolist() for m in top] == [[True, True, False, False], [False, False]]
    # the floor keeps a low-scoring language's top half out
    low = top_by_group(scores, langs, 1.0, 0.25, {"km"})
    assert [m.tolist() for m in low] == [[True, True, False, False], [True, False]]
    # English is not asked for; with no filter, its top half (0.2 of 0.2, 0.02) is taken too
    every = top_by_group(scores, langs, 0.5, 0.1)
    assert [m.tolist() for m in every] == [[True, True, False, True], [False, False]]
