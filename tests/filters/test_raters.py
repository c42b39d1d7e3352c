"""fastText raters: they learn the judge's scale, files are named by content, NaN retried."""

from __future__ import annotations

import hashlib
import json
import random

import pytest

from qurate.errors import BadInputError
from qurate.filters import raters as raters_mod
from qurate.filters.raters import Raters, RaterTrainConfig, train_classifier, write_raters_meta

GOOD_WORDS = "photosynthesis energy theorem proof molecule evidence analysis derivation".split()
JUNK_WORDS = "buy cheap click now free shipping discount lol".split()


def _corpus(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        good = i % 2 == 0
        words = GOOD_WORDS if good else JUNK_WORDS
        texts.append(" ".join(rng.choice(words) for _ in range(30)))
        labels.append(str(rng.choice([4, 5]) if good else rng.choice([0, 1])))
    return texts, labels


def test_rater_learns_the_scale_and_names_files_by_content(tmp_path):
    texts, labels = _corpus(80)
    cfg = RaterTrainConfig(epoch=10)
    p1 = train_classifier(texts, labels, tmp_path, "educational_value", cfg)
    assert p1.name.startswith("educational_value-") and p1.suffix == ".ftz"
    # Named by content: a retrained model never reuses a stale cached path.
    assert p1.stem.split("-")[1] == hashlib.sha256(p1.read_bytes()).hexdigest()[:16]
    d = train_classifier(
        texts, ["science" if int(y) > 2 else "e-commerce" for y in labels], tmp_path, "domain", cfg
    )
    write_raters_meta(
        tmp_path,
        {
            "max_chars": 1000,
            "dimensions": {"educational_value": {"file": p1.name}},
            "domain": {"file": d.name},
        },
    )
    r = Raters(tmp_path)
    scores, domains, dprob = r.predict(
        ["theorem proof evidence molecule", "buy cheap click now free"]
    )
    assert scores["educational_value"][0] > 3.0 > scores["educational_value"][1]
    assert domains == ["science", "e-commerce"] and all(0 < p <= 1 for p in dprob)


def test_nan_training_failure_is_retried_with_a_new_seed(tmp_path, monkeypatch):
    import fasttext

    real = fasttext.train_supervised
    seeds = []

    def flaky(*args, **kwargs):
        seeds.append(kwargs["seed"])
        if len(seeds) == 1:
            raise RuntimeError("Encountered NaN.")
        return real(*args, **kwargs)

    monkeypatch.setattr(fasttext, "train_supervised", flaky)
    texts, labels = _corpus(20)
    train_classifier(texts, labels, tmp_path, "x", RaterTrainConfig(epoch=2, quantize=False))
    assert seeds == [0, 1]


def test_missing_or_broken_raters_dir_is_a_one_line_error(tmp_path):
    with pytest.raises(BadInputError, match="raters.json"):
        Raters(tmp_path)
    (tmp_path / "raters.json").write_text(json.dumps({"dimensions": {"a": {"file": "gone.ftz"}}}))
    with pytest.raises(BadInputError, match="missing"):
        Raters(tmp_path)


def test_clean_is_one_line():
    assert raters_mod.clean("A\nB\t C  ") == "a b c"
