"""The math prior: round-1 positives from the pool's own math, a held-out split that
measures it, and drift-guard negatives that are not math."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from test_classifier import SAMPLE, _jsonl, labelled_pool, tiny  # noqa: E402  (same folder)

from qurate.augment import pool as pooling
from qurate.augment.prior import math_prior, math_priors
from qurate.augment.prior_split import prior_split
from qurate.augment.recall import recall
from qurate.contract.shards import ShardWriter, iter_rows, write_manifest

# Math the sympy seeds never show: reference-manual prose in a texinfo layout, no LaTeX,
# no Python (the kind of text bench/augment_untuned.py's Maxima pool holds).
_SUBJECTS = [
    ("eigenvalues", "matrix", "the characteristic polynomial", "determinant"),
    ("gcd", "polynomials", "the coefficients", "divisor"),
    ("integrate", "integrand", "an antiderivative", "integral"),
    ("factor", "integer", "its prime factorization", "primes"),
    ("taylor", "series", "the derivative at the point", "convergence"),
    ("subgroups", "permutation group", "the conjugacy classes", "homomorphism"),
    ("solve", "equations", "the polynomial equation", "coefficients"),
    ("determinant", "matrices", "the eigenvectors", "orthogonal"),
]


def texinfo_math(i: int) -> str:
    name, obj, what, word = _SUBJECTS[i % len(_SUBJECTS)]
    return (
        f" -- Function: {name}{i} (<{obj}>, <x>)\n"
        f"     Returns {what} of <{obj}> with respect to <x>. The {word} is computed\n"
        f"     exactly when every coefficient is rational; the theorem of the\n"
        f"     chapter on {obj} says the result is unique up to a constant.\n"
        f"     See also the corollary on the {word} and the lemma before it.\n\n"
        f"     Example:\n          (%i{i}) {name}{i}(m, x);\n          (%o{i}) 0\n"
    ) * 3


def write_pool(directory: Path, texts: list[tuple[str, str, str]]) -> Path:
    with ShardWriter(directory, rows_per_shard=150) as w:
        for doc_id, text, _ in texts:
            w.write({"id": doc_id, "text": text, "lang": "en", "n_chars": len(text),
                     "n_tokens": len(text) // 4})  # fmt: skip
    write_manifest(directory, stage="curate", config_hash="-", inputs=[], n_in=len(texts),
                   n_kept=len(texts), rejected_by_reason={})  # fmt: skip
    return directory


def texinfo_pool(directory: Path) -> tuple[Path, set[str]]:
    """Texinfo math (60) among the sample's code and documentation (no sympy docstring)."""
    rows = [(f"t{i}", texinfo_math(i), "math") for i in range(60)]
    rows += [r for r in labelled_pool() if r[2] != "math"]
    return write_pool(directory, rows), {r[0] for r in rows if r[2] == "math"}


def test_the_prior_counts_math_words_not_programming_words() -> None:
    assert math_prior(texinfo_math(0)) >= 0.05
    assert math_prior("Soit P un polynôme à coefficients entiers; le théorème dit que") > 0.1
    assert math_prior("设 A 为矩阵，其特征值与行列式满足以下定理。") > 0.1
    # words shared with programming are not math words
    prog = "Load the kernel module as root; add the user to the group; set the field and domain."
    assert math_prior(prog) == 0.0
    assert math_prior("") == 0.0
    docs = [r["text"] for r in _jsonl(SAMPLE / "docs.jsonl")][:200]
    # documentation prose: most of it has no math word at all
    assert float(np.median(math_priors(docs))) < 0.005


