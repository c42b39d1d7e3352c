"""Math-density features: how much of a document is formulas, symbols and numbers.

Three shares, each cheap enough to compute on every document of a web-scale pool inside
the recall scorer (a few microseconds per 4 KB; see ``bench/augment.py``):

- ``latex``: LaTeX commands (``\\frac``, ``\\alpha``, ``\\begin``) and ``$`` delimiters per
  whitespace-separated word;
- ``symbols``: math symbols per non-space byte: the ASCII operators ``= + ^ _ < > | * /``
  and the Unicode blocks of mathematical operators, arrows, letter-like symbols
  (``ℝ``, ``ℕ``), super/subscripts and Greek letters;
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
from dataclasses import dataclass

_LATEX_CMD = re.compile(r"\\[A-Za-z]+")
_DIGITS = b"0123456789"
_ASCII_OPS = b"=+^_<>|*/"
# UTF-8 lead byte pairs of Unicode blocks that hold math: U+2200-22FF (operators),
# U+2190-21FF (arrows), U+2100-214F (letter-like: R N Z), U+2070-209F (super/subscripts),
# U+27C0-27EF, U+2980-2AFF (misc./supplemental operators), U+0391-03C9 (Greek letters).
_MATH_PREFIXES = (
    b"\xe2\x88", b"\xe2\x89", b"\xe2\x8a", b"\xe2\x8b",  # 2200-22FF
    b"\xe2\x86", b"\xe2\x87",  # 2180-21FF
    b"\xe2\x84", b"\xe2\x85",  # 2100-217F
    b"\xe2\x81\xb0", b"\xe2\x81\xb9", b"\xe2\x82",  # superscripts, subscripts
    b"\xe2\x9f", b"\xe2\xa6", b"\xe2\xa7", b"\xe2\xa8", b"\xe2\xa9", b"\xe2\xaa", b"\xe2\xab",
    b"\xce", b"\xcf",  # Greek
)  # fmt: skip
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
    n_bytes = len(data.translate(None, b" \t\n\r")) or 1
    # Spaces + newlines approximates the word count at a twentieth of ``len(text.split())``.
    n_words = text.count(" ") + text.count("\n") + 1
    latex = len(_LATEX_CMD.findall(text)) + text.count("$")
    symbols = len(data) - len(data.translate(None, _ASCII_OPS))
    if not text.isascii():  # most documents are ASCII: skip the scans for UTF-8 symbols
        leads = {b for b in (0xE2, 0xCE, 0xCF) if b in data}
        symbols += sum(data.count(p) for p in _MATH_PREFIXES if p[0] in leads)
    digits = len(data) - len(data.translate(None, _DIGITS))
    return MathFeatures(latex / n_words, symbols / n_bytes, digits / n_bytes)


def math_density(text: str) -> float:
    """``math_features(text).density()``: a [0, 1] formula density."""
    return math_features(text).density()


def _bucket(share: float) -> int:
    for i, edge in enumerate(_EDGES):
        if share < edge:
            return i
    return len(_EDGES)


def feature_tokens(features: MathFeatures) -> str:
    """Pseudo-words for fastText: ``__latex_B__ __msym_B__ __num_B__`` with buckets 0-5."""
    return (
        f"__latex_{_bucket(features.latex)}__ __msym_{_bucket(features.symbols)}__ "
        f"__num_{_bucket(features.numbers)}__"
    )


__all__ = ["MathFeatures", "feature_tokens", "math_density", "math_features"]
