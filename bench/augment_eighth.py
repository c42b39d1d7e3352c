"""Math recall on an eighth pool, built (and its truth labels fixed) before any run on it.

Run once, untuned, at ``15b7124`` (2026-12-04): recall 0.712 at precision 0.979; a dev pool
since (bench/RESULTS.md).

Usage (GNOME help from Debian 12 packages, unpacked without installing their GTK
dependencies; ``apt-get download`` needs no root but warns it runs unsandboxed)::

    mkdir -p /tmp/gnome-debs && cd /tmp/gnome-debs
    apt-get download gnome-calculator qalculate-gtk gedit-common eog evince-common \\
        totem-common gnome-terminal-data baobab gnome-system-monitor cheese-common \\
        file-roller seahorse simple-scan gnome-dictionary gnome-clocks gnome-logs
    for f in *.deb; do dpkg -x "$f" /tmp/gnome-unpack; done
    mkdir -p /work/main/bench/data/gnome/qalculate
    cd /tmp/gnome-unpack/usr/share && find help -name '*.page' \\
        -exec cp --parents {} /work/main/bench/data/gnome/ \\;
    cp doc/qalculate-gtk/html/*.html /work/main/bench/data/gnome/qalculate/
    .venv/bin/python bench/augment_eighth.py [--rounds 3] [--rebuild] [--build-only] [--set key=JSON]

(Debian 12 "bookworm": GNOME Calculator 43.0.1, Qalculate! 4.5.1, the other applications'
GNOME 42-44 help.) GNOME help is Mallard XML, one ``.page`` file per topic under
``help/<lang>/<app>/`` (``C`` is the English original); ``mallard_text`` keeps the text
of its blocks (titles, paragraphs, list items, table cells, code) in order and drops the
``info`` header (credits, licence, links).

The recall defaults were tuned on the seven earlier pools (``bench/augment.py``,
``augment_untuned.py``, ``augment_fresh.py``, ``augment_fourth.py`` to
``augment_seventh.py``: LaTeX docstrings of Python packages, the Maxima, GAP, Octave,
PARI/GP, calc, Giac and R manuals, LibreOffice help, KDE handbooks). This pool shares no
source with any of them: its math is GNOME Calculator's help in 26 translations and the
English Qalculate! manual. Five of its languages are ones that neither
``qurate/augment/lexicon.py`` nor ``qurate/augment/prior.py`` covers: Basque, Galician,
Catalan, Slovenian and Latvian. Untranslated pages are left out (``untranslated``: 36
calculator math pages, e.g. 8 of Basque's 15 and 7 of Italian's, and 1,393 of 7,064 other
help pages); Occitan, Bulgarian and Telugu are not used (all 15 of their calculator math
pages are English). At the build of 2026-12-04: 868 documents, 330 math (eu 4, gl 10,
ca 12, sl 6, lv 10, cs 11, da 10, de 12, el 12, es 11, fi 7, fr 13, hu 11, id 11, it 4,
ja 4, ko 6, nl 13, pl 11, pt 10, pt_BR 12, ro 11, ru 12, sv 11, uk 12, zh_CN 3, en 81 of
which 70 Qalculate!), 538 other (18 help pieces per language, 52 Python files); pieces
302-3,999 characters (math mean 541, other 707). Labels come from page names (GNOME) and
section titles (Qalculate!), fixed below before any run:

- **math** (the truth): GNOME Calculator's pages on mathematics (``CALC_MATH``: absolute
  values, number bases and base conversion, Boolean algebra, complex numbers, equations,
  factorials, factorisation, functions, logarithms, modulus division, percentages,
  powers and roots, scientific notation, trigonometry), all of them joined per language
  (sorted by page name) before cutting (the pages are short: 200-1,500 characters);
  Qalculate!'s chapters on expressions and on interval arithmetic and the mathematical
  sections of its function list (``QALC_MATH_SECTIONS``).
- **neither** (left out): GNOME Calculator's pages about the interface and non-math
  conversions (index, keyboard, mouse, history, result format, superscripts, variables,
  financial mode, currency, length, mass, time and character-code conversion);
  Qalculate!'s other chapters (introduction, interface, modes, units, variables,
  plotting, function editing, examples, qalc) and its function sections on data sets,
  dates, economics, bitwise/logical programming, miscellany and utilities.
- **other**: every page but ``index`` of the non-math GNOME applications' help
  (``OTHER_APPS``: gedit, Eye of GNOME, Evince, Totem, Terminal, ...) in the same
  languages (the same Mallard layout: hard negatives), taken evenly through them; Python
  code of non-math packages no other pool reads (``PY_PACKAGES``).

Pieces are cut to at most ``LIMIT`` characters and at least 300 (``augment_seventh.pieces``).
Seeds: the bundled 60 sympy docstrings. The last line is ``ratio=<precision/0.9>``.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import augment  # noqa: E402  (bench/augment.py: the stage writer and the recall runner)
import augment_fourth as a4  # noqa: E402  (html_text)
import augment_seventh as a7  # noqa: E402  (pieces)
import augment_untuned as au  # noqa: E402  (spread, site_code_docs)

POOL = HERE / "data" / "augment" / "eighth-pool.jsonl"
HELP = HERE / "data" / "gnome" / "help"
QALC = HERE / "data" / "gnome" / "qalculate"
# Every translation of GNOME Calculator's help in Debian 12 (and ``C``, English, as "en")
# but Occitan, Bulgarian and Telugu (all their math pages untranslated) and Chinese as in
# Taiwan and Hong Kong (no translated help of the other applications).
LANGS = (
    "eu", "gl", "ca", "sl", "lv", "cs", "da", "de", "el", "es", "fi", "fr", "hu", "id",
    "it", "ja", "ko", "nl", "pl", "pt", "pt_BR", "ro", "ru", "sv", "uk", "zh_CN", "C",
)  # fmt: skip
LIMIT = 600  # characters a piece holds at most (the calculator's math is ~6-9k per language)
OTHER_PER_LANG = 18  # non-math help pieces per language, taken evenly through them
QALC_MATH = 70  # Qalculate! math pieces kept, taken evenly through them
# Fixed from the pages' names and English titles before any run.
CALC_MATH = (
    "absolute", "base", "conv-base", "boolean", "complex", "equation", "factorial",
    "factorize", "functions", "logarithm", "modulus", "percentage", "power", "scientific",
    "trigonometry",
)  # fmt: skip
QALC_MATH_PAGES = ("qalculate-expressions", "qalculate-interval-arithmetic")
QALC_MATH_SECTIONS = (
    "Algebra", "Calculus", "Combinatorics", "Complex Numbers", "Exponents & Logarithms",
    "Geometry", "Matrices & Vectors", "Number Theory", "Special Functions",
    "Step Functions", "Statistics", "Trigonometry", "Intervals & Uncertainties",
)  # fmt: skip
OTHER_APPS = (
    "gedit", "eog", "evince", "totem", "gnome-terminal", "baobab", "gnome-system-monitor",
    "cheese", "file-roller", "seahorse", "simple-scan", "gnome-dictionary", "gnome-clocks",
    "gnome-logs",
)  # fmt: skip
PY_PACKAGES = (
    "dill", "multiprocess", "warcio", "dateutil", "tld", "xdist", "sortedcontainers",
    "msgpack", "pytz", "certifi",
)  # fmt: skip
NS = "{http://projectmallard.org/1.0/}"
SKIP = {"info", "media", "comment", "links"}
INLINE = {
    "app", "cmd", "code", "em", "file", "gui", "guiseq", "hi", "input", "key", "keyseq",
    "link", "output", "span", "sys", "var", "quote", "date", "name", "email",
}  # fmt: skip


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _blocks(el: ET.Element) -> list[str]:
    """Text of the blocks under ``el`` in order: an element whose children are all
    inline is one block; others give their own leading text and their children's."""
    tag = _local(el.tag)
    if tag in SKIP or not isinstance(el.tag, str):
        return []
    if all(_local(c.tag) in INLINE for c in el):
        text = re.sub(r"[ \t\r\n]+", " ", "".join(el.itertext())).strip()
        return [text] if text else []
    out = []
    if el.text and el.text.strip():
        out.append(el.text.strip())
    for c in el:
        out += _blocks(c)
    return out


