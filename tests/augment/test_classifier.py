"""Math/code recall: the classifier, the rounds, the LLM check, and the stage contract.

The pool is real text from the bundled sample: sympy docstrings (math), source files in
several languages (code) and documentation pages (other); the seeds are the bundled seed
files. fastText models are tiny (dim 8, 20k buckets) so a round takes well under a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from qurate.augment.classifier import (
    NOT_RECALLED,
    SCORE_KEY,
    DomainConfirmer,
    RecallClassifier,
    RecallConfig,
    prepare,
)
from qurate.augment.prior import math_prior
from qurate.augment.recall import bundled_seeds, load_seeds, recall
from qurate.contract.shards import ShardWriter, iter_rows, read_manifest, write_manifest
from qurate.errors import BadInputError, ConfigError
from qurate.llm.base import ChoiceResult, Engine, Generation, GenParams
from qurate.llm.fasttext import RaterTrainConfig

SAMPLE = Path(__file__).resolve().parents[2] / "qurate" / "data" / "sample"


def _jsonl(path: Path) -> list[dict]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def labelled_pool() -> list[tuple[str, str, str]]:
    """(id, text, label) from the bundled sample: math, code and documentation."""
    seeds = {r["text"] for r in _jsonl(SAMPLE / "seeds" / "math.jsonl")}
    seeds |= {r["text"] for r in _jsonl(SAMPLE / "seeds" / "code.jsonl")}
    rows = [(f"m{i}", r["text"], "math") for i, r in enumerate(_jsonl(SAMPLE / "math.jsonl"))]
    code = pq.read_table(SAMPLE / "code.parquet").column("text").to_pylist()
    rows += [(f"c{i}", t, "code") for i, t in enumerate(code)]
    docs = [r for r in _jsonl(SAMPLE / "docs.jsonl")][:200]
    rows += [(f"d{i}", r["text"], "other") for i, r in enumerate(docs)]
    return [r for r in rows if r[1] not in seeds]  # held out: no seed is in the pool


def write_pool(directory: Path, rows: list[tuple[str, str, str]]) -> Path:
    with ShardWriter(directory, rows_per_shard=120) as w:  # several shards on purpose
        for doc_id, text, _ in rows:
            w.write(
                {
                    "id": doc_id,
                    "text": text,
                    "n_chars": len(text),
                    "n_tokens": len(text) // 4,
                    "scores": {"educational_value": 2.5},
                }
            )
    write_manifest(
        directory,
        stage="curate",
        config_hash="-",
        inputs=[],
        n_in=len(rows),
        n_kept=len(rows),
        rejected_by_reason={},
    )
    return directory


def tiny(**kw) -> RecallConfig:
    base = {
        "fasttext": RaterTrainConfig(dim=8, bucket=20_000, epoch=10, quantize=False, thread=12),
        "min_train_lines": 3000,
        "max_chars": 2000,
        "rounds": 2,
    }
    return RecallConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    rows = labelled_pool()
    d = write_pool(tmp_path_factory.mktemp("pool") / "pool", rows)
    return d, {doc_id: label for doc_id, _, label in rows}


def test_prepare_is_one_line_cut_and_lower_cased() -> None:
    text = "Let $x \\in \\mathbb{R}$.\r\nThen\tX^2 >= 0.\n" * 200
    line = prepare(text, max_chars=100)
    assert "\n" not in line  # fastText's line end; \r and \t are word separators to it
    assert line.startswith("let $x \\in \\mathbb{r}$.")
    words = line.split(" ")
    body, feats = " ".join(words[:-3]), words[-3:]
    assert len(body) == 100
    assert (
        feats[0].startswith("__latex_")
        and feats[1].startswith("__msym_")
        and feats[2].startswith("__num_")
    )
    assert feats[0] != "__latex_0__"
    assert prepare("Abc\nDef", features=False) == "abc def"


def test_text_written_without_spaces_becomes_character_tokens() -> None:
    # Khmer with zero-width spaces and Tibetan with syllable marks: one fastText token per
    # character, so two pages that share words share tokens; Latin text is untouched.
    khmer = "\u17a2\u1793\u17bb\u200b\u1782\u1798 SIN(x)"
    assert prepare(khmer, features=False).split() == [
        "\u17a2", "\u1793", "\u17bb", "\u1782", "\u1798", "sin(x)"
    ]  # fmt: skip
    tibetan = "\u0f62\u0f72\u0f0b\u0f58"
    assert prepare(tibetan, features=False).split() == list(tibetan)
    assert prepare("Übung macht den Meister", features=False) == "übung macht den meister"


def test_classifier_separates_math_from_prose(pool) -> None:
    rows = labelled_pool()
    seeds = load_seeds(SAMPLE / "seeds" / "math.jsonl")
    others = [t for _, t, lab in rows if lab == "other"]
    clf = RecallClassifier.train(seeds * 4, others[::2][: 4 * len(seeds)], tiny())
    math = clf.score([t for _, t, lab in rows if lab == "math"])
    prose = clf.score(others[1::2])  # not seen in training
    assert float(np.median(math)) > 0.8 > 0.2 > float(np.median(prose))
    assert clf.score([]).shape == (0,)


def test_recall_stage_contract_and_quality(pool, tmp_path: Path) -> None:
    pool_dir, labels = pool
    out = tmp_path / "math"
    # No held-out split here (test_holdout.py covers it): in a 346-document pool the training
    # negatives are most of the pool and the model memorises them, so holding 69 out of
    # training (and 12 of the 60 seeds) costs precision here that a real pool would not see
    # (measured over 4 seeds: 0.68-0.95 with the split, 0.92-0.98 without).
    # Three models averaged per round: one hogwild-trained model's precision here ranged
    # 0.71-0.98 over 8 runs (the test failed ~1 run in 4); three gave 0.87-1.00. Training is
    # deterministic now (one seeded thread), so this run gives the same figure every time.
    m = recall(
        pool_dir, out, SAMPLE / "seeds" / "math.jsonl", "math", tiny(holdout_fraction=0.0, models=3)
    )
    c = m["counts"]
    assert c["in"] == len(labels) == c["kept"] + c["rejected"]
    assert c["rejected_by_reason"] == {NOT_RECALLED: c["rejected"]}
    assert [r["round"] for r in m["rounds"]] == [1, 2]
    assert m["rounds"][1]["pseudo_positives"] > 0  # round 2 learned from round 1's recall
    kept = list(iter_rows(out))
    assert kept and all(r["domain"] == "math" for r in kept)
    # each document's cut: lower with math words, higher without (prior_split.final_cuts)
    fc = m["final_cuts"]

    def cut_of(r: dict) -> float:
        with_prior = math_prior(r["text"]) >= fc["prior_gate"]
        return fc["cut_with_prior"] if with_prior else fc["cut_without_prior"]

    assert fc["cut_with_prior"] <= m["threshold"] <= fc["cut_without_prior"]
    assert all(
        r["scores"][SCORE_KEY] >= cut_of(r) and r["scores"]["educational_value"] == 2.5
        for r in kept
    )
    assert all(r["domain_score"] == pytest.approx(r["scores"][SCORE_KEY]) for r in kept)
    rejects = list(iter_rows(out, rejects=True))
    assert all(r["reject_reason"] == NOT_RECALLED and r["stage"] == "recall" for r in rejects)
    assert all(r["scores"][SCORE_KEY] < cut_of(r) for r in rejects)
    truth = {i for i, lab in labels.items() if lab == "math"}
    got = {r["id"] for r in kept}
    # A tiny model on a tiny pool (the quality bar is measured by bench/augment.py).
    assert len(got & truth) / len(truth) >= 0.85 and len(got & truth) / len(got) >= 0.8
    assert m["rounds"][-1]["recalled_docs"] == len(got)
    assert m["rounds"][-1]["recalled_tokens"] == sum(r["n_tokens"] for r in kept)
    # A finished identical run is a no-op; another run into the same directory is refused.
    again = recall(
        pool_dir, out, SAMPLE / "seeds" / "math.jsonl", "math", tiny(holdout_fraction=0.0, models=3)
    )
    assert again["created"] == m["created"]
    with pytest.raises(BadInputError, match="different finished run"):
        recall(pool_dir, out, SAMPLE / "seeds" / "math.jsonl", "math", tiny(threshold=0.6))


def test_max_fraction_caps_the_recall(pool, tmp_path: Path) -> None:
    pool_dir, labels = pool
    m = recall(
        pool_dir,
        tmp_path / "o",
        bundled_seeds("code"),
        "code",
        tiny(rounds=1, max_fraction=0.05),
    )
    assert m["counts"]["kept"] <= int(0.05 * len(labels))
    assert m["threshold"] >= 0.3


class FakeJudge(Engine):
    """Says Y exactly when the document holds LaTeX; one document makes it fail."""

    kind = "fake"
    model_id = "fake-judge"

    def __init__(self) -> None:
        super().__init__()
        self.prompts: list = []

    def generate(self, prompts, params: GenParams) -> list[Generation]:
        raise NotImplementedError

    def choice_probs(self, prompts, choices) -> list[ChoiceResult]:
        assert choices == ["Y", "N"]
        self.prompts += prompts
        out = []
        for p in prompts:
            doc = p[-1]["content"]
            if "FAIL-ME" in doc:
                out.append(ChoiceResult(error="timeout"))
                continue
            yes = 0.9 if "\\" in doc.split("</document>")[0] else 0.1
            out.append(ChoiceResult(probs={"Y": yes, "N": 1 - yes}, mass=1.0))
        return out


def test_judge_measures_precision_and_feeds_the_next_round(pool, tmp_path: Path) -> None:
    pool_dir, labels = pool
    judge = FakeJudge()
    m = recall(
        pool_dir,
        tmp_path / "j",
        SAMPLE / "seeds" / "math.jsonl",
        "math",
        tiny(judge_sample=20),
        engine=judge,
    )
    r1, r2 = m["rounds"]
    assert r1["judged"] == 20 and r1["precision"] == pytest.approx(r1["judged_yes"] / 20)
    # Recalled math docstrings are full of LaTeX: ~80% of a round's recall (measured 6-9 of
    # 10 over 16 runs); 20 judged keep a bad draw below half to ~1e-3.
    assert r1["judged_yes"] >= 10
    # Confirmed documents become positives in round 2 (on top of seeds and pseudo-labels).
    n_seeds = m["n_seeds"] - m["holdout"]["seeds"]  # held-out seeds are never trained on
    assert m["holdout"]["seeds"] == 12  # 20% of 60
    assert r2["positives"] == n_seeds + r1["judged_yes"] + r2["pseudo_positives"]
    assert m["judge"] == "fake-judge"
    judged = [r for r in iter_rows(tmp_path / "j") if r["meta"] and "recall_judge" in r["meta"]]
    judged += [
        r
        for r in iter_rows(tmp_path / "j", rejects=True)
        if r["meta"] and "recall_judge" in r["meta"]
    ]
    assert judged
    for r in judged:  # each verdict is the judge's answer for that document (2048 chars shown)
        verdict = json.loads(r["meta"])["qurate"]["recall_judge"]
        assert verdict == ("yes" if "\\" in r["text"][:2048] else "no")
    # The judge sees the document fenced as data and the question after it.
    user = judge.prompts[0][-1]["content"]
    assert user.startswith("<document>") and user.rstrip().endswith("Answer Y for yes or N for no.")


def test_confirmer_reports_engine_errors_as_none() -> None:
    conf = DomainConfirmer(FakeJudge(), "math")
    assert conf.confirm(["$\\frac{1}{2}$", "plain words", "FAIL-ME"]) == [True, False, None]
    assert conf.confirm([]) == []


def test_user_mistakes_are_one_line_errors(pool, tmp_path: Path) -> None:
    pool_dir, _ = pool
    seeds = SAMPLE / "seeds" / "math.jsonl"
    with pytest.raises(ConfigError, match="domain 'poetry'"):
        recall(pool_dir, tmp_path / "a", seeds, "poetry", tiny())
    with pytest.raises(BadInputError, match="no such file"):
        recall(pool_dir, tmp_path / "b", tmp_path / "missing.jsonl", "math", tiny())
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": oops}\n')
    with pytest.raises(BadInputError, match=r"bad.jsonl:2"):
        recall(pool_dir, tmp_path / "c", bad, "math", tiny())
    with pytest.raises(BadInputError, match="no Parquet shards"):
        recall(tmp_path, tmp_path / "d", seeds, "math", tiny())
    with pytest.raises(ConfigError, match="must differ"):
        recall(pool_dir, pool_dir, seeds, "math", tiny())
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(BadInputError, match="not empty"):
        recall(pool_dir, tmp_path / "busy", seeds, "math", tiny())
    assert read_manifest(pool_dir)["stage"] == "curate"  # the pool is never touched


def test_a_saved_classifier_loads_and_scores_the_same(tmp_path: Path) -> None:
    rows = labelled_pool()
    seeds = load_seeds(SAMPLE / "seeds" / "math.jsonl")
    others = [t for _, t, lab in rows if lab == "other"]
    cfg = tiny()
    clf = RecallClassifier.train(seeds * 4, others[: 4 * len(seeds)], cfg)
    clf.save(tmp_path / "m.bin")
    texts = [t for _, t, _ in rows[:50]]
    loaded = RecallClassifier.load(tmp_path / "m.bin", max_chars=cfg.max_chars)
    np.testing.assert_allclose(loaded.score(texts), clf.score(texts), rtol=1e-6)
    with pytest.raises(BadInputError, match="no such recall model"):
        RecallClassifier.load(tmp_path / "missing.bin")


def test_averaged_models_score_the_mean_of_their_members(pool) -> None:
    rows = labelled_pool()
    seeds = load_seeds(SAMPLE / "seeds" / "math.jsonl")
    others = [t for _, t, lab in rows if lab == "other"][:120]
    clf = RecallClassifier.train_averaged(seeds * 4, others, tiny(models=3))
    texts = [t for _, t, _ in rows[:20]]
    assert len(clf.members) == 3
    expected = np.mean([m.score(texts) for m in clf.members], axis=0)
    assert np.allclose(clf.score(texts), expected)
    assert not np.allclose(clf.members[0].score(texts), clf.members[1].score(texts))
    one = RecallClassifier.train_averaged(seeds * 4, others, tiny())
    assert isinstance(one, RecallClassifier)


def test_a_finished_run_is_not_reused_when_auto_resolves_to_another_scorer(
    pool, tmp_path: Path, monkeypatch
) -> None:
    # `embed: auto` is the same setting with and without the model installed; the fingerprint
    # holds what it resolved to, so a run scored by fastText alone is not taken for one that
    # would have used the probe (nor are its rounds resumed into one).
    import qurate.augment.recall as recall_mod

    pool_dir, _ = pool
    out = tmp_path / "o"
    seeds = SAMPLE / "seeds" / "math.jsonl"
    monkeypatch.setattr(recall_mod, "for_recall", lambda *a: None)
    first = recall(pool_dir, out, seeds, "math", tiny(rounds=1))
    assert first["embedder"] is None
    assert recall(pool_dir, out, seeds, "math", tiny(rounds=1))["created"] == first["created"]
    monkeypatch.undo()
    with pytest.raises(BadInputError, match="different finished run"):
        recall(pool_dir, out, seeds, "math", tiny(rounds=1))
