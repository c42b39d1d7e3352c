"""Math recall on a seventh pool, built (and its truth labels fixed) before any run on it.

Run once, untuned, at ``2a18afc`` (2026-12-04): recall 0.710 at precision 0.965; a dev pool
since (bench/RESULTS.md).

Usage (KDE application handbooks from Debian 12 packages, unpacked without installing
their Qt/KDE dependencies; ``apt-get download`` needs no root but warns it runs
unsandboxed)::

    mkdir -p /tmp/kde-debs && cd /tmp/kde-debs
    apt-get download kmplot kalgebra kalgebra-common kig kbruch cantor rocs labplot \\
        labplot-data kate kate5-data kwrite konsole dolphin okular kmail ark gwenview \\
        konqueror kfind kcharselect juk kolourpaint kdf sweeper ktouch kwordquiz \\
        kgeography kturtle ktimer kget k3b-data korganizer kaddressbook akregator
    for f in *.deb; do dpkg -x "$f" /tmp/kde-unpack; done
    mkdir -p /work/main/bench/data/kde
    cd /tmp/kde-unpack/usr/share/doc && find HTML -name index.cache.bz2 \\
        -exec cp --parents {} /work/main/bench/data/kde/ \\;
    .venv/bin/python bench/augment_seventh.py [--rounds 3] [--rebuild] [--build-only] [--set key=JSON]

(Debian 12 "bookworm", KDE Gear 22.12.3 and LabPlot 2.9.0: each handbook's
``index.cache.bz2`` holds the rendered HTML of all its pages.)

The recall defaults were tuned on five dev pools: ``bench/augment.py`` (LaTeX docstrings
of six Python packages), ``bench/augment_untuned.py`` (Maxima and GAP manuals),
``bench/augment_fresh.py`` (Octave, PARI/GP, calc), ``bench/augment_fourth.py`` (the
Giac manual in English and Greek) and ``bench/augment_fifth.py`` (LibreOffice Calc help
in Korean, Khmer and Estonian, R manuals); ``bench/augment_sixth.py`` (LibreOffice help
in Dzongkha, Basque, British English) is held out. This pool shares no source with any
of them, and its math is not spreadsheet-function help: it is the KDE handbooks of math
applications in Catalan and Galician (Latin-script languages that neither
``qurate/augment/lexicon.py`` nor ``qurate/augment/prior.py`` covers), in ten covered
languages (Ukrainian, Dutch, Brazilian and European Portuguese, German, Spanish,
Italian, Swedish, French, Russian: every other language with these handbooks in Debian 12
but Estonian, the fifth pool's, and Polish, KmPlot only) and in English. At the build of
2026-12-04: 880 documents, 345 math (ca 28, gl 10, uk 28, nl 29, pt_BR 27, de 28, es 28,
it 27, sv 24, pt 25, fr 19, ru 25, en 47 of which 23 LabPlot), 535 other (36 per
language, Galician's 36 being all its non-math pieces, and 67 Python files); one
Galician math piece and 13 Galician other pieces (Okular's handbook) are untranslated
English. Labels come from the handbooks' page names, fixed below before any run
(``MATH``):

- **math** (the truth): KmPlot's chapters on function types and combining functions and
  its reference (predefined functions, extensions, mathematical syntax); KAlgebra's
  syntax chapter and its dictionary of commands (one page per operator or function,
  pages of a chapter joined before cutting); KBruch's exercises chapter (fractions,
  mixed numbers, factorisation, percentages); Kig's object types and loci; LabPlot's
  analysis functions and parser functions (English only: LabPlot's handbook has no
  translation). A page is math when its name is listed for its application.
- **neither** (left out): every other page of those handbooks (introductions, the
  interface, menus, configuration dialogs, scripting, credits, licence, installation),
  and whole handbooks that describe a tool around mathematics rather than mathematics:
  Cantor (a front-end to other algebra systems), Rocs (a graph-theory IDE), KTurtle (a
  programming language for children). Kalzium (chemistry) and Step (physics) are not
  used.
- **other**: every page but the contents page of the non-math handbooks (``OTHER_APPS``:
  Kate, Konsole, Dolphin, Okular, KMail, Ark, Gwenview, ...) in the same languages (the
  same DocBook layout: hard negatives); Python code of non-math packages no other pool
  reads (``PY_PACKAGES``).

Pages are joined per chapter (a page's chapter is the page its ``up`` links lead to below
the contents page), cut into pieces of up to 1,500 characters and at least 300
(``augment_untuned.chunks``). Seeds: the bundled 60 sympy docstrings. The last line is
``ratio=<precision/0.9>``.
"""

from __future__ import annotations

import bz2
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import augment  # noqa: E402  (bench/augment.py: the stage writer and the recall runner)
import augment_fourth as a4  # noqa: E402  (html_text)
import augment_untuned as au  # noqa: E402  (chunks, spread, site_code_docs)