def mallard_text(path: Path) -> str:
    """Visible text of one Mallard page: its blocks, one paragraph each."""
    root = ET.parse(path).getroot()
    return "\n\n".join(_blocks(root))


def untranslated(text: str, english: str) -> bool:
    """Whether a page is (mostly) its English original: over half of its blocks of more
    than 20 characters appear verbatim in the ``C`` page (Debian ships partial
    translations whose missing strings stay English)."""
    own = [b for b in text.split("\n\n") if len(b) > 20]
    ref = set(english.split("\n\n"))
    return not own or sum(b in ref for b in own) / len(own) > 0.5


def help_pages(lang: str, app: str) -> list[tuple[str, str]]:
    """``(page, text)`` of each translated page of one application's help in ``lang``,
    sorted by page name, ``index`` and untranslated pages (``untranslated``) left out."""
    folder = HELP / lang / app
    if not folder.is_dir():
        return []
    pages = [(p.stem, mallard_text(p)) for p in sorted(folder.glob("*.page")) if p.stem != "index"]
    if lang == "C":
        return pages
    english = HELP / "C" / app
    return [
        (name, text)
        for name, text in pages
        if not untranslated(text, mallard_text(english / f"{name}.page"))
        if (english / f"{name}.page").exists()
    ]


def piece_docs(source: str, texts: list[str], lang: str) -> list[tuple[str, str, str]]:
    """``(source:j, piece, lang)`` of ``texts`` joined and cut by ``augment_seventh.pieces``."""
    return [(f"{source}:{j}", c, lang) for j, c in enumerate(a7.pieces("\n\n".join(texts), LIMIT))]