def test_prior_picks_train_as_positives_and_are_held_out_too(tmp_path: Path) -> None:
    pool_dir, truth = texinfo_pool(tmp_path / "pool")
    pool = pooling.open_pool(pool_dir)
    cfg = tiny()
    split = prior_split(pool, cfg, "math", True, np.random.default_rng(0))
    picked = {i for i, _ in pooling.take(pool, [np.flatnonzero(m) for m in split.prior_mask])}
    assert len(picked & truth) >= 50 and len(picked - truth) <= 5
    assert len(split.held_pos) == round(0.2 * len(picked)) and split.prior_pos
    assert len(split.held_pos) + len(split.prior_pos) == len(picked)
    # the drift guard's negatives are clean: prior below prior_clean_below, none of the math
    assert split.held_neg and max(math_priors(split.held_neg)) < cfg.prior_clean_below
    # held-out documents are never trainable
    for held in split.held_pos:
        assert held not in split.prior_pos
    # code and prior=false: no picks, the plain split
    for c, dom in ((cfg, "code"), (tiny(prior=False), "math")):
        off = prior_split(pool, c, dom, True, np.random.default_rng(0))
        assert not any(m.any() for m in off.prior_mask) and not off.held_pos


def test_narrow_seeds_recall_math_they_never_saw_with_the_prior(tmp_path: Path) -> None:
    """The sympy seeds share no vocabulary or layout with texinfo math: without the prior
    few of it comes back, with it nearly all, at high precision."""
    pool_dir, truth = texinfo_pool(tmp_path / "pool")
    seeds = SAMPLE / "seeds" / "math.jsonl"
    figures = {}
    for prior in (False, True):
        out = tmp_path / f"out-{prior}"
        m = recall(pool_dir, out, seeds, "math", tiny(rounds=2, prior=prior))
        got = {r["id"] for r in iter_rows(out, columns=["id"])}
        figures[prior] = (len(got & truth) / len(truth), len(got & truth) / max(len(got), 1))
        assert (m["holdout"]["prior_positives"] > 0) == prior
    assert figures[False][0] < 0.5, figures
    assert figures[True][0] >= 0.9 and figures[True][1] >= 0.9, figures


def test_the_prior_reads_math_in_languages_beyond_the_first_lexicon() -> None:
    # Greek (accents fold: εξίσωση/εξισώσεις share a stem), Polish, Turkish, Korean, Hindi
    assert math_prior("Η εξίσωση έχει ένα πολυώνυμο με ακέραιους συντελεστές και λογάριθμο") > 0.2
    assert math_prior("Wielomian ma pierwiastki; pochodna i całka wyznacznika macierzy") > 0.3
    assert math_prior("Denklemin türevi ve integrali; polinomun katsayıları ve matrisin") > 0.3
    assert math_prior("이 다항식의 계수와 행렬의 고유값으로 방정식을 풉니다") > 0.2
    assert math_prior("इस बहुपद के गुणांक और समीकरण का अवकलज") > 0.1
    # the same languages' everyday and interface text has none
    assert math_prior("Ο πίνακας ρυθμίσεων ανοίγει από το μενού Αρχείο· πατήστε Αποθήκευση.") == 0
    assert math_prior("Otwórz plik z menu i kliknij przycisk, aby zapisać dokument.") == 0
    assert math_prior("파일 메뉴에서 저장을 누르면 문서가 저장됩니다") == 0


def test_a_repeated_word_and_interface_words_do_not_make_a_page_math() -> None:
    # one math word repeated through a page counts three times, not thirty
    editor = "The matrix editor shows the matrix in a grid of cells. " * 30
    assert math_prior(editor) < 0.01
    # a page on menus and images that mentions a matrix is tooling: no prior
    ui = (
        "Images are loaded from PNG files with the image command; click the Export button "
        "in the menu to save the image, or convert it to a matrix of pixels."
    )
    assert math_prior(ui) == 0.0
    # math with the odd interface word keeps its prior
    assert math_prior(texinfo_math(3) + " Click the menu to plot it.") >= 0.05


def test_the_prior_knows_statistics_and_not_its_everyday_homonyms() -> None:
    stats = (
        "Returns the median and the quartiles of the sample; the skewness and the kurtosis "
        "describe the shape, the covariance and the correlation two variables."
    )
    assert math_prior(stats) > 0.1
    # the everyday words of a release note are no statistics
    assert (
        math_prior("The release fixes a crash in the mean time; see the distribution notes.") == 0
    )


