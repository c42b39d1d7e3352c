"""Math-density features: how much of a document is formulas, symbols and numbers.

Three shares, each cheap enough to compute on every document of a web-scale pool inside
the recall scorer (a few microseconds per 4 KB; see ``bench/augment.py``):

- ``latex``: LaTeX commands (``\\frac``, ``\\alpha``, ``\\begin``) and ``$`` delimiters per
  whitespace-separated word;
- ``symbols``: math symbols per non-space byte: the ASCII operators ``= + ^ _ < > | * /``
  and the Unicode blocks of mathematical operators, arrows, letter-like symbols
  (``ℝ``, ``ℕ``) and Greek letters;
- ``numbers``: digits per non-space byte.

Counting is done on the UTF-8 bytes with ``bytes.translate(None, delete)`` and
``bytes.count`` (single C passes) rather than a regular expression per class, which is what
keeps the recall scorer within a few percent of bare fastText predict.

``feature_tokens`` turns the shares into a few pseudo-words (``__latex_3__``) appended to
the fastText input line, so that the recall classifier can use density even when the
vocabulary of a formula (``\\frac{a}{b}``) was never seen in training. ``math_density``
folds the shares into one number in [0, 1] that ``qurate augment ingest`` stores as
``scores["math_density"]``.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass

_LATEX_CMD = re.compile(r"\\[A-Za-z]+")
_DIGITS = b"0123456789"
_ASCII_OPS = b"=+^_<>|*/"
# UTF-8 prefixes of the Unicode blocks that hold math: U+2200-22FF (operators) and
# U+2100-21FF (letter-like symbols such as R N Z, arrows), all "\xe2\x84".."\xe2\x8b";
# Greek letters have the lead bytes "\xce" and "\xcf" (one-byte counts: a memchr each).
_E2_MATH = (b"\xe2\x84", b"\xe2\x85", b"\xe2\x86", b"\xe2\x87",
            b"\xe2\x88", b"\xe2\x89", b"\xe2\x8a", b"\xe2\x8b")  # fmt: skip
# Share -> bucket boundaries (log-spaced): bucket 0 means "none at all".
_EDGES = (0.0005, 0.002, 0.008, 0.03, 0.1)


@dataclass(frozen=True, slots=True)
class MathFeatures:
    """Shares of a text: LaTeX commands per word, math symbols and digits per byte."""

    latex: float
    symbols: float
    numbers: float

    def density(self) -> float:
        """One number in [0, 1]: how formula-like the text is (0 = prose or code without math).

        LaTeX is weighted most: it is the clearest sign of math (code has as many ASCII
        operators); digits the least (tables, dates and version numbers are full of them).
        Calibrated on the held-out pool of ``bench/augment.py``: medians are ~0.95 for math
        docstrings, ~0.3 for source code and ~0.1 for prose.
        """
        raw = 6.0 * self.latex + 0.5 * self.symbols + 0.25 * self.numbers
        return 1.0 - math.exp(-10.0 * raw)


def math_features(text: str) -> MathFeatures:
    """The three shares of ``text`` (all 0.0 for an empty text)."""
    data = text.encode("utf-8", "replace")
    # One-byte counts on bytes are memchr scans, far cheaper than str methods on non-ASCII.
    spaces, newlines = data.count(b" "), data.count(b"\n")
    n_bytes = len(data) - spaces - newlines - data.count(b"\t") - data.count(b"\r") or 1
    n_words = spaces + newlines + 1  # approximates len(text.split()) at a fraction of its cost
    latex = len(_LATEX_CMD.findall(text)) + data.count(b"$")
    symbols = len(data) - len(data.translate(None, _ASCII_OPS))
    if not text.isascii():  # most documents are ASCII: skip the scans for UTF-8 symbols
        symbols += data.count(b"\xce") + data.count(b"\xcf")
        if b"\xe2" in data:
            symbols += sum(data.count(p) for p in _E2_MATH)
    digits = len(data) - len(data.translate(None, _DIGITS))
    return MathFeatures(latex / n_words, symbols / n_bytes, digits / n_bytes)


def math_density(text: str) -> float:
    """``math_features(text).density()``: a [0, 1] formula density."""
    return math_features(text).density()


_LATEX_TOKENS = tuple(f"__latex_{i}__" for i in range(len(_EDGES) + 1))
_SYM_TOKENS = tuple(f"__msym_{i}__" for i in range(len(_EDGES) + 1))
_NUM_TOKENS = tuple(f"__num_{i}__" for i in range(len(_EDGES) + 1))


def feature_tokens(features: MathFeatures) -> str:
    """Pseudo-words for fastText: ``__latex_B__ __msym_B__ __num_B__`` with buckets 0-5."""
    return (
        f"{_LATEX_TOKENS[bisect_right(_EDGES, features.latex)]} "
        f"{_SYM_TOKENS[bisect_right(_EDGES, features.symbols)]} "
        f"{_NUM_TOKENS[bisect_right(_EDGES, features.numbers)]}"
    )


__all__ = ["MathFeatures", "feature_tokens", "math_density", "math_features"]
