"""Every signal is checked against word-shuffled copies and weighted by it; the reference
classifier and the shipped domain classifier; the default perplexity switch (auto)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from qurate.errors import BadInputError
from qurate.score.config import ScoreConfig
from qurate.score.signals import check_signal, combine, signal_weights

TEXTS = [
    "The river carries water from the mountains to the sea through a wide green valley.",
    "A compiler translates source code into machine code in several separate phases.",
    "Plants use sunlight to turn carbon dioxide and water into sugar and oxygen.",
    "The printing press made books cheaper and helped new ideas spread across Europe.",
]


def _fluency(texts: list[str]) -> np.ndarray:
    """A toy signal that knows word order: the share of adjacent pairs seen in TEXTS."""
    pairs = {p for t in TEXTS for p in zip(t.split(), t.split()[1:], strict=False)}
    out = []
    for t in texts:
        w = t.split()
        out.append(np.mean([p in pairs for p in zip(w, w[1:], strict=False)]))
    return np.array(out)


def test_a_signal_that_knows_word_order_passes_its_check_and_a_blind_one_fails():
    good = check_signal(_fluency, TEXTS)
    assert good["n"] == 4 and good["auc"] == 1.0 and good["reliability"] == 1.0
    blind = check_signal(lambda ts: np.array([len(t) for t in ts], dtype=float), TEXTS)
    assert blind["auc"] == 0.5 and blind["reliability"] == 0.0  # same length after a shuffle
    assert check_signal(_fluency, ["too short"])["n"] == 0  # nothing to check: no verdict


def test_weights_follow_the_checks_and_raters_also_inherit_the_judge_check():
    cfg = ScoreConfig()
    raters = SimpleNamespace(meta={"judge_check": {"reliability": 0.5}})
    models = SimpleNamespace(raters=raters, judge=None, perplexity=object(), reference=object())
    checks = {
        "rater": {"reliability": 1.0},
        "perplexity": {"reliability": 0.8},
        "reference": {"reliability": 0.0},
    }
    weights, present = signal_weights(models, cfg, checks)
    assert present == ["rater", "perplexity", "reference"]
    assert weights == {"rater": 0.5, "perplexity": 0.8, "reference": 0.0}
    q = combine(
        {"rater": np.array([0.2]), "perplexity": np.array([0.9]), "reference": np.array([1.0])},
        weights,
    )
    np.testing.assert_allclose(q, [(0.5 * 0.2 + 0.8 * 0.9) / 1.3])  # reference adds nothing
    # every check failed: the configured weights, and the manifest keeps the checks
    none = {c: {"reliability": 0.0} for c in ("rater", "perplexity", "reference")}
    weights, _ = signal_weights(models, cfg, none)
    assert weights == {"rater": 1.0, "perplexity": 1.0, "reference": 1.0}


def test_the_shipped_domain_classifier_labels_four_domains_in_the_taxonomys_spelling():
    pytest.importorskip("fasttext")
    from qurate.score.domains import DomainClassifier
    from qurate.score.judge import DEFAULT_TAXONOMY

    clf = DomainClassifier("default")
    assert set(clf.labels) == {"code", "literature", "math", "technology"}
    assert set(clf.labels) <= set(DEFAULT_TAXONOMY)
    texts = [
        "def parse(line):\n    key, _, value = line.partition('=')\n    return key.strip(), "
        "value.strip()\n\n\nclass Config:\n    def __init__(self, path):\n        self.path = path\n",
        "NAME\n       cp - copy files and directories\n\nSYNOPSIS\n       cp [OPTION]... SOURCE "
        "DEST\n\nDESCRIPTION\n       Copy SOURCE to DEST, or multiple SOURCE(s) to DIRECTORY.\n"
        "       -r, --recursive\n              copy directories recursively\n",
        "And the LORD spake unto Moses, saying, Speak unto the children of Israel, that they "
        "bring me an offering: of every man that giveth it willingly with his heart ye shall "
        "take my offering.",
        "Compute the definite integral of a rational function. Explanation\n===========\n"
        "Given polynomials $p$ and $q$, the integral\n\n.. math:: \\int_a^b \\frac{p(x)}"
        "{q(x)} dx\n\nis found by partial fractions; the residue at each pole $x_k$ is "
        "$\\lim_{x \\to x_k} (x - x_k) p(x)/q(x)$.\n\nExamples\n========\n\n>>> from "
        "sympy import integrate, oo\n>>> integrate(1/(x**2 + 1), (x, -oo, oo))\npi\n",
    ]
    labels, prob = clf.predict(texts)
    assert labels == ["code", "technology", "literature", "math"]
    assert ((prob > 0) & (prob <= 1)).all()
    with pytest.raises(BadInputError, match="no such domain model"):
        DomainClassifier("/nonexistent/domains.ftz")


def test_a_file_that_is_not_a_fasttext_model_is_a_one_line_error(tmp_path):
    """The domain, reference and rater models load through one loader: a reference
    classifier that was not a model died with fastText's ValueError traceback."""
    pytest.importorskip("fasttext")
    from qurate.score.domains import DomainClassifier
    from qurate.score.reference import ReferenceClassifier

    bad = tmp_path / "model.bin"
    bad.write_bytes(b"not a model" * 100)
    for load in (DomainClassifier, ReferenceClassifier):
        with pytest.raises(BadInputError, match="not a fastText model"):
            load(bad)


