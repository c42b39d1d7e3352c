"""Math recall on an eleventh pool, built (and its truth labels fixed) before any run on it.

Built on 2026-12-05 (00:15 UTC) and run once untuned at ``8168020``, seed 0: recall 0.790,
precision 0.771 (bench/RESULTS.md); tuned on since. Its truth labels come from the rules
below, written before the build and not changed after the run.

Usage (Debian 12 packages, unpacked without installing; ``apt-get download`` needs no
root but warns it runs unsandboxed)::

    mkdir -p /tmp/p11-debs && cd /tmp/p11-debs
    apt-get download python-scipy-doc python3.11-doc singular-doc pspp gretl-doc \\
        genius-common gimp-help-de gimp-help-es gimp-help-ja gimp-help-ru \\
        debian-reference-de debian-reference-ja debian-reference-zh-cn
    for f in *.deb; do n=${f%%_*}; mkdir -p /tmp/p11-unpack/$n; dpkg-deb -x "$f" /tmp/p11-unpack/$n; done
    D=/work/main/bench/data/eleventh; cd /tmp/p11-unpack
    mkdir -p $D/scipy $D/python-doc $D/singular $D/pspp $D/gretl $D/genius $D/gimp \\
        $D/debian-reference
    S=python-scipy-doc/usr/share/doc/python-scipy-doc/html
    cp -a $S/reference $S/tutorial $S/dev $S/release.*.html $D/scipy/
    find $D/scipy -type f ! -name "*.html" -delete; find $D/scipy -type d -empty -delete
    cp -a python3.11-doc/usr/share/doc/python3.11/html/library $D/python-doc/
    cp singular-doc/usr/share/info/singular.info $D/singular/
    cp pspp/usr/share/doc/pspp/pspp.html/*.html $D/pspp/
    cp -a gretl-doc/usr/share/doc/gretl/doc/tex_it gretl-doc/usr/share/doc/gretl/doc/tex_ru $D/gretl/
    for l in C cs de el es fr pt_BR ru sv; do mkdir -p $D/genius/$l
        cp genius-common/usr/share/genius/help/$l/html/*.html $D/genius/$l/; done
    for l in de es ja ru; do mkdir -p $D/gimp/$l
        cp gimp-help-$l/usr/share/gimp/2.0/help/$l/*.html $D/gimp/$l/; done
    for l in de ja zh-cn; do mkdir -p $D/debian-reference/$l
        cp debian-reference-$l/usr/share/debian-reference/*.html $D/debian-reference/$l/; done
    .venv/bin/python bench/augment_eleventh.py [--rounds 3] [--rebuild] [--build-only] [--set key=JSON]

(Debian 12 "bookworm": python-scipy-doc 1.10.1-2, python3.11-doc 3.11.2-6+deb12u9,
singular-doc 1:4.3.1-p3+ds-2, pspp 1.6.2-2, gretl-doc 2022c-1, genius-common 1.0.27-1,
gimp-help-de/-es/-ja/-ru 2.10.34-2, debian-reference-de/-ja/-zh-cn 2.100; installed and
read in place: libpython3.11-stdlib 3.11.2-6+deb12u9 and bible-kjv 4.38.) The build takes
~15 seconds. Unpacked and not used: gnome-genius 1.0.27-1+b1 (its manual is in
genius-common, used), speedcrunch 0.12.0-6 (its manual is compiled into the program, no
files), macaulay2 1.21+ds-3+b1 / macaulay2-common 1.21+ds-3 (English HTML, one page per
function in ~250 package folders: the Singular manual fills the computer-algebra part;
left for a later pool), glpk-doc 5.0-1 (PDF only, also ``gmpl_es.pdf`` and
``gmpl_pt-BR.pdf``; no ``pdftotext`` here), lyx-common 2.3.7-1 (its translated "Math"
manual is about typesetting formulas: "neither", and ``.lyx`` sources), cadabra2
2.4.3.2-1.1 and mathomatic 16.0.5-5 (English only, as JSON notebooks and a small HTML
manual), algobox 1.1.1+dfsg-1 (French, but only 20 small ``.alg`` XML exercises),
gnumeric-doc 1.12.55-1 (de, es and sv hold 3 files each, the rest is English Mallard; a
spreadsheet's help like LibreOffice's), and gretl-doc's Portuguese and Galician folders
(command and function reference stubs). No Debian package with German, Russian or
Japanese mathematics was found: Genius's German, Portuguese and Russian manuals are
still in English (below), so those languages have "other" documents only (Russian: 6
math documents).

The recall defaults were tuned on the ten earlier pools (``bench/augment.py``,
``augment_untuned.py``, ``augment_fresh.py``, ``augment_fourth.py`` to
``augment_tenth.py``: docstrings of sympy, numpy, torch, networkx ..., the Maxima, GAP,
Octave, PARI/GP, calc, Giac, R, Scilab and Axiom manuals, LibreOffice help, KDE
handbooks, GNOME Calculator, Qalculate!, libm man pages, gnuplot, MPFR). This pool's math
shares no source with any of them: SciPy's documentation (reference, tutorial), the
Python library reference's mathematical modules, the Singular manual (commutative
algebra, like the issue's seeds), gretl's Italian user's guide and Russian Hansl primer
(econometric estimators in LaTeX), and the Genius manual in English, Czech, Greek,
Spanish, French and Swedish. Its negatives are the other halves of the same manuals
(SciPy's I/O and data-set pages, developer guide and release notes; the other library
pages; Singular's interpreter, language and system chapters; gretl's interface, data and
scripting chapters; Genius's getting-started, language and settings pages), the PSPP
manual's data and language chapters (a statistics package's documentation), and, like
issue 15's pool, GIMP help (German, Spanish, Japanese, Russian), the Debian Reference
(German, Japanese, Chinese), non-math Python standard-library code and literature (King
James Version chapters of books no pool reads: ``KJV_BOOKS``; the genre is not new).

Documents are WHOLE pages (a reference or manual page, an info node, a LaTeX chapter
file, a source file, a Bible chapter); a page over ``a10.WHOLE`` (6,000) characters is
cut by ``augment_seventh.pieces`` (up to 4,000) and every piece takes its page's label;
documents under 300 characters are dropped. Pages are taken evenly through each source
in its order (``augment_untuned.spread``, over documents: a cut page may give only some
of its pieces).

At the build of 2026-12-05: 1,191 documents, 371 math (31%). Math: SciPy 70 (55
reference, 15 tutorial), Python library 16 (math, cmath, statistics, fractions), Singular
80, gretl 72 (it 68, ru 4), Genius 133 (en 22, cs 22, el 22, es 22, fr 21, ru 2, sv 22
and none in de or pt: untranslated). Other: SciPy 69 (30 reference, 2 tutorial, 22
developer guide, 15 release notes), Python library 70, Singular 60, PSPP 45, gretl 86
(it 58, ru 26, en 2: pieces of the Russian primer that are mostly Hansl code), Genius
135 (en 22, cs 22, de 5, el 19, es 22, fr 19, ru 4, sv 22), GIMP 160 (40 each of de, es,
ja, ru), Debian Reference 105 (35 each of de, ja, zh), Python files 50, Bible chapters
40. By language (math/other): en 188/308, it 68/58, cs 22/22, el 22/19, es 22/62, fr
21/19, sv 22/22, ru 6/70, de 0/80, ja 0/75, zh 0/35, code 0/50. 602 documents are whole
pages; 589 are pieces of the 298 pages over 6,000 characters that they come from (math:
179 pieces of 57 pages: 72 of 11 gretl chapters, 68 of 23 Genius pages, 15 of 3 library
pages, 13 of 9 Singular nodes, 11 of 11 SciPy pages; other: 410 of 241 pages: 102 of 36
Debian Reference chapters, 84 of 18 gretl chapters, 64 of 62 library pages, 49 of 49 GIMP
pages, 45 of 26 Python files, 32 of 29 SciPy pages, 16 of 6 Genius pages, 8 of 5 PSPP
pages, 7 of 7 Singular nodes, 3 of 3 Bible chapters). Lengths 304-5,938 characters (math
mean 2,519, other 2,780).

Languages come from the text (``page_lang``): a page of a translated manual that is
mostly English is left out (its English original, or one like it, is read already) and
counted here. Of the pages of 300 characters or more, math/other: Genius cs 1/16 and
9/33 in English, de 16/16 and 28/33, el 1/16 and 16/33, es 0/16 and 12/33, fr 2/16 and
16/33, pt 16/16 and 33/33 (no Portuguese document), ru 14/16 and 29/33, sv 0/16 and
11/33; GIMP (other) de 195 of 638, es 57 of 641, ja 139 of 567, ru 124 of 634; Debian
Reference ja 1 piece of 101. gretl's pages keep the language of their text (the 2 "en"
pieces above).

Labels come from module, page, node and chapter names, fixed below before any run:

- **math** (the truth): SciPy pages of ``special``, ``linalg`` (not the BLAS, LAPACK and
  Cython wrappers), ``integrate``, ``optimize``, ``interpolate``, ``stats``,
  ``spatial.transform`` and ``sparse.linalg`` and the tutorials of these subjects
  (``SCIPY_RULES``, ``SCIPY_TUTORIAL``); the library reference's ``math``, ``cmath``,
  ``statistics`` and ``fractions``; Singular's mathematical background, polynomial data
  (monomial orderings), the algebra, Groebner-basis, invariant- and singularity-theory
  examples and the libraries of commutative algebra, algebraic geometry, singularities,
  invariant theory, linear algebra, tropical geometry, coding theory and
  symbolic-numerical solving (``SINGULAR_RULES``); gretl's chapters on estimators
  (maximum likelihood, GMM, nonlinear least squares, probit/logit, discrete choice,
  robust covariance, VECM, model-selection criteria, time series, panel data) and the
  Hansl primer's numerical methods (``GRETL``: statistics and econometrics count as
  mathematics here); Genius's pages on transposes, linear algebra, polynomials and set
  theory and its function lists of trigonometry, number theory, linear algebra,
  combinatorics, calculus, functions, equation solving, statistics, polynomials, set
  theory, commutative algebra and symbolic operations (``GENIUS_MATH``).
- **neither** (left out): SciPy's BLAS/LAPACK/Cython wrappers, ``fft``/``fftpack``,
  ``signal``, ``ndimage``, ``cluster``, ``odr``, the rest of ``spatial`` and ``sparse``
  (containers, graphs), ``constants``, callbacks and the other tutorials; the library
  pages of ``PYDOC_NEITHER`` (decimal, numbers, random, operator, itertools, heapq,
  datetime, colorsys, turtle, hashlib, built-in types and functions ...); Singular's
  preface, rings and orderings, the data types and functions of mathematical objects, the
  general-purpose, teaching, experimental, visualisation and miscellaneous libraries and
  the plural/letterplace libraries; PSPP's statistical procedures (command syntax and
  output of statistics), matrix language, expressions and tutorial; gretl's chapters on
  matrices, variable generation, operators, cheat sheet and appendices and the primer's
  estimation, matrices and Greek-letter chapters; Genius's plotting, modular evaluation,
  operators, sums and products, entering matrices, constants, numeric, matrix
  manipulation and miscellaneous function lists and example programs; GIMP pages of
  colour arithmetic (layer modes' formulas, curves, levels, histograms, mixers,
  convolution and generic filters: ``GIMP_NEITHER``).
- **other**: SciPy's ``io``, ``datasets`` and ``misc`` pages, the I/O tutorial, the
  developer guide and the release notes; every other library page; Singular's
  introduction, general concepts (interactive use, Emacs, the language, procedures,
  libraries, debugging), non-mathematical data types (link, string, list, proc, package,
  pyobject, countedref, def, user-defined types), control structures, system variables,
  tricks and pitfalls, release notes and programming examples; PSPP's chapters of
  ``PSPP_OTHER`` (invoking, the language, data input and output, system files, combining
  files, variables, data manipulation and selection, looping, utilities, bugs); gretl's
  introduction, starting, modes, data files, graphs, loops, functions, saved objects,
  command line, troubleshooting, LaTeX and sampling chapters and the primer's other
  chapters; Genius's ``GENIUS_OTHER`` pages; GIMP's other pages, the Debian Reference, the
  Python files and the Bible chapters.

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
import augment_ninth as a9  # noqa: E402  (parse_info)
import augment_tenth as a10  # noqa: E402  (html_text, script_lang, whole, stdlib_docs, kjv_docs)
import augment_untuned as au  # noqa: E402  (spread)

POOL = HERE / "data" / "augment" / "eleventh-pool.jsonl"
DATA = HERE / "data" / "eleventh"

# --- SciPy 1.10.1 (Sphinx HTML): a page's module is the longest of these keys that its
# name (``scipy.<module>.<object>``, ``<module>.html``, ``<module>.<method>.html``) begins
# with; "neither" when none matches. Fixed from the module names before any run.
SCIPY_RULES = {
    # mathematics: special functions, linear algebra, quadrature and ODEs, optimisation,
    # interpolation, probability and statistics, rotations, sparse linear algebra
    "special": "math", "linalg": "math", "integrate": "math", "optimize": "math",
    "interpolate": "math", "stats": "math", "spatial.transform": "math",
    "sparse.linalg": "math", "linalg.interpolative": "math",
    # numerical plumbing and borderline subjects: BLAS/LAPACK/Cython wrappers, Fourier
    # transforms, signal and image processing, clustering, ODR, spatial data structures,
    # sparse containers and graphs, physical constants, callbacks
    "linalg.blas": "neither", "linalg.lapack": "neither", "linalg.cython_blas": "neither",
    "linalg.cython_lapack": "neither", "special.cython_special": "neither",
    "optimize.cython_optimize": "neither", "fft": "neither", "fftpack": "neither",
    "signal": "neither", "ndimage": "neither", "cluster": "neither", "odr": "neither",
    "spatial": "neither", "sparse": "neither", "constants": "neither",
    "LowLevelCallable": "neither", "ccallback": "neither",
    # file input and output, example data sets, deprecated miscellany
    "io": "other", "datasets": "other", "misc": "other",
}  # fmt: skip
# the tutorial's pages by name; the developer guide (dev/) and the release notes are other
SCIPY_TUTORIAL = {"special": "math", "linalg": "math", "integrate": "math"}
SCIPY_TUTORIAL |= {"interpolate": "math", "optimize": "math", "stats": "math", "io": "other"}
# documents taken evenly (in name order) through each part's pages of each label: the
# API reference, the tutorial, the developer guide, the release notes
SCIPY_TAKE = {("math", "reference"): 55, ("math", "tutorial"): 15}
SCIPY_TAKE |= {("other", "reference"): 30, ("other", "tutorial"): 5, ("other", "dev"): 22}
SCIPY_TAKE |= {("other", "release"): 15}
# --- Python 3.11 library reference (HTML): pages by name
PYDOC_MATH = ("math", "cmath", "statistics", "fractions")
PYDOC_NEITHER = (
    "decimal", "numbers", "random", "numeric", "operator", "functools", "itertools",
    "bisect", "heapq", "array", "secrets", "graphlib", "stdtypes", "functions", "builtins",
    "datetime", "calendar", "colorsys", "audioop", "turtle", "hashlib", "hmac", "crypto",
    "timeit", "profile", "struct", "index",
)  # fmt: skip
PYDOC_OTHER = 70  # every other page is "other": documents taken evenly through them
# --- Singular 4.3.1 manual (info): a node's path is its chain of Up nodes (chapter
# first) and its own name; the longest of these prefixes of it gives its label, none:
# "neither" (the preface, data types and functions of mathematical objects, the
# general-purpose, teaching, experimental, visualisation and miscellaneous libraries,
# rings and orderings, the index).
SINGULAR_RULES: dict[tuple[str, ...], str] = {
    ("Mathematical background",): "math",
    ("Polynomial data",): "math",
    ("Non-commutative subsystem", "Mathematical background (plural)"): "math",
    ("Non-commutative subsystem", "Mathematical background (letterplace)"): "math",
    ("Introduction",): "other",
    ("General concepts",): "other",  # interactive use, Emacs, the language, libraries
    ("General concepts", "Rings and orderings"): "neither",
    ("Functions and system variables", "Control structures"): "other",
    ("Functions and system variables", "System variables"): "other",
    ("Tricks and pitfalls",): "other",
    ("Release Notes",): "other",
    ("Examples", "Programming"): "other",
}
for _ex in (
    "Commutative Algebra", "Computing Groebner and Standard Bases", "Invariant Theory",
    "Geometric Invariant Theory", "Singularity Theory", "Non-commutative Algebra",
):  # fmt: skip
    SINGULAR_RULES[("Examples", _ex)] = "math"
for _lib in (
    "Commutative algebra", "Algebraic geometry", "Singularities", "Invariant theory",
    "Linear algebra", "Tropical Geometry", "Coding theory", "Symbolic-numerical solving",
):  # fmt: skip
    SINGULAR_RULES[("SINGULAR libraries", _lib)] = "math"
for _type in (
    "link", "string", "list", "proc", "package", "pyobject", "countedref", "def",
    "User defined types",
):  # fmt: skip
    SINGULAR_RULES[("Data types", _type)] = "other"
SINGULAR_MATH = 80
SINGULAR_OTHER = 60
# --- gretl 2022c: the Italian user's guide and the Russian Hansl primer (LaTeX), one
# document per chapter file; any file not named here is "neither"
GRETL = {
    # econometric estimators and their theory (formulas): math
    "tex_it/mle": "math", "tex_it/gmm": "math", "tex_it/nls": "math",
    "tex_it/probit": "math", "tex_it/discrete": "math", "tex_it/robust_vcv": "math",
    "tex_it/vecm": "math", "tex_it/criteria": "math", "tex_it/timeseries": "math",
    "tex_it/panel": "math", "tex_ru/hp-numerical": "math",
    # starting, the interface, data files, graphs, scripting, sampling, output, LaTeX
    "tex_it/introduction": "other", "tex_it/starting": "other", "tex_it/modes": "other",
    "tex_it/datafiles": "other", "tex_it/graphs": "other", "tex_it/looping": "other",
    "tex_it/functions": "other", "tex_it/persistent": "other", "tex_it/cli": "other",
    "tex_it/trouble": "other", "tex_it/gretltex": "other", "tex_it/sampling": "other",
    "tex_ru/hp-hello": "other", "tex_ru/hp-dataset": "other", "tex_ru/hp-output": "other",
    "tex_ru/hp-ctrlflow": "other", "tex_ru/hp-functions": "other",
    "tex_ru/hp-bundles": "other", "tex_ru/hp-series": "other", "tex_ru/hp-further": "other",
}  # fmt: skip
# --- PSPP 1.6.2 manual (texinfo HTML, one page per node): a page is "other" when its
# chapter (the top of its chain of Up links) is one of these; every other page is
# "neither": the statistical procedures (what they compute is statistics, but the pages
# are command syntax, options and output tables), the matrix language, expressions and
# their function lists, the tutorial ("Using PSPP"), indexes and licences
PSPP_OTHER = (
    "Introduction", "Invoking-PSPP", "Invoking-PSPPIRE", "Invoking-pspp_002dconvert",
    "Invoking-pspp_002doutput", "Invoking-pspp_002ddump_002dsav", "Language",
    "Data-Input-and-Output", "System-and-Portable-File-IO", "Combining-Data-Files",
    "Manipulating-Variables", "Data-Manipulation", "Data-Selection",
    "Conditionals-and-Looping", "Utilities", "Bugs",
)  # fmt: skip
PSPP_DOCS = 45
# --- Genius 1.0.27 manual (DocBook HTML, the same file names in every language)
GENIUS_LANGS = {"C": "en", "cs": "cs", "de": "de", "el": "el", "es": "es", "fr": "fr"}
GENIUS_LANGS |= {"pt_BR": "pt", "ru": "ru", "sv": "sv"}
GENIUS_MATH = (
    "ch08s02", "ch08s03", "ch09", "ch10", "ch11s06", "ch11s07", "ch11s09", "ch11s10",
    "ch11s11", "ch11s12", "ch11s13", "ch11s14", "ch11s15", "ch11s16", "ch11s17", "ch11s19",
)  # fmt: skip  # transposes, linear algebra, polynomials, sets, the function lists of
# trigonometry, number theory, linear algebra, combinatorics, calculus, functions,
# equation solving, statistics, polynomials, sets, commutative algebra, symbolic calculus
GENIUS_OTHER = (
    "ch01", "ch02", "ch02s02", "ch03", "ch03s02", "ch03s03", "ch05", "ch05s02", "ch05s03",
    "ch05s04", "ch05s05", "ch06", "ch06s02", "ch06s04", "ch06s05", "ch06s06", "ch06s07",
    "ch06s08", "ch06s09", "ch07", "ch07s02", "ch07s03", "ch07s04", "ch07s05", "ch07s06",
    "ch11", "ch11s02", "ch11s03", "ch13", "ch13s02", "ch13s03", "ch13s04", "ch14",
)  # fmt: skip  # introduction, getting started, basic usage, the GEL language and its
# programming, the basic and parameter function lists, settings, about; "neither": plots
# (ch04, ch11s20), modular evaluation, operators, sums and products, entering matrices,
# constants, numeric, matrix manipulation and miscellaneous functions, example programs
GENIUS_PER_LANG = 22  # documents of each label per language at most, taken evenly
# --- GIMP 2.10.34 help: pages of colour arithmetic (layer modes' formulas, curves,
# levels, histograms, channel mixers, convolution matrices) are "neither"
GIMP_LANGS = ("de", "es", "ja", "ru")
GIMP_NEITHER = ("layer-modes", "convolution", "curves", "levels", "histogram", "mixer")
GIMP_NEITHER += ("generic", "distance-map", "color-balance")
GIMP_PER_LANG = 40
# --- Debian Reference 2.100 (one HTML page per chapter)
DEBREF_LANGS = {"de": "de", "ja": "ja", "zh-cn": "zh"}
DEBREF_PER_LANG = 35
# --- Python standard-library code without mathematics that no earlier pool reads
# (``augment_tenth.PY_STDLIB`` and ``corpus_sources.code_docs`` are left out)
PY_STDLIB = (
    "asyncio", "sqlite3", "unittest", "importlib", "xmlrpc", "dbm", "curses", "venv",
    "pathlib.py", "subprocess.py", "socketserver.py", "imaplib.py", "poplib.py",
    "nntplib.py", "uuid.py", "locale.py", "pprint.py", "dataclasses.py", "enum.py",
)  # fmt: skip
PY_DOCS = 50
# King James Version books that no other pool reads (not ``corpus_sources.KJV_BOOKS``
# nor ``augment_tenth.KJV_BOOKS``): history, prophecy, letters
KJV_BOOKS = {"2Sa": 24, "Ezr": 10, "Eze": 48, "1Co": 16, "Ga": 6, "Jas": 5}
KJV_DOCS = 40

OWN = {
    **a10.OWN,
    "de": set("der die das und ist sind mit für ein eine nicht von zu den im auf".split()),
    "es": set("el la los las de del es son y un una en para con que por se".split()),
    "it": set("il lo la gli le di del della è sono e un una in per con che".split()),
    "sv": set("och är att en ett det som för med på av till den inte om".split()),
    "cs": set("a je jsou se na v ve pro s z že to jako nebo k do".split()),
}
SCRIPT = {"ru": re.compile(r"[\u0400-\u04ff]+"), "el": re.compile(r"[\u0370-\u03ff]+")}


def page_lang(text: str, lang: str) -> str:
    """``lang`` unless the page is mostly English (a partial translation): "en" when its
    English function words (``a10.ENGLISH``) outnumber twice its own language's function
    words (``OWN``), or 0.4 times its Cyrillic or Greek words (about as many function
    words), or, for "ja" and "zh", its kana and kanji (``a10.script_lang``)."""
    if lang in ("en", "code"):
        return lang
    if lang in ("ja", "zh"):
        return a10.script_lang(text, lang)
    words = re.findall(r"[^\W\d_]+", text.lower())
    en = sum(w in a10.ENGLISH for w in words)
    own = len(SCRIPT[lang].findall(text)) * 0.2 if lang in SCRIPT else 0
    own = own or sum(w in OWN.get(lang, ()) for w in words)
    return "en" if en > 2 * own else lang


def cut(raw: str, start: str, end: str) -> str:
    """``raw`` from just after ``start``'s tag to ``end`` (the whole of ``raw`` when a
    marker is missing), permalink marks and DocBook tables of contents removed."""
    i = raw.find(start)
    i = raw.find(">", i) + 1 if i >= 0 else 0
    j = raw.find(end, i)
    body = raw[i : j if j >= 0 else len(raw)]
    body = re.sub(r'<a class="headerlink"[^>]*>.*?</a>', "", body, flags=re.S)
    return re.sub(r'<div class="(?:toc|list-of-\w+)">.*?</dl>\s*</div>', "", body, flags=re.S)


def docbook_text(path: Path) -> str:
    """The page body of a DocBook HTML page: after its navigation header, before its
    navigation footer."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    i = raw.find('<div class="navheader">')
    if i >= 0:
        raw = raw[: raw.find("<body")] + raw[raw.find("</div>", i) + 6 :]
    return a10.html_text(cut(raw, "<body", '<div class="navfooter">'))


