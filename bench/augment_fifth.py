"""Math recall on a fifth pool, built (and its truth labels fixed) before any run on it.

Usage (after ``bash bench/setup-eval.sh`` and ``apt-get install --no-install-recommends
libreoffice-help-ko libreoffice-help-km libreoffice-help-et r-doc-info``):

    .venv/bin/python bench/augment_fifth.py [--rounds 3] [--rebuild] [--set key=JSON]

The recall defaults were tuned on four dev pools: ``bench/augment.py`` (LaTeX docstrings
of six Python packages), ``bench/augment_untuned.py`` (Maxima and GAP manuals),
``bench/augment_fresh.py`` (Octave, PARI/GP, calc) and ``bench/augment_fourth.py`` (the
Giac manual in English and Greek). This pool shares no source with any of them, and its
math is mostly in three languages and scripts none of them has (Korean/Hangul,
Khmer/Khmer script, Estonian/Latin). Its labels come from page and chapter
titles fixed below before any run:

- **math** (the truth): LibreOffice Calc's help in Korean, Khmer and Estonian
  (``libreoffice-help-{ko,km,et}``; Debian's ``-sk`` package is Czech, a link to ``cs``), the pages on mathematical, array (matrix), statistical
  and analysis (Bessel, complex-number, error-function) functions (``LO_MATH_PAGES``) and
  the single-function pages of mathematical functions (``LO_MATH_FUNCS``); the chapters of
  *An Introduction to R* (``r-doc-info``) on arrays and matrices, probability
  distributions and statistical models (``R_INTRO_MATH``), in English. Calc's translations
  are partial: a page mixes the language with untranslated English sentences, as a real
  localised manual does. Pages that are half math, half tooling (financial and database
  functions, the statistics *dialogs*, the formula editor) are in neither class and left
  out.
- **other**: the same Calc help's pages on date/time, information, logical, spreadsheet,
  text and programming functions and their single-function pages (``LO_OTHER_PAGES``,
  ``LO_OTHER_FUNCS``: the math pages' layout, "Syntax"/"Example" and formulas, without the
  mathematics); Writer and Impress help pages in the same three languages; the R manuals'
  chapters on reading data, loops, writing functions, packages, installation, data
  import/export and the language definition (``R_OTHER``); GNU info manuals no dev pool
  uses (autosprintf, find-maint); Python code of non-math packages no dev pool reads
  (tqdm, packaging, filelock, huggingface_hub, pygments, babel, dateparser, idna, attr,
  smart_open).

Seeds: the bundled 60 sympy docstrings. The last line is ``ratio=<precision/0.9>``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import augment  # noqa: E402  (bench/augment.py: the stage writer and the recall runner)
import augment_fourth as a4  # noqa: E402  (html_text)
import augment_untuned as au  # noqa: E402  (chunks, info_chapters, info_text, spread)

POOL = HERE / "data" / "augment" / "fifth-pool.jsonl"
LO = Path("/usr/share/libreoffice/help")
LO_LANGS = ("ko", "km", "et")
# Fixed from the page titles (Calc's "Functions by category") before any run.
LO_MATH_PAGES = (
    "04060106", "04060107", "04060108", "04060115", "04060116",
    "04060181", "04060182", "04060183", "04060184", "04060185",
)  # fmt: skip
LO_MATH_FUNCS = (
    "imcos", "imcosh", "imcot", "imcsc", "imcsch", "imsec", "imsech", "imsin", "imsinh",
    "imtan", "fourier", "skewp", "roundsig", "floor", "ceiling", "trunc", "rounddown",
    "sum", "rawsubtract",
)  # fmt: skip
LO_OTHER_PAGES = ("04060102", "04060104", "04060105", "04060109", "04060110", "04060112")
LO_OTHER_FUNCS = (
    "date", "datedif", "datevalue", "day", "days", "days360", "eastersunday", "edate",
    "eomonth", "hour", "isoweeknum", "minute", "month", "networkdays", "now", "second",
    "time", "timevalue", "today", "weekday", "weeknum", "workday", "year", "yearfrac",
    "concat", "textjoin", "regex", "findb", "searchb", "replaceb", "asc", "jis", "color",
    "webservice", "error_type", "value", "numbervalue", "switch", "ifs", "arabic", "roman",
)  # fmt: skip
R_INTRO_MATH = {5, 8, 11}
R_OTHER = {
    "R-intro": {7, 9, 10, 13},
    "R-admin": {2, 3, 4, 5, 6, 7},
    "R-data": {2, 3, 4, 5, 6, 7},
    "R-lang": {3, 4, 5, 6, 8, 9},
}
INFO_MANUALS = ("autosprintf", "find-maint")
PY_PACKAGES = (
    "tqdm", "packaging", "filelock", "huggingface_hub", "pygments", "babel", "dateparser",
    "idna", "attr", "smart_open",
)  # fmt: skip


def lo_text(path: Path) -> str:
    """Visible text of one LibreOffice help page, without the viewer's header and the
    debug footer."""
    text = a4.html_text(path.read_text(encoding="utf-8", errors="replace"))
    text = re.sub(r"^[^\n]*\n(?:.{0,40}\n){0,8}?[^\n]*\U0001f50e\S*\s*\n", "", text, count=1)
    return text.split("Help content debug info:")[0].strip()


def lo_docs(lang: str, pages: list[str]) -> list[tuple[str, str, str]]:
    """``(source, text, lang)`` pieces (about 2,500 chars) of the help pages ``pages``
    (paths under ``help/<lang>/text/``)."""
    docs = []
    for page in pages:
        path = LO / lang / "text" / page
        if path.exists():
            for j, c in enumerate(au.chunks(lo_text(path), limit=2500, floor=300)):
                docs.append((f"lo-{lang}:{page}:{j}", c, lang))
    return docs


def calc_pages(numbers: tuple[str, ...], funcs: tuple[str, ...]) -> list[str]:
    return [f"scalc/01/{n}.html" for n in numbers] + [f"scalc/01/func_{f}.html" for f in funcs]


def ui_pages(lang: str) -> list[str]:
    """Writer and Impress help pages (menus, dialogs): every page of their ``01`` folders."""
    out = []
    for module in ("swriter", "simpress"):
        out += [
            f"{module}/01/{p.name}"
            for p in sorted((LO / lang / "text" / module / "01").glob("*.html"))
        ]
    return out


def r_docs(manual: str, chapters: set[int], lang: str = "en") -> list[tuple[str, str, str]]:
    docs = []
    for num, title, body in au.info_chapters(au.info_text(f"/usr/share/info/{manual}.info*.gz")):
        if num in chapters:
            for j, c in enumerate(au.chunks(body)):
                docs.append((f"{manual}:{num}:{j}", f"{title}\n\n{c}" if j == 0 else c, lang))
    return docs


def math_docs() -> list[tuple[str, str, str]]:
    docs = []
    for lang in LO_LANGS:
        docs += au.spread(lo_docs(lang, calc_pages(LO_MATH_PAGES, LO_MATH_FUNCS)), 100)
    return docs + au.spread(r_docs("R-intro", R_INTRO_MATH), 40)


def other_docs() -> list[tuple[str, str, str]]:

    docs = []
    for lang in LO_LANGS:
        docs += au.spread(lo_docs(lang, calc_pages(LO_OTHER_PAGES, LO_OTHER_FUNCS)), 50)
        docs += au.spread(lo_docs(lang, ui_pages(lang)), 60)
    r_other = [d for manual, chs in R_OTHER.items() for d in r_docs(manual, chs)]
    docs += au.spread(r_other, 60)
    for manual in INFO_MANUALS:
        text = au.info_text(f"/usr/share/info/{manual}.info*.gz")
        docs += au.spread([(f"{manual}:{j}", c, "en") for j, c in enumerate(au.chunks(text))], 15)
    docs += au.site_code_docs(PY_PACKAGES, 8)
    return docs


def build(path: Path) -> None:
    augment.write_pool(path, math_docs(), other_docs(), "v")


def main() -> None:
    augment.pool_main("fifth", POOL, build, __doc__)


if __name__ == "__main__":
    main()
