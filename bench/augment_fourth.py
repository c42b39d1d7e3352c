"""Math recall on a fourth pool, built (and its truth labels fixed) before any run on it.

Usage (after ``bash bench/setup-eval.sh`` and ``apt-get install giac-doc``):

    .venv/bin/python bench/augment_fourth.py [--rounds 3] [--rebuild] [--set key=JSON]

The recall defaults were tuned on three dev pools: ``bench/augment.py`` (LaTeX docstrings
of six Python packages), ``bench/augment_untuned.py`` (Maxima and GAP manuals) and
``bench/augment_fresh.py`` (Octave, PARI/GP, calc). This pool shares no source with any of
them; its labels come from chapter and section titles fixed below before any run:

- **math** (the truth): the Giac/Xcas command manual (``giac-doc``) in English (the
  chapters in ``GIAC_EN_MATH``: numbers, algebraic expressions, polynomials,
  combinatorics, calculus, linear algebra, optimisation, curves, statistics, numerical
  computations) and in Greek (the sections of chapter 1 in ``GIAC_EL_MATH`` and chapter 3,
  numerical computations). Chapters that are half math, half tooling (operators and
  functions, vectors/tables, graphs, signal processing, machine learning, units,
  graphics) are in neither class and left out.
- **other**: the same English manual's chapters on its interfaces, files, booleans and
  strings, programming and multimedia (Giac's layout, not its mathematics); the Greek
  manual's booleans and strings sections; Giac's Spanish info manual (installing giac,
  the xcas interface, the C++ ``gen`` class: a developer guide); GNU info manuals no dev
  pool uses (ed, time, bzip2, libffi, libtasn1, gpgrt, readline's user manual, info);
  Brazilian Portuguese man pages; Python code of non-math packages no dev pool reads
  (httpx, httpcore, anyio, h11, jsonschema, loguru, trafilatura, markdown_it, fsspec,
  charset_normalizer).

Seeds: the bundled 60 sympy docstrings. The last line is ``ratio=<precision/0.9>``.
"""

from __future__ import annotations

import glob
import html
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import augment  # noqa: E402  (bench/augment.py: the stage writer and the recall runner)
import augment_untuned as au  # noqa: E402  (chunks, info_chapters, info_text, spread)

POOL = HERE / "data" / "augment" / "fourth-pool.jsonl"
GIAC = Path("/usr/share/giac/doc")
# Fixed from the tables of contents before any run.
GIAC_EN_MATH = {7, 9, 10, 11, 12, 13, 15, 16, 17, 19, 22}
GIAC_EN_OTHER = {1, 2, 4, 5, 24, 27}
GIAC_EL_MATH = {(1, s) for s in (6, 7, 8, 9, 10, 11, 12, 15, 16, 17, 18, 19, 20, 21, 23)}
GIAC_EL_MATH |= {(1, s) for s in (24, 25, 26, 27, 28, 29, 30, 31, 32, 33)}
GIAC_EL_OTHER = {(1, 2), (1, 4)}
INFO_MANUALS = ("ed", "time", "bzip2", "libffi", "libtasn1", "gpgrt", "rluserman", "info-stnd")
PY_PACKAGES = (
    "httpx", "httpcore", "anyio", "h11", "jsonschema", "loguru", "trafilatura",
    "markdown_it", "fsspec", "charset_normalizer",
)  # fmt: skip


def html_text(raw: str) -> str:
    """Visible text of one hevea page: scripts and tags dropped, entities decoded."""
    raw = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", raw)
    raw = re.sub(r"(?i)<br\s*/?>|</(p|div|h\d|li|tr|pre|table)>", "\n", raw)
    text = html.unescape(re.sub(r"<[^>]+>", "", raw))
    return re.sub(r"\n\s*\n+", "\n\n", re.sub(r"[ \t\xa0]+", " ", text)).strip()


def giac_pages(lang: str) -> list[tuple[tuple[int, int], str, str]]:
    """((chapter, section), page name, text) of each page of the Giac manual in ``lang``,
    the section being the first the table of contents lists for that page."""
    root = GIAC / lang / f"cascmd_{lang}"
    toc = (root / "index.html").read_text(encoding="utf-8", errors="replace")
    where: dict[str, tuple[int, int]] = {}
    for page, label in re.findall(r'li-toc"><a href="(cascmd_\w+\.html)[^"]*">([^<]*)', toc):
        m = re.match(r"\s*(\d+)\.(\d+)", label)
        if m and page not in where:
            where[page] = (int(m.group(1)), int(m.group(2)))
    out = []
    for page, key in sorted(where.items()):
        text = html_text((root / page).read_text(encoding="utf-8", errors="replace"))
        out.append((key, page, text))
    return out


def giac_docs(lang: str, keep) -> list[tuple[str, str, str]]:
    docs = []
    for key, page, text in giac_pages(lang):
        if keep(key):
            docs += [
                (f"giac-{lang}:{page}:{j}", c, lang)
                for j, c in enumerate(au.chunks(text, floor=200))
            ]
    return docs


def other_docs() -> list[tuple[str, str, str]]:
    import corpus_sources as cs

    docs = au.spread(giac_docs("en", lambda k: k[0] in GIAC_EN_OTHER), 100)
    docs += au.spread(giac_docs("el", lambda k: k in GIAC_EL_OTHER), 30)
    es = au.info_text("/usr/share/info/giac_es.info.gz")
    docs += au.spread([(f"giac-es-info:{j}", c, "es") for j, c in enumerate(au.chunks(es))], 30)
    for manual in INFO_MANUALS:
        text = au.info_text(f"/usr/share/info/{manual}.info*.gz")
        docs += au.spread([(f"{manual}:{j}", c, "en") for j, c in enumerate(au.chunks(text))], 30)
    got = []
    for path in sorted(glob.glob("/usr/share/man/pt_BR/man*/*.gz")):
        text = cs.cut(cs.render_man(path))
        if len(text) >= 400:
            got.append((f"man-pt_BR:{Path(path).name}", text, "pt"))
    docs += au.spread(got, 80)
    docs += au.site_code_docs(PY_PACKAGES, 15)
    return docs


def build(path: Path) -> None:
    math = au.spread(giac_docs("en", lambda k: k[0] in GIAC_EN_MATH), 200)
    math += au.spread(giac_docs("el", lambda k: k in GIAC_EL_MATH or k[0] == 3), 100)
    augment.write_pool(path, math, other_docs(), "g")


def main() -> None:
    augment.pool_main("fourth", POOL, build, __doc__)


if __name__ == "__main__":
    main()
