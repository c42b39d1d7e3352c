"""A domain-general math prior: how much of a document's vocabulary is mathematics.

Narrow seeds teach fastText their own package's vocabulary and layout, not mathematics
(60 sympy docstrings recalled 2 of 300 Maxima/GAP manual sections: bench/RESULTS.md). The
prior is what the seeds cannot give: a fixed lexicon of mathematical content words
(written from general knowledge of the subject, in English and the main European languages,
never read off a bench pool) and CJK math terms, counted per word of the document's head.
It is used only to pick round-1 pseudo-positives of high precision (and, at the other end,
negatives that are surely not math), so that the classifier trains on the *pool's* own
math from round 1 and self-training has something to grow from.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

import numpy as np

from qurate.augment.lexicon import PHRASES, STEMS, UNSPACED

PRIOR_CHARS = 3000

# Mathematical content words: subjects, objects and operations that are rare outside
# mathematics. Generic words shared with programming ("function", "value", "set", "map",
# "list", "number", "array", "order", "table") are left out on purpose.
_EN = """
theorem theorems lemma lemmas corollary proof proofs conjecture axiom axioms polynomial
polynomials monomial monomials coefficient coefficients rational rationals irrational real-
valued complex-valued prime primes divisor divisors divisible modulo modular congruence
congruent gcd lcm factorial factorization factorisation factorize factorise factors matrix
matrices determinant determinants eigenvalue eigenvalues eigenvector eigenvectors eigenspace
transpose invertible diagonalizable orthogonal orthonormal hermitian unitary triangular
nullspace linear bilinear quadratic cubic quartic equation equations inequality inequalities
derivative derivatives differentiate differentiation differential integral integrals
integrate integration integrand antiderivative convergence convergent divergent converges
diverges asymptotic logarithm logarithms logarithmic exponential exponent exponents sine
cosine tangent sinh cosh tanh trigonometric hyperbolic arcsin arccos arctan sqrt radical
radicals subgroup subgroups coset cosets homomorphism homomorphisms isomorphism isomorphic
isomorphisms automorphism automorphisms endomorphism permutation permutations cyclic abelian
commutative associative nilpotent solvable conjugacy conjugate conjugates centralizer
normalizer stabilizer orbit orbits algebraic semigroup monoid polynomial-time manifold
manifolds topological tensor tensors gradient divergence jacobian hessian laplacian fourier
laplace taylor laurent legendre hermite bessel gamma zeta riemann probability probabilities
variance expectation stochastic combinatorial binomial multinomial combinatorics geometric
euclidean affine projective numerator denominator remainder infinitesimal bijective
injective surjective bijection hypergeometric elliptic modular simplification unknowns
parabola hyperbola ellipse
median medians quartile quartiles percentile percentiles quantile quantiles skewness kurtosis
regression correlation covariance deviation deviations poisson gaussian weibull lognormal
bernoulli cumulative radian radians cotangent secant cosecant arccot imaginary interpolation
extrapolation trigonometry multiplication subtraction exponentiation statistical
locus loci conic conics perpendicular bisector bisectors midpoint collinear circumcircle
incircle hypotenuse circumference cartesian asymptote asymptotes parametric fractions
numerators denominators
"""
_FR = """
théorème lemme corollaire démonstration preuve polynôme polynômes coefficient coefficients
rationnel rationnels diviseur diviseurs matrice matrices déterminant équation équations
inégalité dérivée dérivées intégrale intégrales logarithme exponentielle groupes anneau
homomorphisme isomorphisme permutation permutations dénominateur numérateur
"""
_DE = """
beweis lemma korollar polynom polynome koeffizient koeffizienten primzahl primzahlen teiler
matrix matrizen determinante eigenwert eigenwerte eigenvektor gleichung gleichungen
ungleichung ableitung integral integrale grenzwert logarithmus untergruppe homomorphismus
isomorphismus nenner zähler bruch
"""
_ES_IT_PT = """
teorema lema corolario demostración polinomio polinomios coeficiente coeficientes matriz
matrices determinante autovalor ecuación ecuaciones derivada integral logaritmo subgrupo
polinomi coefficiente matrice equazione equazioni derivata integrale logaritmo sottogruppo
polinômio polinômios coeficiente inteiro inteiros matriz equação equações derivada integral
logaritmo subgrupo corpo
cuadrada quadrada
"""
_RU = """
теорема лемма доказательство многочлен многочлена коэффициент коэффициенты матрица матрицы
определитель уравнение уравнения производная интеграл предел логарифм подгруппа кольцо
"""
MATH_WORDS = frozenset((_EN + _FR + _DE + _ES_IT_PT + _RU).split())
# Chinese and Japanese do not split words with spaces: these are counted as substrings.
# Single characters that are common outside math (环 in 环境 "environment", 群 in 群组
# "user group") and 置換 (Japanese "replace", as in text substitution) are left out.
MATH_CJK = (
    "定理", "引理", "证明", "証明", "多项式", "多項式", "系数", "係数", "整数", "素数",
    "矩阵", "行列式", "特征值", "固有値", "向量", "ベクトル", "方程式", "方程", "不等式",
    "导数", "導関数", "微分", "积分", "積分", "极限", "極限", "级数", "級数", "对数", "対数",
    "子群", "部分群", "同构", "置换",
)  # fmt: skip

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?")
_ASCII_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?")  # the same words in a lower-cased ASCII head
_MARKS = re.compile(r"[\u0300-\u036f]")
_CJK = re.compile(r"[\u3040-\u9fff]")
_SCRIPTS = {
    "ko": re.compile(r"[\uac00-\ud7a3]"),
    "hi": re.compile(r"[\u0900-\u097f]"),
    "ar": re.compile(r"[\u0600-\u06ff]"),
    "vi": re.compile(r"[ăđơư]"),
}
# A word counts at most this often: a page that repeats one math word ("matrix" in a
# spreadsheet editor's manual) is not a page about mathematics; with the cap, fewer
# non-math pages reach `prior_threshold` (wrong round-1 positives on the four dev pools
# 9/0/7/12 -> 6/0/2/11 at 0.015, bench/RESULTS.md).
MAX_REPEAT = 3
# Interface and media words: a page about menus, images or audio clips that mentions a
# matrix is the system's tooling, not its mathematics (Giac's interface and multimedia
# chapters were 20 of the fourth dev pool's false positives). A head with at least as many
# of them as math words has no prior.
UI_WORDS = frozenset(
    """
