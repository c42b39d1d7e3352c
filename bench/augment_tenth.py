"""Math recall on a tenth pool, built (and its truth labels fixed) before any run on it.

Run once untuned on 2026-12-04 at ``da7acf7`` (22:09 UTC; nothing
had scored the pool before): recall 0.926, precision 0.682 (seed 0). Tuned on from then
(bench/RESULTS.md).

Usage (Scilab's help, the Axiom book and Japanese and Chinese man pages from Debian 12
packages, unpacked without installing; ``apt-get download`` needs no root but warns it
runs unsandboxed)::

    mkdir -p /tmp/p10-debs && cd /tmp/p10-debs
    apt-get download scilab-doc scilab-doc-fr scilab-doc-ja scilab-doc-pt-br axiom-doc \\
        manpages-ja manpages-zh
    for f in *.deb; do dpkg -x "$f" /tmp/p10-unpack; done
    D=/work/main/bench/data/tenth; mkdir -p $D/scilab $D/axiom $D/man/ja $D/man/zh_CN
    cd /tmp/p10-unpack/usr/share
    cp scilab/modules/helptools/jar/scilab_*_help.jar $D/scilab/
    cp doc/axiom-doc/axbook/book-contents.xhtml doc/axiom-doc/axbook/section-*.xhtml $D/axiom/
    for l in ja zh_CN; do for s in 1 5 8; do cp -a man/$l/man$s $D/man/$l/; done; done
    .venv/bin/python bench/augment_tenth.py [--rounds 3] [--rebuild] [--build-only] [--set key=JSON]

(Debian 12 "bookworm": scilab-doc* 6.1.1+dfsg2-6, axiom-doc 20170501-12, manpages-ja
0.5.0.0.20221215+dfsg-1, manpages-zh 1.6.4.0-1; installed: libpython3.11-stdlib
3.11.2-6+deb12u9 and bible-kjv 4.38, read in place.) The build takes ~3 minutes (the man
pages are rendered by ``man``). fricas-doc 1.3.8-6 was unpacked and not used: its
``spadhelp`` files are the text of the Axiom book's chapter 9, read here from the book;
yacas-doc 1.3.6-2.1 ships its manuals as PDF only (no ``pdftotext`` here).

The recall defaults were tuned on the nine earlier pools (``bench/augment.py``,
``augment_untuned.py``, ``augment_fresh.py``, ``augment_fourth.py`` to
``augment_ninth.py``: docstrings of sympy, numpy, torch, networkx ..., the Maxima, GAP,
Octave, PARI/GP, calc, Giac and R manuals, LibreOffice help, KDE handbooks, GNOME
Calculator, Qalculate!, libm man pages, gnuplot, MPFR). This pool's math shares no source
with any of them: it is Scilab's help (one page per function) in English, French,
Japanese and Brazilian Portuguese, and the Axiom book (Jenks and Sutor, "Axiom: the
Scientific Computation System", one document per section), a computer-algebra manual
like the issue's seeds. Its negatives are Scilab's other help pages in the same four
languages (the same page layout: hard negatives), the Axiom book's other sections, and,
like issue 15's pool, Japanese and Chinese man pages (sections 1, 5, 8), non-math Python
standard-library code and literature. The man pages and the Python files that the first
and untuned pools hold (``corpus_sources.man_docs`` / ``code_docs``, 60 page names per
language) are left out; the literature is King James Version chapters of books that no
corpus reads (``KJV_BOOKS``; the first and untuned pools read other books of the same
Bible, so the genre is not new to the recall defaults: no other offline literature was
found that no pool used).

Documents are WHOLE pages (a help page, a man page, a book section, a source file, a
chapter); a page over ``WHOLE`` characters is cut by ``augment_seventh.pieces`` (up to
``PIECE``) and documents under ``FLOOR`` characters are dropped.

At the build of 2026-12-04: 940 documents, 352 math (37%): Scilab 262 (en 62; fr 63,
ja 68 and pt 69, of which 6, 8 and 8 are pages still in English) and the Axiom book 90;
588 other: Scilab 298 (en 71; fr 79, ja 75 and pt 73, of which 10, 6 and 6 in English),
the Axiom book 80, Japanese man pages 60 (2 of them pieces of bash's ``builtins`` page,
in English), Chinese man pages 60, Python files 50, Bible chapters 40. By language
(math/other): en 174/215, fr 57/69, ja 60/127, pt 61/67, zh 0/60, code 0/50. 670
documents are whole pages; 270 are pieces of the 160 pages over 6,000 characters that
they come from (math: 63 pieces of 27 Axiom sections, 36 of 12 Scilab pages; other: 22
of 12 Axiom sections, 28 of 8 Scilab pages, 62 of 58 man pages, 47 of 31 Python files,
12 of 12 Bible chapters). Lengths 301-5,891 characters (math mean 2,057, other 2,288).
The translations are partial: of the pages of 300 characters or more that the English
TOC labels, the French jar has 173 of 342 math pages and 951 of 1,202 other pages still
in English, the Portuguese 145 of 343 and 860 of 1,202, the Japanese 74 of 303 and 381 of
1,155 (``script_lang``); each translated jar gives ``SCILAB_UNTRANSLATED`` of them per
label.

Labels come from the help's and the book's tables of contents and from page names, fixed
below before any run:

- **math** (the truth): Scilab pages whose chapter in the English table of contents is
  one of ``SCILAB_RULES``' math entries (differential calculus and integration, linear
  algebra, interpolation, polynomials, special functions, statistics, optimization and
  simulation; in elementary functions: trigonometry, logarithms/exponentials/powers,
  discrete mathematics, complex numbers, matrix operations); the Axiom book's chapter 8
  (Advanced Problem Solving), its overview sections on numbers, polynomials, limits,
  series, derivatives, integration, differential equations and equation solving
  (``AXIOM_MATH_SECTIONS``), and chapter 9's sections on mathematical domains
  (``AXIOM_MATH_DOMAINS``: polynomials, fractions, matrices, quaternions, Lie algebras,
  triangular sets ...).
- **neither** (left out): Scilab's borderline numeric chapters (signal processing, FFTW,
  control systems/CACSD, sparse matrices and UMFPACK, the rest of elementary functions:
  bitwise, floating point, integers, radix conversion, search and sort, set operations,
  matrix generation and random numbers, matrix shaping), the optimisation toolboxes'
  object plumbing (``Optimization base``, ``Simplex``), keywords, constants and types,
  the Matlab-to-Scilab tables, the release notes, Xcos's numeric block palettes and
  solvers; the Axiom book's introductions, types and modes, output formats, graphics,
  package/category/domain programming (11-13), the lists of constructors (17-19), the
  image programs (21), recurrences and pattern rules, and chapter 9's numeric or
  ambiguous domains (floats, machine integers, segments, streams, sets, operators).
- **other**: every other Scilab page (files and I/O, strings, GUI, graphics, Xcos,
  console, history, ATOMS and modules, Java/Tcl/C interfaces, time and date, data
  structures, XML, HDF5, spreadsheets, localisation, testing, web tools ...); the Axiom
  book's sections on starting up, the language, data structures, system commands,
  HyperDoc, Browse and input files and chapter 9's data-structure and file domains
  (``AXIOM_OTHER_SECTIONS``, ``AXIOM_OTHER_CHAPTERS``, ``AXIOM_OTHER_DOMAINS``); the man
  pages, the Python files and the Bible chapters.

A Scilab page's language is that of its text (``script_lang``), not of its jar: the
translations are partial, and a page still in English is "en". Pages are taken evenly
through each table of contents (``augment_untuned.spread``). Seeds: the bundled 60 sympy
docstrings. The last line is ``ratio=<precision/0.9>``.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import augment  # noqa: E402  (bench/augment.py: the stage writer and the recall runner)
import augment_ninth as a9  # noqa: E402  (render)
import augment_seventh as a7  # noqa: E402  (pieces)
import augment_untuned as au  # noqa: E402  (spread)

POOL = HERE / "data" / "augment" / "tenth-pool.jsonl"
DATA = HERE / "data" / "tenth"
WHOLE = 6000  # a document longer than this is cut (``a7.pieces(text, PIECE)``)
PIECE = 4000
FLOOR = 300  # shorter documents are dropped
# Scilab help jars: the pool's 2-letter code -> the jar's locale
SCILAB_LANGS = {"en": "en_US", "fr": "fr_FR", "ja": "ja_JP", "pt": "pt_BR"}
SCILAB_MATH_PER_LANG = 55  # math documents per jar at most, taken evenly through them
SCILAB_OTHER_PER_LANG = 65  # other documents per jar, taken evenly through them
SCILAB_UNTRANSLATED = 6  # pages of a translated jar still in English, per label
# Fixed from the English table of contents (chapter and section titles) before any run.
# A page takes the label of the longest of these title paths that begins its own path
# in the English TOC (a page missing there is left out); a path matching none is "other".
SCILAB_RULES: dict[tuple[str, ...], str] = {
    ("Differential calculus, Integration",): "math",
    ("Linear Algebra",): "math",
    ("Interpolation",): "math",
    ("Polynomials",): "math",
    ("Special Functions",): "math",
    ("Statistics",): "math",
    ("Optimization and Simulation",): "math",
    ("Elementary Functions", "Trigonometry"): "math",
    ("Elementary Functions", "Log - exp - power"): "math",
    ("Elementary Functions", "Discrete mathematics"): "math",
    ("Elementary Functions", "Complex numbers"): "math",
    ("Elementary Functions", "Matrix operations"): "math",
    # borderline numeric: bitwise, floating point, integers, radix conversion, search and
    # sort, set operations, matrix generation (random numbers) and shaping, and the
    # chapter's loose pages (extraction, insertion, size, modulo, ...)
    ("Elementary Functions",): "neither",
    ("Signal Processing",): "neither",
    ("FFTW",): "neither",
    ("Control Systems - CACSD",): "neither",
    ("Sparse Matrix",): "neither",
    ("UMFPACK Interface (sparse)",): "neither",
    # the optimisation toolboxes' object plumbing (configure/get/set/destroy pages)
    ("Optimization and Simulation", "Optimization base"): "neither",
    ("Optimization and Simulation", "Simplex"): "neither",
    # operators, constants (%pi, %e, %eps) and types (rationals, polynomials)
    ("Scilab", "Scilab keywords"): "neither",
    ("Scilab", "types"): "neither",
    ("Scilab", "Variables", "Constants"): "neither",
    # a table of every Matlab function's equivalent, and the release notes
    ("Code Matlab => Scilab",): "neither",
    ("Scilab Home",): "neither",
    # Xcos blocks that compute mathematical or numeric functions, and its ODE solvers
    ("Xcos", "Solvers"): "neither",
}  # fmt: skip
for _palette in (
    "Continuous time systems", "Discrete time systems", "Math operations",
    "Matrix operation", "Integer", "Signal processing", "Lookup tables", "Discontinuities",
    "Zero crossing detection",
):  # fmt: skip
    SCILAB_RULES[("Xcos", "palettes", f"{_palette} palette")] = "neither"
AXIOM_MATH = 90  # Axiom book documents of each label, taken evenly through the book
AXIOM_OTHER = 80
# The Axiom book (Jenks and Sutor): sections by number, fixed from their titles.
AXIOM_MATH_SECTIONS = (
    "0.3", "0.4", "1.4", "1.6", "1.8", "1.9", "1.10", "1.11", "1.12", "1.13", "1.14",
    "10.10",
)  # fmt: skip
AXIOM_MATH_CHAPTERS = ("8",)  # Advanced Problem Solving
# chapter 9 (one section per domain or package): the mathematical ones
AXIOM_MATH_DOMAINS = (
    "BinaryExpansion", "CardinalNumber", "CartesianTensor", "CliffordAlgebra", "Complex",
    "ContinuedFraction", "CycleIndicators", "DeRhamComplex", "DecimalExpansion",
    "DistributedMultivariatePolynomial", "Equation", "Expression", "Factored",
    "FactoredFunctions2", "Fraction", "FullPartialFractionExpansion",
    "GroebnerFactorizationPackage", "HexadecimalExpansion", "Integer",
    "IntegerLinearDependence", "IntegerNumberTheoryFunctions", "LexTriangularPackage",
    "LazardSetSolvingPackage", "LieExponentials", "LiePolynomial",
    "LinearOrdinaryDifferentialOperator", "LinearOrdinaryDifferentialOperator1",
    "LinearOrdinaryDifferentialOperator2", "LyndonWord", "Magma", "Matrix",
    "MultivariatePolynomial", "Octonion", "OrderlyDifferentialPolynomial", "PartialFraction",
    "Permanent", "Polynomial", "Quaternion", "RadixExpansion", "RealClosure",
    "RegularTriangularSet", "SquareMatrix", "SquareFreeRegularTriangularSet",
    "UnivariatePolynomial", "Vector", "WuWenTsunTriangularSet", "XPBWPolynomial",
    "XPolynomial", "XPolynomialRing", "ZeroDimensionalSolvePackage",
)  # fmt: skip
# chapter 9's data structures, files and strings
AXIOM_OTHER_DOMAINS = (
    "AssociationList", "BalancedBinaryTree", "BinarySearchTree", "Character",
    "CharacterClass", "EqTable", "Exit", "File", "FileName", "FlexibleArray",
    "GeneralSparseTable", "Heap", "KeyedAccessFile", "Library", "List", "MultiSet", "None",
    "OneDimensionalArray", "SparseTable", "String", "StringTable", "Symbol", "Table",
    "TextFile", "TwoDimensionalArray", "Void",
)  # fmt: skip
# starting up, conventions, the language, data structures, system commands, HyperDoc,
# input files, loops and blocks, functions and macros as programming, Browse, what's new
AXIOM_OTHER_SECTIONS = (
    "0.5", "0.6", "0.7", "1.1", "1.2", "1.3", "1.5", "1.15", "4.1", "4.2", "5.0", "5.1",
    "5.2", "5.3", "5.4", "5.5", "6.0", "6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.7", "6.8",
    "6.9", "6.10", "6.14", "6.15", "6.16", "6.17", "6.18", "6.20", "13.13", "15.0", "15.1",
    "15.2", "15.4", "15.5", "15.6", "15.7",
)  # fmt: skip
AXIOM_OTHER_CHAPTERS = ("3", "14", "16")  # HyperDoc, Browse, system commands
# Everything else in the book is "neither": the introductions (0.1, 0.2, 1.0), types and
# modes (2), output formats (4.3-4.7), streams of primes (5.6), recurrences, piece-wise
# functions, Pascal's triangle and rules (6.11-6.13, 6.19, 6.21), graphics (1.16, 7,
# 10.0-10.9), writing packages, categories and domains (11-13 but 13.13), the NAG link
# (15.3), the lists of all categories, domains and packages (17-19), the image programs
# (21), chapter 9's other sections (floats, machine integers, segments, streams, sets,
# operators, kernels, Roman numerals, mappings).
MAN_SECTIONS = ("1", "5", "8")
MAN_LANGS = {"ja": "ja", "zh_CN": "zh"}
MAN_DOCS = 60  # documents per language, taken evenly through sections 1, 5 and 8 by name
# the sections that the translation projects append (credits, project links): the page
# ends before them, as ``augment_ninth.TRANSLATION_HEADS`` ends manpages-l10n's
TRANSLATION_HEADS = ("跋", "[中文版", "《中国", "译者", "この文書について")
# Python standard-library code without mathematics (mail, HTTP, JSON, logging, archives,
# files, text and command-line handling)
PY_STDLIB = (
    "email", "http", "json", "logging", "urllib", "wsgiref", "html", "xml/etree",
    "tarfile.py", "zipfile.py", "shutil.py", "argparse.py", "csv.py", "configparser.py",
    "mailbox.py", "smtplib.py", "ftplib.py", "gettext.py", "tempfile.py", "glob.py",
    "shlex.py", "textwrap.py", "getpass.py", "netrc.py", "mimetypes.py", "webbrowser.py",
)  # fmt: skip
PY_DOCS = 50
STDLIB = Path("/usr/lib/python3.11")
# King James Version books that no other pool reads (``corpus_sources.KJV_BOOKS`` are
# the first, untuned and evaluation corpora's): narrative, prophecy and letters
KJV_BOOKS = {"Jos": 24, "Jg": 21, "1Ki": 22, "2Ki": 25, "Ne": 13, "Es": 10, "Jer": 52}
KJV_BOOKS |= {"Heb": 13, "Re": 22}
KJV_DOCS = 40
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana and kanji
HAN = re.compile(r"[\u4e00-\u9fff]")


class _Text(HTMLParser):
    """Visible text of an HTML/XHTML page: block elements end a line; MathML fractions,
    powers, indices and roots written out (``(a)/(b)``, ``x^(2)``, ``sqrt(x)``) instead of
    their digits run together; a LaTeX image replaced by its ``alt`` text (Scilab writes
    its formulas so); scripts, styles and form inputs dropped."""

    BLOCK = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "pre"}
    BLOCK |= {"table", "dt", "dd", "dl", "ul", "ol", "hr", "blockquote"}
    LAYOUT = {"mfrac": ("(", ")/(", ")"), "msup": ("", "^(", ")"), "msub": ("", "_(", ")")}
    LAYOUT |= {"msubsup": ("", "_(", ")^(", ")"), "mroot": ("root(", ", ", ")")}
    LAYOUT |= {"munderover": ("", "_(", ")^(", ")"), "munder": ("", "_(", ")")}
    LAYOUT |= {"mover": ("", "^(", ")")}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[list] = []  # [tag, children started]
        self.skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if self.stack and self.stack[-1][0] in self.LAYOUT:
            parent = self.stack[-1]
            marks = self.LAYOUT[parent[0]]
            if 0 < parent[1] < len(marks) - 1:
                self.out.append(marks[parent[1]])
            parent[1] += 1
        self.stack.append([tag, 0])
        if tag in ("script", "style", "head", "title"):
            self.skip += 1
        elif tag in self.LAYOUT:
            self.out.append(self.LAYOUT[tag][0])
        elif tag == "msqrt":
            self.out.append("sqrt(")
        elif tag == "img":
            a = dict(attrs)
            if "_LaTeX_" in (a.get("src") or "") and a.get("alt"):
                self.out.append(f" {a['alt']} ")
        elif tag in self.BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if all(t != tag for t, _ in self.stack):
            return  # a stray end tag
        while self.stack:
            top = self.stack.pop()[0]
            if top in ("script", "style", "head", "title"):
                self.skip -= 1
            elif top in self.LAYOUT:
                self.out.append(self.LAYOUT[top][-1])
            elif top == "msqrt":
                self.out.append(")")
            elif top in self.BLOCK:
                self.out.append("\n")
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data)


def html_text(raw: str) -> str:
    """Visible text of ``raw`` (``_Text``), runs of spaces and of blank lines collapsed."""
    p = _Text()
    p.feed(raw)
    p.close()
    text = re.sub(r"[ \t\xa0]+", " ", "".join(p.out))
    return re.sub(r"\n\s*\n+", "\n\n", re.sub(r" *\n *", "\n", text)).strip()


def script_lang(text: str, lang: str) -> str:
    """``lang`` unless the page is mostly English (an untranslated or half-translated
    page): "en" when its English function words (``ENGLISH``) outnumber its Japanese
    characters (kana and kanji, for "ja"), its Han characters (for "zh") or, for "fr" and
    "pt", twice its own language's function words (``OWN``). Only words and characters
    are counted, so code examples, the same in every translation, weigh little."""
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    en = sum(w in ENGLISH for w in words)
    if lang in ("ja", "zh"):
        own = len((JAPANESE if lang == "ja" else HAN).findall(text))
        return lang if own >= en else "en"
    if lang in ("fr", "pt"):
        return "en" if en > 2 * sum(w in OWN[lang] for w in words) else lang
    return lang


ENGLISH = set("the of and is are to in with for this that be by which an it from".split())
OWN = {
    "fr": set("le la les des du est sont et un une dans pour avec que qui par sur".split()),
    "pt": set("o os as da do das dos é são e um uma em para com que por".split()),
}


def whole(source: str, text: str, lang: str) -> list[tuple[str, str, str]]:
    """One page as one document, or, over ``WHOLE`` characters, its ``a7.pieces`` (up to
    ``PIECE``); under ``FLOOR`` characters, none."""
    if len(text) < FLOOR:
        return []
    if len(text) <= WHOLE:
        return [(source, text, lang)]
    return [(f"{source}#{j}", c, lang) for j, c in enumerate(a7.pieces(text, PIECE))]


def scilab_toc() -> dict[str, tuple[str, ...]]:
    """Each page of the English Scilab help (its TOC target, which names the same page
    in every translation) -> the titles of the chapters and sections above it."""
    with zipfile.ZipFile(DATA / "scilab" / "scilab_en_US_help.jar") as z:
        root = ET.fromstring(z.read("scilab_en_US_help/jhelptoc.xml"))
    paths: dict[str, tuple[str, ...]] = {}

    def walk(el: ET.Element, path: tuple[str, ...]) -> None:
        for item in el.findall("tocitem"):
            if item.findall("tocitem"):
                walk(item, (*path, item.get("text", "")))
            else:
                paths[item.get("target", "")] = (*path, item.get("text", ""))[:-1] or (
                    item.get("text", ""),
                )

    walk(root.find("tocitem"), ())
    return paths


def scilab_label(path: tuple[str, ...]) -> str:
    """The label of the longest ``SCILAB_RULES`` prefix of ``path``; "other" if none."""
    for n in range(len(path), 0, -1):
        if path[:n] in SCILAB_RULES:
            return SCILAB_RULES[path[:n]]
    return "other"


def scilab_pages(lang: str) -> list[tuple[str, str, str]]:
    """``(target, label, text)`` of each page of one Scilab help jar that the English TOC
    places, in the TOC's order: the text between the breadcrumb line and the closing
    navigation bar (so no "Report an issue" link, no previous/next titles)."""
    loc = SCILAB_LANGS[lang]
    toc = scilab_toc()
    out = []
    with zipfile.ZipFile(DATA / "scilab" / f"scilab_{loc}_help.jar") as z:
        jmap = ET.fromstring(z.read(f"scilab_{loc}_help/jhelpmap.jhm"))
        urls = {m.get("target"): m.get("url") for m in jmap.iter("mapID")}
        for target, path in toc.items():
            url = urls.get(target)
            if not url or target.startswith("section_"):
                continue
            raw = z.read(f"scilab_{loc}_help/{url}").decode("utf-8", "replace")
            start = raw.find('<span class="path"')
            start = raw.find("</span>", raw.find("&gt;", start)) if start >= 0 else 0
            body = raw[max(start, 0) : raw.rfind('<div class="manualnavbar">')]
            out.append((target, scilab_label(path), html_text(body)))
    return out


def scilab_docs(label: str, k: int) -> list[tuple[str, str, str]]:
    """Documents of ``label`` from each jar, pages taken evenly through the TOC: ``k``
    pages of the English jar; ``k`` pages of each translated jar written in its language
    (``script_lang``) and ``SCILAB_UNTRANSLATED`` of its pages still in English, these
    with lang "en" and never a page that an earlier jar gave in English (the same text)."""
    docs, english = [], set()
    for lang in SCILAB_LANGS:
        own, untranslated = [], []
        for target, lab, text in scilab_pages(lang):
            if lab != label or len(text) < FLOOR:
                continue
            real = script_lang(text, lang)
            if real == lang:
                own.append((target, text, real))
            elif target not in english:
                untranslated.append((target, text, real))
        picked = au.spread(own, k) + au.spread(untranslated, SCILAB_UNTRANSLATED)
        english |= {t for t, _, real in picked if real == "en"}
        for target, text, real in picked:
            docs += whole(f"scilab-{lang}:{target}", text, real)
    return docs


def axiom_sections() -> list[tuple[str, str, str]]:
    """``(number, title, text)`` of each section of the Axiom book, in the book's order:
    the text of its ``section`` block (no navigation links, no index terms: the book
    repeats each indexed word in a hidden span)."""
    toc = (DATA / "axiom" / "book-contents.xhtml").read_text(encoding="utf-8")
    out = []
    for file, title in re.findall(r'href="(section-[\d.]+\.xhtml)">([^<]*)</a>', toc):
        raw = (DATA / "axiom" / file).read_text(encoding="utf-8", errors="replace")
        start = raw.find('<div class="section"')
        body = raw[start : raw.rfind('<a href="book-contents.xhtml"')]
        body = re.sub(r'<span class="index">[^<]*</span>', "", body)  # index terms
        number, _, name = title.partition(" ")
        out.append((number, name.strip(), html_text(body)))
    return out


def axiom_label(number: str, name: str) -> str:
    chapter = number.split(".")[0]
    if number in AXIOM_MATH_SECTIONS or chapter in AXIOM_MATH_CHAPTERS:
        return "math"
    if chapter == "9":
        return {**dict.fromkeys(AXIOM_MATH_DOMAINS, "math"), **dict.fromkeys(
            AXIOM_OTHER_DOMAINS, "other")}.get(name, "neither")  # fmt: skip
    if number in AXIOM_OTHER_SECTIONS or chapter in AXIOM_OTHER_CHAPTERS:
        return "other"
    return "neither"


def axiom_docs(label: str, k: int) -> list[tuple[str, str, str]]:
    """``k`` documents of ``label`` (``axiom_label``) taken evenly through the book."""
    docs = []
    for number, name, text in axiom_sections():
        if axiom_label(number, name) == label:
            docs += whole(f"axiom-book:{number}", text, "en")
    return au.spread(docs, k)


def earlier_man_pages(lang: str) -> set[str]:
    """Names of the ``lang`` man pages that the first and the untuned pools hold (30 of
    each side of ``corpus_sources.split_of``): left out here."""
    import corpus_sources as cs

    return {
        d.source.split(":", 1)[1].rsplit(".", 1)[0]
        for split in ("eval", "sample")
        for d in cs.man_docs(lang, split, 30)
    }


def man_docs() -> list[tuple[str, str, str]]:
    docs = []
    for mandir, lang in MAN_LANGS.items():
        skip = earlier_man_pages(lang)
        pages = []
        for sec in MAN_SECTIONS:
            for path in sorted((DATA / "man" / mandir / f"man{sec}").glob("*.gz")):
                name = path.name[: -len(".gz")]
                if not path.is_symlink() and name.rsplit(".", 1)[0] not in skip:
                    pages.append((name, path))
        got = []
        for name, path in pages:
            text = a9.render(path, TRANSLATION_HEADS)
            got += whole(f"man-{lang}:{name}", text, script_lang(text, lang))
        docs += au.spread(got, MAN_DOCS)
    return docs


def stdlib_docs(
    names: tuple[str, ...] = PY_STDLIB, k: int = PY_DOCS, skip_tests: bool = False
) -> list[tuple[str, str, str]]:
    """Python standard-library files of ``names`` (none that an earlier pool or the code
    seeds read; with ``skip_tests``, none under a ``test`` folder), whole or cut, ``k``
    documents taken evenly through them."""
    import corpus_sources as cs

    seen = {d.source for split in ("eval", "sample") for d in cs.code_docs(split, 40)}
    files = []
    for name in names:
        root = STDLIB / name
        files += sorted(root.rglob("*.py")) if root.is_dir() else [root]
    docs = []
    for f in files:
        rel = str(f.relative_to(STDLIB))
        if f"libpython3.11-stdlib:{rel}" not in seen and not (skip_tests and "/test" in f"/{rel}"):
            docs += whole(f"py-stdlib:{rel}", f.read_text(encoding="utf-8"), "code")
    return au.spread(docs, k)


def kjv_docs(books: dict[str, int] = KJV_BOOKS, k: int = KJV_DOCS) -> list[tuple[str, str, str]]:
    """``k`` documents (chapters, a long one cut) of the King James Version taken evenly
    through ``books`` (book -> chapters; the ``bible`` reader of bible-kjv)."""
    import corpus_sources as cs

    docs = []
    for book, n in books.items():
        for ch in range(1, n + 1):
            docs += whole(f"kjv:{book}{ch}", cs.kjv_chapter(book, ch), "en")
    return au.spread(docs, k)


def math_docs() -> list[tuple[str, str, str]]:
    return scilab_docs("math", SCILAB_MATH_PER_LANG) + axiom_docs("math", AXIOM_MATH)


def other_docs() -> list[tuple[str, str, str]]:
    docs = scilab_docs("other", SCILAB_OTHER_PER_LANG) + axiom_docs("other", AXIOM_OTHER)
    return docs + man_docs() + stdlib_docs() + kjv_docs()


def build(path: Path) -> None:
    augment.write_pool(path, math_docs(), other_docs(), "t")


def main() -> None:
    augment.pool_main("tenth", POOL, build, __doc__)


if __name__ == "__main__":
    main()
