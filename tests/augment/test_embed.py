"""The recall's second scorer: mean input embeddings under an LM (read from the embedded
SmolLM2 GGUF file, or a Hugging Face directory) and a linear probe on them."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from qurate.augment import embed
from qurate.augment.classifier import ProbedClassifier, RecallConfig
from qurate.augment.embed import LinearProbe, TokenEmbedder, for_recall, load_embedder
from qurate.errors import BadInputError, ConfigError


def test_embedded_model_embeds_text_without_torch() -> None:
    e = load_embedder("default")
    assert e.dim == 576 and e.table.shape[0] == 49152
    texts = ["The integral of x^2 dx is x^3/3 + C.", "", "Preheat the oven to 200 degrees."]
    x = e.embed(texts)
    assert x.shape == (3, 576) and x.dtype == np.float32 and np.isfinite(x).all()
    assert not x[1].any()  # no token: a zero row, not NaN
    assert np.array_equal(e.embed(texts[:1])[0], x[0])  # a text alone or in a batch: the same
    # the tokenizer read from the GGUF metadata is byte-level: nothing is lost
    text = "∫ f(x) dx = 12345 — ünïcode 中文\n\tend"
    assert e.tokenizer.decode(e.tokenizer.encode(text).ids) == text
    # only the first `tokens` tokens count: a long tail changes nothing
    short = TokenEmbedder(e.tokenizer, e.table, e.name, tokens=8)
    head = "one two three four five six seven eight nine ten"
    assert np.array_equal(short.embed([head])[0], short.embed([head + " zebra" * 50])[0])


def test_probe_learns_a_linear_boundary_and_refuses_an_empty_class() -> None:
    rng = np.random.default_rng(0)
    pos = rng.normal(0.5, 1.0, (40, 6))
    neg = rng.normal(-0.5, 1.0, (400, 6))  # classes of unequal size weigh the same
    probe = LinearProbe.train(pos, neg, l2=0.01)
    s_pos, s_neg = (
        probe.score(rng.normal(0.5, 1.0, (200, 6))),
        probe.score(rng.normal(-0.5, 1.0, (200, 6))),
    )
    auc = (s_pos[:, None] > s_neg[None, :]).mean()
    assert auc > 0.9
    assert 0.3 < float(np.median(np.r_[s_pos, s_neg])) < 0.7  # balanced, not all negative
    with pytest.raises(BadInputError, match="positives and negatives"):
        LinearProbe.train(pos[:0], neg)


def test_probed_classifier_mixes_the_two_scores() -> None:
    class Fixed:
        def score(self, texts):
            return np.full(len(texts), 0.2, dtype=np.float32)

    e = load_embedder("default")
    cfg = RecallConfig(embed_weight=0.5)
    pos = ["Let f be a continuous function; then the integral exists."] * 3
    neg = ["Open the File menu and choose Save to keep the document."] * 3
    clf = ProbedClassifier.train(Fixed(), e, pos, neg, cfg)
    s = clf.score(pos[:1] + neg[:1])
    pr = clf.probe.score(e.embed(pos[:1] + neg[:1]))
    assert np.allclose(s, 0.5 * 0.2 + 0.5 * pr, atol=1e-6)
    assert s[0] > s[1]
    assert clf.score([]).shape == (0,)


def test_documents_below_the_floor_keep_their_fasttext_score_unembedded() -> None:
    class Scores:
        def score(self, texts):
            return np.array([0.01 if "menu" in t else 0.6 for t in texts], dtype=np.float32)

    class Counting:
        def __init__(self, inner):
            self.inner, self.seen = inner, []

        def embed(self, texts):
            self.seen += list(texts)
            return self.inner.embed(texts)

    e = Counting(load_embedder("default"))
    pos = ["Let f be a continuous function; then the integral exists."] * 3
    neg = ["Open the File menu and choose Save to keep the document."] * 3
    clf = ProbedClassifier.train(Scores(), e, pos, neg, RecallConfig(embed_floor=0.05))
    e.seen.clear()
    s = clf.score([neg[0], pos[0]])
    assert e.seen == [pos[0]]  # only the document at or above the floor was embedded
    assert s[0] == np.float32(0.01)
    assert s[1] == pytest.approx(0.5 * 0.6 + 0.5 * clf.probe.score(e.inner.embed(pos[:1]))[0])
    assert clf.score(neg[:2]).tolist() == pytest.approx([0.01, 0.01]) and e.seen == [pos[0]]


def test_hf_directory_embedder(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    from qurate.train.tokenizer import train_bpe

    tok = train_bpe(["alpha beta gamma delta epsilon " * 20, "integral sum matrix"] * 20, 300)
    tok.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="embed_tokens.weight"):
        embed._from_hf_dir(tmp_path)
    table = np.random.default_rng(0).normal(size=(tok.get_vocab_size(), 8)).astype(np.float32)
    save_file({"model.embed_tokens.weight": table}, str(tmp_path / "model.safetensors"))
    e = load_embedder(str(tmp_path), 16)
    x = e.embed(["alpha beta", "integral matrix"])
    assert x.shape == (2, 8)
    ids = e.tokenizer.encode("alpha beta").ids
    assert np.allclose(x[0], table[ids].mean(axis=0))
    (tmp_path / "tokenizer.json").unlink()
    with pytest.raises(ConfigError, match="no tokenizer.json"):
        embed._from_hf_dir(tmp_path)


def test_a_file_that_is_not_gguf_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 10)
    with pytest.raises(BadInputError, match="not a readable GGUF model") as e:
        load_embedder(str(bad))
    assert "\n" not in str(e.value)


def test_for_recall_off_code_and_auto_without_the_model(monkeypatch, caplog) -> None:
    assert for_recall("off", "math") is None
    assert for_recall("default", "code") is None  # code recall is fastText alone
    assert for_recall("auto", "math") is not None  # the test environment has the model

    def missing(model: str, tokens: int = 512):
        raise ConfigError("the default judge (SmolLM2-135M-Instruct) is not installed")

    monkeypatch.setattr(embed, "load_embedder", missing)
    with caplog.at_level(logging.WARNING, logger="qurate.augment"):
        assert for_recall("auto", "math") is None
    assert "fastText alone" in caplog.text
    with pytest.raises(ConfigError, match="not installed"):
        for_recall("default", "math")  # asked for by name: an error, not a fallback
