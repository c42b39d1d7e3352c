"""Math recall on a sixth pool, built (and its truth labels fixed) before any run on it.

Run once, untuned, at ``4589049`` (2026-12-04): recall 0.588 at precision 0.915; a dev pool
since (bench/RESULTS.md).

Usage (after ``bash bench/setup-eval.sh`` and ``apt-get install --no-install-recommends
libreoffice-help-dz libreoffice-help-eu libreoffice-help-en-gb``):

    .venv/bin/python bench/augment_sixth.py [--rounds 3] [--rebuild] [--build-only] [--set key=JSON]

The recall defaults were tuned on five dev pools: ``bench/augment.py`` (LaTeX docstrings
of six Python packages), ``bench/augment_untuned.py`` (Maxima and GAP manuals),
``bench/augment_fresh.py`` (Octave, PARI/GP, calc), ``bench/augment_fourth.py`` (the
Giac manual in English and Greek) and ``bench/augment_fifth.py`` (LibreOffice Calc help
in Korean, Khmer and Estonian, R manuals). This pool shares no package with any of them:
its math is LibreOffice Calc's help in Dzongkha (Tibetan script, which neither
``qurate/augment/lexicon.py`` nor ``qurate/augment/prior.py`` covers), Basque (Latin
script, a language neither covers) and British English. Its labels come from page
titles fixed below (Calc's "Functions by category") before any run:

- **math** (the truth): Calc's help in ``dz``, ``eu`` and ``en-GB``: the pages on
  mathematical, array (matrix), statistical and analysis (Bessel, complex-number,
  error-function) functions (``LO_MATH_PAGES``) and the single-function pages of
  mathematical and statistical functions (``LO_MATH_FUNCS``: the fifth pool's list plus
  the conditional sums/averages/extrema, ``AGGREGATE`` and the exponential-smoothing
  ``FORECAST.ETS.*`` family, which Calc files under Mathematical or Statistical).
  Dzongkha's translation is partial: a page mixes Tibetan with untranslated English
  sentences, as a real localised manual does (at the build of 2026-12-04, 90 of the 110
  Dzongkha math pieces hold Tibetan text, 20 are wholly untranslated English). Pages
  that are half math, half tooling (financial and option-pricing functions, ``CONVERT``'s
  unit tables, database functions, the statistics *dialogs*, the formula editor) are in
  neither class and left out.
- **other**: the same Calc help's pages on date/time, information, logical, spreadsheet,
  text and programming functions and their single-function pages (``LO_OTHER_PAGES``,
  ``LO_OTHER_FUNCS``: the math pages' layout, "Syntax"/"Example" and formulas, without
  the mathematics); Writer, Impress and Draw help pages (menus, dialogs) in the same
  three languages; Python code of non-math packages no dev pool reads (``PY_PACKAGES``).

Seeds: the bundled 60 sympy docstrings. The last line is ``ratio=<precision/0.9>``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import augment  # noqa: E402  (bench/augment.py: the stage writer and the recall runner)
import augment_fifth as a5  # noqa: E402  (lo_docs, calc_pages, the fifth pool's page lists)
import augment_untuned as au  # noqa: E402  (spread)

POOL = HERE / "data" / "augment" / "sixth-pool.jsonl"
LO = a5.LO
LO_LANGS = ("dz", "eu", "en-GB")
# Fixed from the page titles (Calc's "Functions by category") before any run.
LO_MATH_PAGES = a5.LO_MATH_PAGES
LO_MATH_FUNCS = a5.LO_MATH_FUNCS + (
    "aggregate", "averageif", "averageifs", "sumifs", "maxifs", "minifs", "countifs",
    "forecastetsadd", "forecastetsmult", "forecastetspiadd", "forecastetspimult",
    "forecastetsseason", "forecastetsstatadd", "forecastetsstatmult",
)  # fmt: skip
LO_OTHER_PAGES = a5.LO_OTHER_PAGES
LO_OTHER_FUNCS = a5.LO_OTHER_FUNCS + (
    "workday.intl", "networkdays.intl", "weeknum_ooo", "weeknumadd",
)  # fmt: skip
UI_MODULES = ("swriter", "simpress", "sdraw")
PY_PACKAGES = (
    "courlan", "htmldate", "tldextract", "wcwidth", "ftfy", "humanize", "cloudpathlib",
    "shellingham", "tzlocal", "defusedxml", "justext", "inscriptis", "fasteners", "pluggy",
)  # fmt: skip


def ui_pages(lang: str) -> list[str]:
    """Writer, Impress and Draw help pages (menus, dialogs): every page of their ``01``
    folders."""
    out = []
    for module in UI_MODULES:
        out += [
            f"{module}/01/{p.name}"
            for p in sorted((LO / lang / "text" / module / "01").glob("*.html"))
        ]
    return out


def math_docs() -> list[tuple[str, str, str]]:
    docs = []
    for lang in LO_LANGS:
        docs += au.spread(a5.lo_docs(lang, a5.calc_pages(LO_MATH_PAGES, LO_MATH_FUNCS)), 110)
    return docs


def other_docs() -> list[tuple[str, str, str]]:

    docs = []
    for lang in LO_LANGS:
        docs += au.spread(a5.lo_docs(lang, a5.calc_pages(LO_OTHER_PAGES, LO_OTHER_FUNCS)), 55)
        docs += au.spread(a5.lo_docs(lang, ui_pages(lang)), 65)
    docs += au.site_code_docs(PY_PACKAGES, 8)
    return docs


def build(path: Path) -> None:
    augment.write_pool(path, math_docs(), other_docs(), "s")


def main() -> None:
    augment.pool_main("sixth", POOL, build, __doc__)


if __name__ == "__main__":
    main()