def label_by_prefix(name: str, rules: dict[str, str]) -> str:
    keys = [k for k in rules if name == k or name.startswith(k + ".") or name.startswith(k + "-")]
    return rules[max(keys, key=len)] if keys else "neither"


def scipy_pages() -> list[tuple[str, str, Path]]:
    """``(name, label, path)`` of each SciPy page (``SCIPY_RULES``, ``SCIPY_TUTORIAL``)."""
    out = []
    for path in sorted((DATA / "scipy").rglob("*.html")):
        rel = path.relative_to(DATA / "scipy").as_posix()
        name = rel.removesuffix(".html")
        if rel.startswith(("dev/", "release.")):
            label = "other"
        elif rel.startswith("tutorial/"):
            label = SCIPY_TUTORIAL.get(name.split("/")[1], "neither")
        else:
            stem = path.stem.removeprefix("scipy.")
            label = label_by_prefix(stem, SCIPY_RULES)
        out.append((name, label, path))
    return out


def scipy_docs(label: str) -> list[tuple[str, str, str]]:
    """``SCIPY_TAKE`` documents of ``label`` from each part of the documentation."""
    parts: dict[str, list] = {}
    for name, lab, path in scipy_pages():
        if lab == label:
            raw = path.read_text(encoding="utf-8", errors="replace")
            text = a10.html_text(cut(raw, 'role="main"', "<div class='prev-next-area'>"))
            part = name.split("/")[0].split(".")[0]
            parts.setdefault(part, []).extend(a10.whole(f"scipy-doc:{name}", text, "en"))
    return [d for part, docs in parts.items() for d in au.spread(docs, SCIPY_TAKE[label, part])]


