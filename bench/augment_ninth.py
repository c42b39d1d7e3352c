"""Math recall on a ninth pool, built (and its truth labels fixed) before any run on it.

Run once untuned on 2026-12-04 at ``271dd5b`` (22:00 UTC; nothing had scored the pool
before): recall 0.675, precision 0.967 (seed 0). Tuned on from then (bench/RESULTS.md).

Usage (the C math library's man pages from Debian 12 packages, translated by
manpages-l10n, and two English GNU manuals; unpacked without installing; ``apt-get
download`` needs no root but warns it runs unsandboxed)::

    mkdir -p /tmp/p9-debs && cd /tmp/p9-debs
    apt-get download manpages-dev manpages-cs-dev manpages-de-dev manpages-es-dev \\
        manpages-fr-dev manpages-pl-dev manpages-pt-br-dev manpages-ru-dev \\
        gnuplot-doc libmpfr-doc
    for f in *.deb; do dpkg -x "$f" /tmp/p9-unpack; done
    D=/work/main/bench/data/ninth; mkdir -p $D/man/en $D/info
    cd /tmp/p9-unpack/usr/share
    for l in cs de es fr pl pt_BR ru; do mkdir -p $D/man/$l; cp -a man/$l/man3 $D/man/$l/; done
    cp -a man/man3 $D/man/en/
    cp info/gnuplot.info.gz info/mpfr.info.gz $D/info/
    .venv/bin/python bench/augment_ninth.py [--rounds 3] [--rebuild] [--build-only] [--set key=JSON]

(Debian 12 "bookworm": Linux man-pages 6.03 and manpages-l10n 4.18.1, gnuplot 5.4.4,
MPFR 4.2.0.) Man pages are rendered by ``man`` (``MANWIDTH=80``, no hyphenation or
justification), without the running header and footer and without the translators'
credits section that manpages-l10n appends (``TRANSLATION_HEADS``). Info manuals are
split into nodes at ``\\x1f``.

The recall defaults were tuned on the eight earlier pools (``bench/augment.py``,
``augment_untuned.py``, ``augment_fresh.py``, ``augment_fourth.py`` to
``augment_eighth.py``: LaTeX docstrings of Python packages, the Maxima, GAP, Octave,
PARI/GP, calc, Giac and R manuals, LibreOffice help, KDE handbooks, GNOME Calculator and
Qalculate! help). This pool shares no math source with any of them: its math is the
section-3 man pages of the C math library (``libm``: trigonometric, hyperbolic,
exponential and logarithmic functions, powers and roots, gamma, error and Bessel
functions, complex functions) in Czech, German, Spanish, French, Polish, Brazilian
Portuguese and Russian and in English, gnuplot's reference of its mathematical functions
and MPFR's transcendental functions. (Earlier pools took some negatives from installed
man pages of sections 1, 5, 7 and 8; translated section 3 is not installed here.) All
seven translations are languages that ``qurate/augment/lexicon.py`` covers: Debian 12
has translated section-3 pages in no language it does not (Macedonian and Greek ship a
few section-1 pages, none of them math).

At the build of 2026-12-04: 793 documents, 305 math (cs 16, de 44, es 22, fr 44, pl 44,
pt 24, ru 44 man pieces; en 67: 44 man, 8 gnuplot, 15 MPFR), 488 other (54 man pieces per
language but Czech's 17, 30 gnuplot, 13 MPFR, 50 Python files); pieces 300-3,998
characters (math mean 1,133, other 1,382). manpages-l10n leaves paragraphs it has not
translated in English (newer upstream text): by a rough count (over 12% English function
words among prose words) 14 of the 238 translated math pieces and 49 of the 341
translated other pieces are mostly English; Spanish has the most (8 and 22).

Labels come from page and node names, fixed below before any run:

- **math** (the truth): the man pages named in ``LIBM_MATH`` (one page documents a
  function family, e.g. ``sin``, ``sinf``, ``sinl``; links are not read twice);
  gnuplot's nodes named in ``GNUPLOT_MATH`` (its elementary and special functions and
  complex arithmetic, joined in the manual's order before cutting); MPFR's
  ``Transcendental Functions`` node.
- **neither** (left out): the number-handling man pages of ``LIBM_NEITHER`` (rounding,
  representation, floating-point environment and classification, remainders, absolute
  values and extrema, random numbers, number/string conversion) and ``.so`` stubs;
  gnuplot's and MPFR's other nodes but those of ``GNUPLOT_OTHER_UPS`` and
  ``MPFR_OTHER``.
- **other**: every other section-3 man page (strings, files, threads, sockets, locales,
  memory, ...) in the same languages (the same man layout and headings: hard negatives),
  ``OTHER_PAGES`` pages taken evenly through each language's list by name, cut and then
  ``OTHER_PER_LANG`` pieces taken evenly; gnuplot's nodes on plot styles, mouse, line
  types, colours, keys and data files; MPFR's installation, bug reporting, headers and
  memory handling nodes; Python code of non-math packages no other pool reads
  (``PY_PACKAGES``).

Pieces are cut to at most ``LIMIT`` characters and at least 300 (``a7.pieces``); each
language keeps at most ``MATH_PER_LANG`` math pieces, taken evenly through its pages.
Seeds: the bundled 60 sympy docstrings. The last line is ``ratio=<precision/0.9>``.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import augment  # noqa: E402  (bench/augment.py: the stage writer and the recall runner)
import augment_seventh as a7  # noqa: E402  (pieces)
import augment_untuned as au  # noqa: E402  (spread, site_code_docs)

POOL = HERE / "data" / "augment" / "ninth-pool.jsonl"
DATA = HERE / "data" / "ninth"
# man/<dir> -> the pool's 2-letter language code
LANGS = {"cs": "cs", "de": "de", "es": "es", "fr": "fr", "pl": "pl", "pt_BR": "pt", "ru": "ru"}
LANGS["en"] = "en"
MATH_PER_LANG = 44  # math pieces per language at most (man pages)
OTHER_PAGES = 60  # non-math man pages rendered per language
OTHER_PER_LANG = 54  # their pieces kept per language
# Fixed from the pages' names before any run: functions whose value is a mathematical
# function of the argument(s).
LIBM_MATH = (
    "sin", "cos", "tan", "sincos", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh",
    "asinh", "acosh", "atanh", "exp", "exp2", "exp10", "expm1", "log", "log2", "log10",
    "log1p", "pow", "pow10", "sqrt", "cbrt", "hypot", "gamma", "lgamma", "tgamma", "erf",
    "erfc", "j0", "y0", "cabs", "cacos", "cacosh", "carg", "casin", "casinh", "catan",
    "catanh", "ccos", "ccosh", "cexp", "cexp2", "cimag", "clog", "clog10", "clog2", "conj",
    "cpow", "cproj", "creal", "csin", "csinh", "csqrt", "ctan", "ctanh",
)  # fmt: skip
LIBM_NEITHER = (
    "ceil", "floor", "round", "trunc", "rint", "nearbyint", "lrint", "lround", "fabs",
    "fdim", "fmax", "fmin", "fma", "fmod", "remainder", "remquo", "frexp", "ldexp", "modf",
    "scalb", "scalbln", "ilogb", "logb", "significand", "nextafter", "nextup", "copysign",
    "signbit", "fpclassify", "isgreater", "finite", "nan", "INFINITY", "fenv", "matherr",
    "math_error", "__setfpucw", "div", "abs", "MAX", "rand", "random", "random_r",
    "drand48", "drand48_r", "atof", "atoi", "strtod", "strtol", "strtoul", "strtoimax",
    "wcstoimax", "strfromd", "ecvt", "ecvt_r", "fcvt", "gcvt", "qecvt", "a64l", "ffs",
    "complex",
)  # fmt: skip
GNUPLOT_MATH = (
    "Complex_arithmetic", "abs", "acos", "acosh", "airy", "arg", "asin", "asinh", "atan",
    "atan2", "atanh", "EllipticK", "EllipticE", "EllipticPi", "besj0", "besj1", "besjn",
    "besy0", "besy1", "besyn", "besi0", "besi1", "besin", "cos", "cosh", "erf", "erfc",
    "exp", "expint", "gamma", "ibeta", "inverf", "igamma", "imag", "invnorm", "lambertw",
    "lgamma", "log", "log10", "norm", "real", "sgn", "sin", "sinh", "sqrt", "tan", "tanh",
    "voigt", "cerf", "cdawson", "faddeeva", "erfi", "Voigt_Profile", "elliptic_integrals",
)  # fmt: skip
GNUPLOT_OTHER = 30  # gnuplot pieces kept (taken evenly) of its 62 non-math ones
GNUPLOT_OTHER_UPS = ("plotting_styles", "mouse", "linetypes", "colorspec", "key_", "datafile")
MPFR_MATH = ("Transcendental Functions",)
MPFR_OTHER = (
    "Installing MPFR", "Reporting Bugs", "Headers and Libraries", "Memory Handling",
    "Memory Handling Functions",
)  # fmt: skip
# the section manpages-l10n appends with the translators' names and the licence
TRANSLATION_HEADS = ("PŘEKLAD", "ÜBERSETZUNG", "TRADUCCIÓN", "TRADUCTION", "TŁUMACZENIE")
TRANSLATION_HEADS += ("TRADUÇÃO", "ПЕРЕВОД")
# a section that only lists other pages ("SEE ALSO" in any language)
SEE_ALSO = re.compile(r"(?:[\w.:-]+\(\d\w*\)[,.\s]*)+")
PY_PACKAGES = ("_pytest", "setuptools", "pip", "antlr4", "hypothesis")


# the running header and footer name the page, e.g. "LS(1)" (some Japanese mdoc pages of
# the tenth pool come out without them: their first line is the NAME heading, which stays)
HEADER = re.compile(r"^\S+\(\w+\)|\S+\(\w+\)\s*$")


def render(path: Path, heads: tuple[str, ...] = TRANSLATION_HEADS) -> str:
    """A man page as ``man`` shows it (80 columns), without its running header and footer
    (``HEADER``: only when there is one), the translators' section (the first whose heading
    begins with one of ``heads``) and all after it, the attributes section (a thread-safety
    table, found by its reference to ``attributes(7)``) and a section that only lists other
    pages (``SEE_ALSO``): the same cut for math and other pages, so that no math piece is a
    bare table or list of references (41 of 274 math man pieces began with the table before
    this cut). A page that troff takes more than 20 seconds over is empty (a few zh_CN pages
    send it into a loop: ``corpus_sources``)."""
    env = {**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": ""}
    try:
        out = subprocess.run(
            ["man", "--nh", "--nj", "-E", "UTF-8", "-l", str(path)],
            capture_output=True, text=True, env=env, check=False, timeout=20,
        ).stdout  # fmt: skip
    except subprocess.TimeoutExpired:
        return ""
    lines = out.strip("\n").split("\n")
    if lines and HEADER.search(lines[0]):
        lines = lines[1:]
    if lines and HEADER.search(lines[-1]):
        lines = lines[:-1]
    sections: list[list[str]] = []
    for line in lines:
        if line and not line.startswith(" "):  # a section heading
            sections.append([])
        if sections:
            sections[-1].append(line)
    keep = []
    for sec in sections:
        if sec[0].strip().startswith(heads):
            break
        body = "\n".join(sec[1:])
        if "attributes(7)" in body or SEE_ALSO.fullmatch(body.strip()):
            continue
        keep.append("\n".join(sec))
    return "\n".join(keep).strip()


def man_pages(mandir: str) -> list[tuple[str, Path]]:
    """``(name, path)`` of each section-3 page file of one language, sorted by name:
    regular files only (a link names a page already read) and no ``.so`` stubs."""
    pages = []
    for path in sorted((DATA / "man" / mandir / "man3").glob("*.3*.gz")):
        if path.is_symlink():
            continue
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            if f.read(4) == ".so ":
                continue
        pages.append((path.name.split(".3")[0], path))
    return pages


def page_docs(mandir: str, pages: list[tuple[str, Path]]) -> list[tuple[str, str, str]]:
    lang = LANGS[mandir]
    docs = []
    for name, path in pages:
        for j, c in enumerate(a7.pieces(render(path))):
            docs.append((f"man3-{lang}:{name}:{j}", c, lang))
    return docs


def info_nodes(name: str) -> list[tuple[str, str, str]]:
    """``(node, up, text)`` of each node of an info manual, in the manual's order."""
    return parse_info(gzip.open(DATA / "info" / f"{name}.info.gz", "rt", encoding="utf-8").read())