menu menus button buttons click clicking window windows image images pixel pixels audio
sound clip clips toolbar dialog checkbox checked unchecked font fonts colour color colors
mouse keyboard cursor widget png jpeg gif browser boolean booleans csv export install
installation configuration configure
""".split()
)

# Words for "matrix" (prefixes, folded): in the manual of a numerical package (Scilab, Octave,
# R, Calc) a matrix is the data type of every argument, so a page whose only math words are
# these is no evidence of mathematics; with any other math word they count as before. On
# the tenth pool (Scilab help, the Axiom book), 0.12 of the non-math pages had a prior of
# 0.012 or more, against 0.001-0.02 on the nine pools before (bench/RESULTS.md).
DATA_TYPE_WORDS = ("matri", "matic", "macierz", "матриц", "матріц")


def fold(text: str) -> str:
    """``text`` without accents (NFD, combining marks dropped): *εξίσωση* -> *εξισωση*."""
    return _MARKS.sub("", unicodedata.normalize("NFD", text))


_FOLDED = frozenset(fold(w) for w in MATH_WORDS)
_STEMS: dict[str, tuple[str, ...]] = {}
for _s in sorted(fold(s) for s in STEMS):
    _STEMS[_s[:4]] = (*_STEMS.get(_s[:4], ()), _s)


# other languages' words that are ASCII once folded (théorème -> theoreme)
_ASCII_FOLDED = frozenset(w for w in _FOLDED if w.isascii()) - MATH_WORDS


def _stemmed(word: str) -> bool:
    return any(word.startswith(s) for s in _STEMS.get(word[:4], ()))


def _is_math(word: str) -> bool:
    return word in _FOLDED or _stemmed(word)


def math_prior(text: str, chars: int = PRIOR_CHARS) -> float:
    """Share of the words of ``text[:chars]`` that are mathematical content words, in
    [0, 1]; CJK terms count as one word each against a word count of CJK characters / 2.

    A head with non-ASCII letters is accent-folded and also matched against the stems and
    phrases of ``augment/lexicon.py`` (Greek, Slavic, Turkish, Korean, Arabic, Hindi, ...);
    an ASCII head (most of a web pool) is matched against the English words by a set
    intersection and against the other languages' folded words and stems word by word
    (Indonesian, Basque or unaccented Spanish are ASCII too): 10,000 docs/s on dev pool 1's
    ASCII heads, 12,450 with English alone (one core, bench/RESULTS.md). Words of scripts
    written without spaces (Khmer, Thai, Tibetan) count as characters / 4. A
    word counts at most ``MAX_REPEAT`` times; a head with at least as many interface words
    (``UI_WORDS``) as math words gets 0.
    """
    head = text[:chars].lower()
    if head.isascii():
        counts = Counter(_ASCII_WORD.findall(head))
        # English words by a set intersection (C speed); the rest against the folded words
        # and stems of other languages, whose math is often ASCII too (Basque, Indonesian,
        # Malay; Spanish or Romanian typed without accents)
        words = MATH_WORDS.intersection(counts)
        other = {w for w in counts if w[:4] in _STEMS and _stemmed(w)}
        words |= other | _ASCII_FOLDED.intersection(counts)
        hits = _capped(counts, words)
    else:
        counts = Counter(_WORD.findall(fold(head)))
        words = {w for w in counts if _is_math(w)}
        hits = _capped(counts, words)
        for lang, script in _SCRIPTS.items():
            if script.search(head):  # count a language's phrases only where its script is
                hits += sum(min(head.count(t), MAX_REPEAT) for t in PHRASES[lang])
        cjk = sum(min(head.count(t), MAX_REPEAT) for t in MATH_CJK) if _CJK.search(head) else 0
        if cjk:
            hits += cjk
            counts["\0cjk"] = len(_CJK.findall(head)) // 2  # CJK words: characters / 2
        if UNSPACED.search(head):  # words of scripts without spaces: characters / 4
            for w in [w for w in counts if UNSPACED.search(w)]:
                del counts[w]
            counts["\0unspaced"] = len(UNSPACED.findall(head)) // 4
    n = counts.total()
    if not n or hits <= _capped(counts, UI_WORDS.intersection(counts)):
        return 0.0
    if hits <= _capped(counts, [w for w in words if w.startswith(DATA_TYPE_WORDS)]):
        return 0.0  # "matrix" alone: the data type of a numerical package's every page
    return hits / n


def _capped(counts: Counter[str], words: Iterable[str]) -> int:
    """Occurrences of ``words`` in ``counts``, each counted at most ``MAX_REPEAT`` times."""
    return sum(min(counts[w], MAX_REPEAT) for w in words)


def math_priors(texts: list[str]) -> np.ndarray:
    """``math_prior`` of each text, as float32."""
    return np.fromiter((math_prior(t) for t in texts), np.float32, len(texts))


__all__ = [
    "MATH_CJK",
    "MATH_WORDS",
    "MAX_REPEAT",
    "PRIOR_CHARS",
    "fold",
    "math_prior",
    "math_priors",
]