def pydoc_label(name: str) -> str:
    return "math" if name in PYDOC_MATH else "neither" if name in PYDOC_NEITHER else "other"


def pydoc_docs(label: str, k: int | None) -> list[tuple[str, str, str]]:
    """Pages of the library reference of ``label``, all (``k`` None) or ``k`` documents
    taken evenly through them."""
    docs = []
    for path in sorted((DATA / "python-doc" / "library").glob("*.html")):
        if pydoc_label(path.stem) == label:
            raw = path.read_text(encoding="utf-8", errors="replace")
            text = a10.html_text(cut(raw, 'role="main"', '<div class="sphinxsidebar"'))
            docs += a10.whole(f"python3.11-doc:library/{path.stem}", text, "en")
    return docs if k is None else au.spread(docs, k)


def singular_nodes() -> list[tuple[tuple[str, ...], str, str]]:
    """``(path, node, text)`` of each node of the Singular manual, in its order."""
    raw = (DATA / "singular" / "singular.info").read_text(encoding="utf-8", errors="replace")
    nodes = a9.parse_info(raw)
    ups = {n: u for n, u, _ in nodes}
    out = []
    for node, _, body in nodes:
        path, n = [node], node
        while ups.get(n) not in (None, "", "Top", "(dir)") and len(path) < 12:
            n = ups[n]
            path.insert(0, n)
        out.append((tuple(path), node, body))
    return out


