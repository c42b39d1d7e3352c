"""Math survives curate's normalisation; math-density features rank math above code above prose."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

from qurate.contract.rejects import REJECT_REASON
from qurate.filters.math_features import feature_tokens, math_density, math_features
from qurate.filters.normalize import Normalize, normalize_text

SAMPLE = Path(__file__).resolve().parents[2] / "qurate" / "data" / "sample"

LATEX = [
    r"Let $x \in \mathbb{R}$ and $f(x) = \frac{1}{1 + e^{-x}}$.",
    r"$$\int_0^1 x^2 \, dx = \left[\frac{x^3}{3}\right]_0^1 = \frac{1}{3}$$",
    r"\begin{align} a &= b \\ c &= \sqrt[3]{d} \end{align}",
    r"The cost is \$5 and $\sum_{i=1}^{n} i = \frac{n(n+1)}{2}$ (Gauss).",
    r"Escapes stay: \\, \{ \}, \_ and \% in \texttt{a\_b}.",
]
UNICODE_MATH = [
    "∀ε>0 ∃δ>0: |x−a|<δ ⇒ |f(x)−f(a)|<ε",
    "x² + y² = r², H₂O, ∑ᵢ aᵢ, ∫ f dμ, ℝ ⊂ ℂ, ℕ ∋ n ≥ 1, ∞",
    "Full width: ＡＢＣ１２３, ligature ﬁ, micro µ, angstrom Å, ohm Ω",
    "α ≤ β ≠ γ ≈ δ, √2 ≅ 1.414, ⌊x⌋ ⌈y⌉, A ∩ B ∪ C, ¬p ∧ q ∨ r, 1/2 = ½",
]


@pytest.mark.parametrize("text", LATEX + UNICODE_MATH)
def test_normalisation_keeps_math_intact(text: str) -> None:
    nfc = unicodedata.normalize("NFC", text)  # NFC is the one rewrite allowed
    out, _ = normalize_text(text)
    assert out == nfc
    # NFKC would turn x² into x2 and ℝ into R: make sure it did not happen.
    for ch in "²ℝ½ﬁ":
        assert (ch in out) == (ch in text)


def test_normalize_step_on_a_math_document() -> None:
    text = "\r\n".join(LATEX + UNICODE_MATH) + "\x00"
    doc = Document(text=text, id="m")
    out = next(Normalize().run(iter([doc])))
    assert REJECT_REASON not in out.metadata
    assert out.text == unicodedata.normalize("NFC", "\n".join(LATEX + UNICODE_MATH))
    assert "\\frac{1}{1 + e^{-x}}" in out.text and "$$" in out.text and "ℝ ⊂ ℂ" in out.text


def test_normalisation_keeps_real_sample_math() -> None:
    rows = [
        json.loads(x) for x in (SAMPLE / "math.jsonl").read_text(encoding="utf-8").splitlines() if x
    ]
    for r in rows:
        out, _ = normalize_text(r["text"])
        assert out.count("$") == r["text"].count("$") and out.count("\\") == r["text"].count("\\")


def test_features_count_latex_symbols_and_numbers() -> None:
    f = math_features(r"$\frac{a}{b} = \alpha^2 + 3$")
    assert f.latex > 0.5 and f.symbols > 0.1 and f.numbers > 0
    g = math_features("∀x ∈ ℝ: x² ≥ 0")
    assert g.symbols > 0.15 and g.latex == 0  # 4 symbols of 3 bytes in 18 non-space bytes
    assert math_features("") == math_features("   ") and math_density("") == 0.0
    assert feature_tokens(math_features("plain words only")) == "__latex_0__ __msym_0__ __num_0__"
    assert feature_tokens(f).startswith("__latex_5__")


def test_density_ranks_real_math_above_code_above_prose() -> None:
    def median(texts: list[str]) -> float:
        vals = sorted(math_density(t) for t in texts)
        return vals[len(vals) // 2]

    math = [json.loads(x)["text"] for x in (SAMPLE / "math.jsonl").read_text().splitlines() if x]
    code = pq.read_table(SAMPLE / "code.parquet").column("text").to_pylist()
    docs = [json.loads(x)["text"] for x in (SAMPLE / "docs.jsonl").read_text().splitlines() if x]
    m, c, p = median(math), median(code), median(docs)
    assert m > 0.8 and m > c > p and p < 0.3