def test_words_of_a_script_without_spaces_are_counted_as_words_not_as_fragments() -> None:
    # 20 Khmer phrases (4 words each, in 22 characters, zero-width spaces between words)
    # and an English sentence with 3 math words: about 80 + 8 words, so a prior near 3/88.
    # Counted as the fragments a word regex cuts at every vowel sign, it was 0.013.
    km = "\u1780\u17d2\u1793\u17bb\u1784\u200b\u178f\u17b6\u179a\u17b6\u1784\u200b"
    km += "\u1781\u17b6\u1784\u200b\u1780\u17d2\u179a\u17c4\u1798 "
    prior = math_prior(km * 20 + " the median and the variance of the regression")
    assert 0.025 < prior < 0.04


def test_math_words_of_other_languages_count_in_plain_ascii_text_too() -> None:
    # Indonesian needs no accent: it took the English-only path and its stems never counted
    assert (
        math_prior("Matriks ini memiliki determinan nol; koefisien dan logaritma dihitung.") > 0.2
    )
    assert math_prior("teoreme et demonstration du lemme sans accents") > 0.2  # folded French
    # English prose still has none
    assert math_prior("The committee met on Monday and the minutes were sent by mail.") == 0


def test_shared_european_roots_count_but_not_in_an_institutes_name() -> None:
    # Catalan is in no word list: the shared roots carry it (matemàtiques, fracció, ...)
    assert math_prior("Introduïu el numerador i el denominador de la fracció: matemàtiques") > 0.2
    assert math_prior("Stichting Mathematisch Centrum, Amsterdam. All rights reserved.") == 0


def test_the_prior_reads_basque_estonian_and_lithuanian_math() -> None:
    assert math_prior("Ekuazio honen deribatua eta matrizearen determinatzailea kalkulatu") > 0.2
    assert math_prior("Maatriksi determinant ja võrrandi tuletis; tõenäosus ja standardhälve") > 0.2
    assert math_prior("Lygties išvestinė ir trupmenos vardiklis; tikimybė") > 0.2
    # their everyday text has none
    assert math_prior("Dokumentua gorde eta inprimatu menuaren bidez.") == 0
    assert math_prior("Salvesta dokument ja prindi see menüü kaudu.") == 0


def test_the_names_of_functions_count_in_their_inflected_and_compound_forms() -> None:
    # the C math library's pages on complex and hyperbolic functions had no word it knew
    assert math_prior("cacosh - komplexer Areakosinus Hyperbolicus; die Besselfunktion") > 0.2
    assert math_prior("catanh - Fonction arc tangente hyperbolique complexe") > 0.2
    assert math_prior("cimag - zwracają część urojoną liczby zespolonej") > 0.2
    assert math_prior("cproj - проекция на римановскую сферу; мнимая часть") > 0.2
    # the everyday senses left out: a root directory, a complex system, "within"
    assert math_prior("Le répertoire racine contient un système complexe.") == 0
    assert math_prior("Das Wurzelverzeichnis enthält komplexe Dateien.") == 0
    assert math_prior("El archivo se guarda en el seno del directorio.") == 0


def test_matrix_alone_is_the_data_type_of_a_numerical_package_not_mathematics() -> None:
    # a plotting page of a numerical package: its arguments are matrices, nothing else
    plot = "xpoly draws a polyline. Arguments xv, yv matrices of the same size; style a matrix."
    assert math_prior(plot) == 0.0
    assert (
        math_prior("xpoly dessine une ligne brisée. Paramètres xv,yv matrices de même taille") == 0
    )
    # with another math word the matrix words count as before
    lin = "The determinant of the matrix is the product of its eigenvalues; the matrix is square."
    assert math_prior(lin) > 0.15