POOL = HERE / "data" / "augment" / "seventh-pool.jsonl"
KDE = HERE / "data" / "kde" / "HTML"
# Every language with KDE's math handbooks in Debian 12 except Estonian (the fifth pool's)
# and Polish (KmPlot only); Galician has KmPlot among them.
LANGS = ("ca", "gl", "uk", "nl", "pt_BR", "de", "es", "it", "sv", "pt", "fr", "ru", "en")
LIMIT = 1500  # characters a piece holds at most (2,500 gave 223 math pieces, too few)
OTHER_PER_LANG = 36  # non-math handbook pieces per language, taken evenly through them
# Fixed from the handbooks' page names and English titles before any run.
KALGEBRA_COMMANDS = (
    "commands", "times", "minus", "divide", "quotient", "power", "root", "factorial",
    "and", "or", "xor", "not", "gcd", "lcm", "rem", "factorof", "max", "min", "lt", "gt",
    "eq", "neq", "leq", "geq", "implies", "approx", "abs", "floor", "ceiling", "sin", "cos",
    "tan", "sec", "csc", "cot", "sinh", "cosh", "tanh", "sech", "csch", "coth", "arcsin",
    "arccos", "arctan", "arccot", "arccosh", "arccsc", "arccsch", "arcsec", "arcsech",
    "arcsinh", "arctanh", "exp", "ln", "log", "conjugate", "arg", "real", "imaginary",
    "sum", "product", "diff", "card", "scalarproduct", "selector", "union", "forall",
    "exists", "map", "filter", "transpose",
)  # fmt: skip
MATH = {
    "kmplot": (
        "using-kmplot", "combining-functions", "reference", "func-predefined",
        "func-extension", "math-syntax",
    ),
    "kalgebra": ("syntax", *KALGEBRA_COMMANDS),
    "kbruch": (
        "exercises", "exer_compare", "exer_convert", "exer_mixed", "exer_factorize",
        "exer_percentage",
    ),
    "kig": ("kig-object-types", "loci"),
    "labplot2": (
        "analysis", "data_reduction", "differentiation", "integration", "interpolation",
        "smoothing", "fitting", "filter", "dft", "parser", "parser-trig", "parser-gsl",
        "parser-ran-gsl", "parser-const", "parser-const-gsl",
    ),
}  # fmt: skip
OTHER_APPS = (
    "kate", "katepart", "kwrite", "konsole", "dolphin", "okular", "kmail2", "ark",
    "gwenview", "konqueror", "kfind", "kcharselect", "juk", "kolourpaint", "kdf", "sweeper",
    "kwordquiz", "ktimer", "kget", "korganizer", "kaddressbook", "akregator",
)  # fmt: skip
PY_PACKAGES = (
    "wasabi", "srsly", "catalogue", "confection", "weasel", "execnet", "iniconfig",
    "cloudpickle", "wrapt", "truststore", "referencing", "mdurl", "psutil",
)  # fmt: skip


def kde_pages(lang: str, app: str) -> list[tuple[str, str, str]]:
    """``(page, chapter, text)`` of each page of one KDE handbook in ``lang``, in the
    handbook's order: the page's name without ``.html``, the name of the chapter page
    its ``up`` links lead to (itself for a chapter), and its visible text (the body
    between the navigation header and the footer)."""
    path = KDE / lang / app / "index.cache.bz2"
    if not path.exists():
        return []
    raw = bz2.open(path, "rt", encoding="utf-8", errors="replace").read()
    pages, up = [], {}
    for m in re.finditer(r'<FILENAME filename="([^"]+)\.html">(.*?)(?=<FILENAME |\Z)', raw, re.S):
        name, page = m.groups()
        link = re.search(r'<link rel="up" href="([^"#]+)\.html', page)
        up[name] = link.group(1) if link else "index"
        body = page.split('<div id="contentBody">', 1)[-1].split('<div id="footer">', 1)[0]
        pages.append((name, a4.html_text(body)))

    def chapter(name: str) -> str:
        seen = set()
        while up.get(name, "index") != "index" and name not in seen:
            seen.add(name)
            name = up[name]
        return name

    return [(name, chapter(name), text) for name, text in pages if name != "index"]


def pieces(text: str, limit: int = LIMIT) -> list[str]:
    """``au.chunks`` pieces (up to ``limit`` characters, at least 300), a piece that
    ``au.chunks`` let grow past 4,000 characters (a paragraph joined to a long one) cut
    again at the line breaks nearest below ``limit`` (the eighth and ninth pools' builders
    call it too)."""
    out = []
    for c in au.chunks(text, limit=limit, floor=300):
        while len(c) > 4000:
            head = c[:limit].rsplit("\n", 1)[0] if "\n" in c[:limit] else c[:limit]
            out.append(head)
            c = c[len(head) :].lstrip()
        if len(c) >= 300:
            out.append(c)
    return out


def kde_docs(lang: str, app: str, keep) -> list[tuple[str, str, str]]:
    """``(source, text, lang)`` pieces of the pages of ``app``'s handbook for which
    ``keep(page)`` holds: kept pages joined per chapter, cut by ``pieces``."""
    by_chapter: dict[str, list[str]] = {}
    for name, chap, text in kde_pages(lang, app):
        if keep(name):
            by_chapter.setdefault(chap, []).append(text)
    docs = []
    for chap, texts in by_chapter.items():
        for j, c in enumerate(pieces("\n\n".join(texts))):
            docs.append((f"kde-{app}-{lang}:{chap}:{j}", c, lang))
    return docs


def math_docs() -> list[tuple[str, str, str]]:
    docs = []
    for lang in LANGS:
        for app, pages in MATH.items():
            docs += kde_docs(lang, app, lambda name, pages=pages: name in pages)
    return docs


def other_docs() -> list[tuple[str, str, str]]:
    docs = []
    for lang in LANGS:
        got = [d for app in OTHER_APPS for d in kde_docs(lang, app, lambda name: True)]
        docs += au.spread(got, OTHER_PER_LANG)
    return docs + au.site_code_docs(PY_PACKAGES, 6, max_chars=4000)


def build(path: Path) -> None:
    augment.write_pool(path, math_docs(), other_docs(), "v")


def main() -> None:
    augment.pool_main("seventh", POOL, build, __doc__)


if __name__ == "__main__":
    main()