def singular_docs(label: str, k: int) -> list[tuple[str, str, str]]:
    docs = []
    for path, node, body in singular_nodes():
        rule = max((p for p in SINGULAR_RULES if path[: len(p)] == p), key=len, default=None)
        if SINGULAR_RULES.get(rule) == label:
            docs += a10.whole(f"singular-doc:{node}", body, "en")
    return au.spread(docs, k)


def pspp_docs() -> list[tuple[str, str, str]]:
    """``PSPP_DOCS`` documents taken evenly through the pages of the ``PSPP_OTHER``
    chapters: each page's text between its top and bottom navigation, its menu removed."""
    raws = {p.stem: p.read_text(encoding="utf-8") for p in sorted((DATA / "pspp").glob("*.html"))}
    up = {}
    for name, raw in raws.items():
        m = re.search(r'href="([^"#]*)\.html(?:#[^"]*)?" accesskey="u"', raw)
        up[name] = m.group(1) if m else ""
    docs = []
    for name, raw in raws.items():
        top, n = name, name
        for _ in range(8):
            if up.get(n) in (None, "", "index"):
                break
            top = n = up[n]
        if top in PSPP_OTHER:
            body = raw[raw.find("<hr>") + 4 : raw.rfind('<div class="header">')]
            body = re.sub(r'<ul class="section-toc">.*?</ul>', "", body, flags=re.S)
            docs += a10.whole(f"pspp:{name}", a10.html_text(body), "en")
    return au.spread(docs, PSPP_DOCS)