def parse_info(raw: str) -> list[tuple[str, str, str]]:
    """``(node, up, text)`` of each node of the info manual ``raw``, in its order."""
    nodes = []
    for part in raw.split("\x1f"):
        head, _, body = part.strip("\n").partition("\n")
        m = re.match(r"File: [^,]+,\s+Node: ([^,]+)", head)
        if m:
            up = re.search(r"Up: ([^,\n]+)", head)
            nodes.append((m.group(1).strip(), up.group(1).strip() if up else "", body.strip()))
    return nodes


def info_docs(name: str, keep) -> list[tuple[str, str, str]]:
    """Pieces of the nodes of an info manual for which ``keep(node, up)`` holds, joined
    in the manual's order before cutting."""
    text = "\n\n".join(t for node, up, t in info_nodes(name) if keep(node, up))
    return [(f"info-{name}:{j}", c, "en") for j, c in enumerate(a7.pieces(text))]


def math_docs() -> list[tuple[str, str, str]]:
    docs = []
    for mandir in LANGS:
        pages = [(n, p) for n, p in man_pages(mandir) if n in LIBM_MATH]
        docs += au.spread(page_docs(mandir, pages), MATH_PER_LANG)
    docs += info_docs("gnuplot", lambda node, up: node in GNUPLOT_MATH)
    docs += info_docs("mpfr", lambda node, up: node in MPFR_MATH)
    return docs


def other_docs() -> list[tuple[str, str, str]]:
    docs = []
    for mandir in LANGS:
        skip = set(LIBM_MATH) | set(LIBM_NEITHER)
        pages = [(n, p) for n, p in man_pages(mandir) if n not in skip]
        docs += au.spread(page_docs(mandir, au.spread(pages, OTHER_PAGES)), OTHER_PER_LANG)
    docs += au.spread(info_docs("gnuplot", lambda node, up: up in GNUPLOT_OTHER_UPS), GNUPLOT_OTHER)
    docs += info_docs("mpfr", lambda node, up: node in MPFR_OTHER)
    return docs + au.site_code_docs(PY_PACKAGES, 10, max_chars=4000)


def build(path: Path) -> None:
    augment.write_pool(path, math_docs(), other_docs(), "n")


def main() -> None:
    augment.pool_main("ninth", POOL, build, __doc__)


if __name__ == "__main__":
    main()