def test_the_reference_classifier_learns_reference_against_the_pool(tmp_path):
    pytest.importorskip("fasttext")
    from qurate.llm.fasttext import RaterTrainConfig
    from qurate.score.reference import ReferenceClassifier, load_reference, train_reference

    ref, sources = load_reference(["default"])
    assert len(ref) > 500 and any("docs.jsonl" in s for s in sources)
    pool = ["Buy cheap watches now, best price, free shipping, click here today."] * 60
    path = train_reference(ref, pool, tmp_path, RaterTrainConfig(epoch=5, quantize=False))
    p = ReferenceClassifier(path).predict([ref[0], pool[0]])
    assert p[0] > 0.5 > p[1]
    with pytest.raises(BadInputError, match="no such reference"):
        load_reference([str(tmp_path / "missing.jsonl")])


def test_apply_refuses_a_raters_directory_without_raters_json(tmp_path):
    from qurate.contract.shards import ShardWriter, write_manifest
    from qurate.score.apply import apply

    with ShardWriter(tmp_path / "in") as w:
        w.write({"id": "a", "text": TEXTS[0]})
    write_manifest(tmp_path / "in", stage="curate", config_hash="x", inputs=[], n_in=1,
                   n_kept=1, rejected_by_reason={})  # fmt: skip
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="no raters.json"):
        apply(tmp_path / "in", tmp_path / "out", tmp_path / "empty", ScoreConfig())


def test_perplexity_is_priced_by_default():
    # on when its CPU price is within budget (tests/score/test_budget.py), not unconditionally
    assert ScoreConfig().apply.perplexity == "auto"


@pytest.mark.parametrize("cut", [0, 40, 100, 5_000, 200_000, -1])
def test_a_model_file_cut_short_is_one_line_not_a_hang(tmp_path, cut):
    """fastText trusts the sizes it reads: the shipped domain model cut inside its dictionary
    kept fastText's loader looping for minutes (killed at 2 min here), cut inside a matrix it
    died of vector::_M_default_append. The layout is checked before fastText sees the file."""
    import subprocess
    import sys

    from qurate.score.domains import DOMAINS_MODEL

    whole = DOMAINS_MODEL.read_bytes()
    cut_file = tmp_path / "domains.ftz"
    cut_file.write_bytes(whole[:cut] if cut >= 0 else whole + b"extra")
    code = (
        "import sys\nfrom pathlib import Path\nfrom qurate.errors import BadInputError\n"
        "from qurate.score.domains import DomainClassifier\n"
        "try:\n    DomainClassifier(Path(sys.argv[1]))\n"
        "except BadInputError as e:\n    print(e)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(cut_file)], capture_output=True, text=True, timeout=60
    )
    assert "not a fastText model" in run.stdout, run.stdout + run.stderr[-500:]