def code(lang: str) -> str:
    return "en" if lang == "C" else lang


def qalc_math() -> list[tuple[str, str, str]]:
    """Qalculate! manual (English only): its math chapters and the math sections of its
    function list (split at ``sect1``), cut into pieces."""
    docs = []
    for page in QALC_MATH_PAGES:
        raw = (QALC / f"{page}.html").read_text(encoding="utf-8")
        docs += piece_docs(f"qalc-{page}", [a4.html_text(raw)], "en")
    raw = (QALC / "qalculate-definitions-functions.html").read_text(encoding="utf-8")
    for sect in raw.split('<div class="sect1"')[1:]:
        m = re.search(r'<h2 class="title"[^>]*>(.*?)</h2>', sect, re.S)
        title = a4.html_text(m.group(1)) if m else ""
        if title in QALC_MATH_SECTIONS:
            docs += piece_docs(f"qalc-functions-{title}", [a4.html_text(sect)], "en")
    return au.spread(docs, QALC_MATH)


def math_docs() -> list[tuple[str, str, str]]:
    docs = []
    for lang in LANGS:
        pages = [t for name, t in help_pages(lang, "gnome-calculator") if name in CALC_MATH]
        docs += piece_docs(f"gnome-calculator-{code(lang)}", pages, code(lang))
    return docs + qalc_math()


def other_docs() -> list[tuple[str, str, str]]:
    docs = []
    for lang in LANGS:
        got = []
        for app in OTHER_APPS:
            for name, text in help_pages(lang, app):
                got += piece_docs(f"gnome-{app}-{code(lang)}:{name}", [text], code(lang))
        docs += au.spread(got, OTHER_PER_LANG)
    return docs + au.site_code_docs(PY_PACKAGES, 6, max_chars=4000)


def build(path: Path) -> None:
    augment.write_pool(path, math_docs(), other_docs(), "g")


def main() -> None:
    augment.pool_main("eighth", POOL, build, __doc__)


if __name__ == "__main__":
    main()