def gretl_docs(label: str) -> list[tuple[str, str, str]]:
    """Every chapter file of ``label`` (``GRETL``), comments removed, whole or cut."""
    import gzip

    docs = []
    for name, lab in GRETL.items():
        if lab != label:
            continue
        path = DATA / "gretl" / f"{name}.tex"
        gz = path.with_suffix(".tex.gz")
        data = gzip.open(gz).read() if gz.exists() else path.read_bytes()
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError:  # the Italian guide is in Latin-1
            raw = data.decode("latin-1")
        text = re.sub(r"\n{3,}", "\n\n", re.sub(r"(?<!\\)%.*", "", raw)).strip()
        lang = name[4:6]
        docs += a10.whole(f"gretl-doc:{name}", text, page_lang(text, lang))
    return docs


def translated(source: str, pages: list[tuple[str, str]], lang: str, k: int) -> list:
    """``k`` documents (whole pages and pieces) taken evenly through the ``(name, text)``
    pages written in ``lang`` (``page_lang``: a page still in English is left out, as
    its English original or a page like it is read already)."""
    got = []
    for name, text in pages:
        if page_lang(text, lang) == lang:
            got += a10.whole(f"{source}:{name}", text, lang)
    return au.spread(got, k)


def genius_docs(label: str) -> list[tuple[str, str, str]]:
    names = GENIUS_MATH if label == "math" else GENIUS_OTHER
    docs = []
    for loc, lang in GENIUS_LANGS.items():
        pages = [(n, docbook_text(DATA / "genius" / loc / f"{n}.html")) for n in names]
        docs += translated(f"genius-{lang}", pages, lang, GENIUS_PER_LANG)
    return docs


