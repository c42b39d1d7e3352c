"""fastText raters: they learn the judge's scale, files are named by content, NaN and
garbage weights retried."""

from __future__ import annotations

import hashlib
import json
import random

import pytest

from qurate.errors import BadInputError, EngineError
from qurate.llm import fasttext as raters_mod
from qurate.llm.fasttext import RaterTrainConfig, train_classifier
from qurate.score.raters import Raters, write_raters_meta

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


def _with_row(model, value: float):
    """The model with one input row set to ``value`` (as uninitialised memory leaves it)."""
    inp, out = model.get_input_matrix(), model.get_output_matrix()
    inp[len(inp) // 2] = value
    model.set_matrices(inp, out)
    return model


@pytest.mark.parametrize("value", [3.0e4, float("nan")])
def test_garbage_weights_after_a_successful_training_are_retried(tmp_path, monkeypatch, value):
    import fasttext

    real = fasttext.train_supervised
    seeds = []

    def garbage_once(*args, **kwargs):
        seeds.append(kwargs["seed"])
        model = real(*args, **kwargs)
        assert raters_mod.max_abs_weight(model) <= raters_mod.WEIGHT_LIMIT  # a trained one passes
        return _with_row(model, value) if len(seeds) == 1 else model

    monkeypatch.setattr(fasttext, "train_supervised", garbage_once)
    texts, labels = _corpus(20)
    cfg = RaterTrainConfig(epoch=2, quantize=False, seed=7)
    path = train_classifier(texts, labels, tmp_path, "x", cfg)
    assert seeds == [7, 8]
    assert raters_mod.max_abs_weight(fasttext.load_model(str(path))) <= raters_mod.WEIGHT_LIMIT


def test_training_that_never_gives_clean_weights_is_a_one_line_error(tmp_path, monkeypatch):
    import fasttext

    real = fasttext.train_supervised
    monkeypatch.setattr(
        fasttext, "train_supervised", lambda *a, **k: _with_row(real(*a, **k), 3.0e4)
    )
    texts, labels = _corpus(20)
    with pytest.raises(EngineError, match=r"failed 2 times: weights up to 3e\+04 \(limit 100\)"):
        train_classifier(
            texts, labels, tmp_path, "x", RaterTrainConfig(epoch=2, quantize=False, max_retries=1)
        )


def test_missing_or_broken_raters_dir_is_a_one_line_error(tmp_path):
    with pytest.raises(BadInputError, match="raters.json"):
        Raters(tmp_path)
    (tmp_path / "raters.json").write_text(json.dumps({"dimensions": {"a": {"file": "gone.ftz"}}}))
    with pytest.raises(BadInputError, match="missing"):
        Raters(tmp_path)


def test_clean_is_one_line():
    assert raters_mod.clean("A\nB\t C  ") == "a b c"


_POISONED_TRAINING = r"""
import json, random, sys, tempfile
from pathlib import Path
import fasttext, numpy as np
from qurate.llm.fasttext import RaterTrainConfig, train_classifier

rng = random.Random(0)
texts = [" ".join(f"w{rng.randrange(1003)}" for _ in range(20)) for _ in range(200)]
labels = [str(i % 2) for i in range(200)]
dim, bucket = 7, 1000  # rows x dim is not a multiple of 10
limit = 1 / dim  # fastText draws the initial weights from U(-1/dim, 1/dim)


def poison():  # leave freed heap memory full of 0x4b4b4b4b (1.3e7 as a float)
    junk = [bytearray(b"\x4b" * (2000 * dim * 4 + s)) for s in range(0, 4096, 64)]
    del junk


def bad(model):  # weights the initialiser never wrote
    w = model.get_input_matrix().ravel()
    return int(((w == 0) | (np.abs(w) > limit * 1.0001)).sum())


def junk(model):  # weights outside the initialiser's range: heap garbage (0 is not junk)
    return int((np.abs(model.get_input_matrix()) > limit * 1.0001).sum())


tmp = Path(tempfile.mkdtemp())
(tmp / "t.txt").write_text("".join(f"__label__{y} {t}\n" for t, y in zip(texts, labels)))
args = dict(lr=1e-9, epoch=1, dim=dim, bucket=bucket, wordNgrams=2, verbose=0, seed=3)
poison()
try:
    ten = bad(fasttext.train_supervised(str(tmp / "t.txt"), thread=10, **args))
except RuntimeError as e:  # the poisoned weights made the control's training diverge
    if "NaN" not in str(e):
        raise
    ten = -1
poison()
cfg = RaterTrainConfig(lr=1e-9, epoch=1, dim=dim, bucket=bucket, quantize=False, max_retries=0)
model = fasttext.load_model(str(train_classifier(texts, labels, tmp / "out", "x", cfg)))
one = junk(model)  # the default: one thread, what fastText leaves unwritten is 0
poison()
cfg = cfg.model_copy(update={"thread": 12})
model = fasttext.load_model(str(train_classifier(texts, labels, tmp / "out12", "x", cfg)))
ours, remainder = bad(model), model.get_input_matrix().size % 10  # the control's shape too
print(json.dumps({"ten": ten, "ours": ours, "one": one, "remainder": remainder}))
"""


def test_every_weight_is_initialised_even_on_a_dirty_heap(tmp_path):
    """fastText's initialiser leaves the last rows x dim mod 10 weights unwritten below 11
    threads; this build allocates them uninitialised, so they hold whatever the heap held.
    With 12 threads every weight is written; with one (the default) the unwritten ones are
    0, never the heap's garbage."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", _POISONED_TRAINING], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    r = json.loads(run.stdout.strip().splitlines()[-1])
    if r["ten"] == 0:
        pytest.skip("the allocator did not hand the poisoned memory back to fastText")
    # The control (10 threads) shows the poison reached fastText. Its count is not pinned to the
    # remainder: CI once counted 4 against a remainder of 3 (a poisoned row also feeds hogwild
    # training), so only "some weights are garbage" is asserted of it.
    # ten == -1: the control's training hit NaN on the garbage weights (seen once under load).
    assert r["remainder"] > 0 and r["ten"] != 0, r
    assert r["ours"] == 0, r  # 12 threads: the trainer writes every weight
    assert r["one"] == 0, r  # one thread: nothing left from the poisoned heap


def _nan_copy(model_path, dest):
    """``dest``: the fastText model at ``model_path`` with every input weight NaN."""
    import fasttext

    model = fasttext.load_model(str(model_path))
    inp, out = model.get_input_matrix(), model.get_output_matrix()
    inp[:] = float("nan")
    model.set_matrices(inp, out)
    model.save_model(str(dest))
    return dest


def test_a_model_that_predicts_nan_is_a_one_line_error_naming_it(tmp_path):
    from qurate.augment.classifier import RecallClassifier

    texts, labels = _corpus(20)
    cfg = RaterTrainConfig(epoch=2, quantize=False)
    broken = _nan_copy(train_classifier(texts, labels, tmp_path, "x", cfg), tmp_path / "bad.bin")
    write_raters_meta(tmp_path, {"max_chars": 1000, "dimensions": {"d": {"file": broken.name}}})
    with pytest.raises(EngineError, match=r"bad\.bin: fastText predicted NaN"):
        Raters(tmp_path).predict([texts[0]])
    pos_neg = ["pos", "neg"] * 10
    rec = _nan_copy(train_classifier(texts, pos_neg, tmp_path, "r", cfg), tmp_path / "rec.bin")
    with pytest.raises(EngineError, match=r"rec\.bin: fastText predicted NaN"):
        RecallClassifier.load(rec).score([texts[0]])
