"""The written selection: the math prior lowers the cut of documents with math words and
raises it for those without (augment/prior_split.py ``final_cuts``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from test_prior import texinfo_math, write_pool  # noqa: E402  (same folder)

from qurate.augment import pool as pooling
from qurate.augment.classifier import RecallConfig
from qurate.augment.prior_split import final_cuts
from qurate.contract.shards import ShardWriter, iter_rows, write_manifest

PLAIN = (
    "The server reads its configuration file at start-up and writes a log line for every "
    "request it answers; the cache directory is cleaned once a day by the timer unit. "
) * 4


def _pool(tmp_path: Path) -> pooling.Pool:
    rows = [("m0", texinfo_math(0), "math"), ("p0", PLAIN, "other")]
    rows += [("m1", texinfo_math(1), "math"), ("p1", PLAIN + " again", "other")]
    return pooling.open_pool(write_pool(tmp_path / "pool", rows))


def test_math_words_lower_the_cut_and_their_absence_raises_it(tmp_path: Path) -> None:
    pool = _pool(tmp_path)
    cfg = RecallConfig(threshold=0.4, prior_cut=0.1, bare_cut=0.7, prior_gate=0.003)
    cuts, summary = final_cuts(pool, 0.4, cfg, "math")
    assert isinstance(cuts, list)
    assert np.concatenate(cuts).tolist() == [0.1, 0.7, 0.1, 0.7]
    assert summary["docs_with_prior"] == 2 and summary["cut_without_prior"] == 0.7
    # a cut raised above both (calibration, max_fraction) is never lowered for the plain text
    high, _ = final_cuts(pool, 0.8, cfg, "math")
    assert np.concatenate(high).tolist() == [0.1, 0.8, 0.1, 0.8]
    # code, or the prior off: one cut for all, as before
    assert final_cuts(pool, 0.4, cfg, "code") == (0.4, {})
    assert final_cuts(pool, 0.4, RecallConfig(prior=False), "math") == (0.4, {})


def test_written_output_follows_each_documents_cut(tmp_path: Path) -> None:
    pool = _pool(tmp_path)
    cfg = RecallConfig(threshold=0.4, prior_cut=0.1, bare_cut=0.7, prior_gate=0.003)
    cuts, _ = final_cuts(pool, 0.4, cfg, "math")
    # math words at 0.2 (below the round's 0.4): kept; plain text at 0.5 (above it): not
    scores = [np.array([0.2, 0.5, 0.05, 0.9], dtype=np.float32)]
    out = tmp_path / "out"
    n_in, n_kept, _ = pooling.write(pool, out, scores, cuts, "math", {}, 100)
    assert (n_in, n_kept) == (4, 2)
    assert {r["id"] for r in iter_rows(out, columns=["id"])} == {"m0", "p1"}
    details = {r["id"]: r["reject_detail"] for r in iter_rows(out / "rejects")}
    assert details["p0"].endswith("< 0.7000") and details["m1"].endswith("< 0.1000")


def test_a_cut_set_by_calibration_or_a_cap_is_never_lowered(tmp_path: Path) -> None:
    pool = _pool(tmp_path)
    for cfg in (RecallConfig(max_fraction=0.5), RecallConfig(calibrate=True)):
        assert final_cuts(pool, 0.4, cfg, "math") == (0.4, {})


def test_a_language_the_lexicon_does_not_know_keeps_the_rounds_cut(tmp_path: Path) -> None:
    # Swahili (no lexicon): plain text without math words is neither raised to bare_cut
    # (the lexicon's silence says nothing there) nor lowered; English plain text is raised.
    rows = [("sw", "Kazi hii inarudisha mzizi wa nambari na kuonyesha matokeo kwenye seli. " * 4)]
    rows += [("en", PLAIN)]
    directory = tmp_path / "pool"
    with ShardWriter(directory, rows_per_shard=10) as w:
        for lang, text in rows:
            w.write({"id": lang, "text": text, "lang": lang, "n_chars": len(text),
                     "n_tokens": len(text) // 4})  # fmt: skip
    write_manifest(directory, stage="curate", config_hash="-", inputs=[], n_in=2, n_kept=2,
                   rejected_by_reason={})  # fmt: skip
    cfg = RecallConfig(threshold=0.3, prior_cut=0.1, bare_cut=0.7, prior_gate=0.003, rare_share=0.0)
    cuts, summary = final_cuts(pooling.open_pool(directory), 0.3, cfg, "math")
    assert np.concatenate(cuts).tolist() == [0.3, 0.7]
    assert summary["docs_outside_lexicon"] == 1 and summary["docs_with_prior"] == 0


def test_a_language_code_in_another_spelling_is_still_known() -> None:
    from qurate.augment.lexicon import known

    codes = np.array(["en-GB", "zh_Hant", "eng", "code", "sw", "km", "", "?"], dtype=object)
    assert known(codes).tolist() == [True, True, True, True, False, False, True, True]


def _code_pool(tmp_path: Path) -> pooling.Pool:
    code_math = "def area(r):\n    # the integral of the polynomial; a theorem on the matrix\n"
    code_plain = "def load(path):\n    with open(path) as f:\n        return json.load(f)\n"
    rows = [("c-math", code_math * 6, "code"), ("c-plain", code_plain * 6, "code")]
    rows += [("en", PLAIN, "en"), ("en-m", texinfo_math(2), "en")]
    directory = tmp_path / "pool"
    with ShardWriter(directory, rows_per_shard=10) as w:
        for doc_id, text, lang in rows:
            w.write({"id": doc_id, "text": text, "lang": lang, "n_chars": len(text),
                     "n_tokens": len(text) // 4})  # fmt: skip
    write_manifest(directory, stage="curate", config_hash="-", inputs=[], n_in=4, n_kept=4,
                   rejected_by_reason={})  # fmt: skip
    return pooling.open_pool(directory)


def test_code_is_math_only_with_math_words_and_at_the_rounds_cut(tmp_path: Path) -> None:
    pool = _code_pool(tmp_path)
    cfg = RecallConfig(threshold=0.3, prior_cut=0.1, bare_cut=0.7, prior_gate=0.003)
    cuts, _ = final_cuts(pool, 0.3, cfg, "math")
    # code with math words: the round's cut, not the lowered one; plain code: never
    assert np.concatenate(cuts).tolist() == [0.3, np.inf, 0.7, 0.1]
    off, _ = final_cuts(pool, 0.3, cfg.model_copy(update={"code_needs_words": False}), "math")
    assert np.concatenate(off).tolist() == [0.1, 0.7, 0.7, 0.1]


def test_a_stray_math_word_keeps_the_rounds_cut_when_asked(tmp_path: Path) -> None:
    # one math word among ~200 (prior ~0.005): a stray word, not a page about mathematics
    one = "The logarithm of hosts is read at start-up. " + "The server answers each request. " * 40
    rows = [("one", one, "other"), ("m0", texinfo_math(0), "math")]
    pool = pooling.open_pool(write_pool(tmp_path / "pool", rows))
    cfg = RecallConfig(threshold=0.3, prior_cut=0.1, bare_cut=0.7, prior_gate=0.003)
    assert np.concatenate(final_cuts(pool, 0.3, cfg, "math")[0]).tolist() == [0.1, 0.1]
    weak = cfg.model_copy(update={"weak_prior_below": 0.012})
    assert np.concatenate(final_cuts(pool, 0.3, weak, "math")[0]).tolist() == [0.3, 0.1]


def test_where_math_is_rare_the_cuts_rise(tmp_path: Path) -> None:
    stray = (
        "The logarithm of hosts is read at start-up. " + "The server answers each request. " * 40
    )
    plain = [(f"p{i}", PLAIN + f" host {i}", "other") for i in range(28)]
    rows = [("m0", texinfo_math(0), "math"), ("stray", stray, "other"), *plain]
    pool = pooling.open_pool(write_pool(tmp_path / "pool", rows))
    cfg = RecallConfig(threshold=0.3, prior_cut=0.1, bare_cut=0.7, prior_gate=0.003)
    cuts, summary = final_cuts(pool, 0.3, cfg, "math")
    # one document in 30 has math words: a stray word keeps the round's cut, none needs 0.9
    assert summary["rare_math"] and summary["prior_share"] < 0.05
    assert np.concatenate(cuts).tolist()[:3] == [0.1, 0.3, 0.9]
    # off, or a pool rich in math (the first test's, half math): the cuts as before
    off, summary = final_cuts(pool, 0.3, cfg.model_copy(update={"rare_share": 0.0}), "math")
    assert np.concatenate(off).tolist()[:3] == [0.1, 0.1, 0.7] and not summary["rare_math"]
    assert not final_cuts(_pool(tmp_path / "rich"), 0.3, cfg, "math")[1]["rare_math"]


def test_code_without_math_words_says_why_it_was_not_recalled(tmp_path: Path) -> None:
    pool = _code_pool(tmp_path)
    cfg = RecallConfig(threshold=0.3, prior_cut=0.1, bare_cut=0.7, prior_gate=0.003)
    cuts, _ = final_cuts(pool, 0.3, cfg, "math")
    scores = [np.array([0.5, 0.99, 0.1, 0.9], dtype=np.float32)]
    n_in, n_kept, _ = pooling.write(pool, tmp_path / "out", scores, cuts, "math", {}, 100)
    assert (n_in, n_kept) == (4, 2)
    details = {r["id"]: r["reject_detail"] for r in iter_rows(tmp_path / "out" / "rejects")}
    assert details["c-plain"].endswith("code without math words (code_needs_words)")