def gimp_docs() -> list[tuple[str, str, str]]:
    docs = []
    for lang in GIMP_LANGS:
        pages = [
            (p.stem, docbook_text(p))
            for p in sorted((DATA / "gimp" / lang).glob("*.html"))
            if not any(w in p.stem for w in GIMP_NEITHER)
        ]
        docs += translated(f"gimp-help-{lang}", pages, lang, GIMP_PER_LANG)
    return docs


def debref_docs() -> list[tuple[str, str, str]]:
    docs = []
    for loc, lang in DEBREF_LANGS.items():
        pages = [
            (p.name.split(".")[0], docbook_text(p))
            for p in sorted((DATA / "debian-reference" / loc).glob("*.html"))
            if not p.name.startswith("index.")
        ]
        got = [d for n, t in pages for d in a10.whole(f"debian-reference-{lang}:{n}", t, lang)]
        docs += au.spread([d for d in got if page_lang(d[1], lang) == lang], DEBREF_PER_LANG)
    return docs


def math_docs() -> list[tuple[str, str, str]]:
    docs = scipy_docs("math") + pydoc_docs("math", None)
    docs += singular_docs("math", SINGULAR_MATH) + gretl_docs("math")
    return docs + genius_docs("math")


def other_docs() -> list[tuple[str, str, str]]:
    docs = scipy_docs("other") + pydoc_docs("other", PYDOC_OTHER)
    docs += singular_docs("other", SINGULAR_OTHER) + pspp_docs() + gretl_docs("other")
    docs += genius_docs("other") + gimp_docs() + debref_docs()
    return (
        docs
        + a10.stdlib_docs(PY_STDLIB, PY_DOCS, skip_tests=True)
        + a10.kjv_docs(KJV_BOOKS, KJV_DOCS)
    )


def build(path: Path) -> None:
    augment.write_pool(path, math_docs(), other_docs(), "e")


def main() -> None:
    augment.pool_main("eleventh", POOL, build, __doc__)


if __name__ == "__main__":
    main()
