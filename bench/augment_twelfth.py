"""Math recall on a twelfth pool, built (and its truth labels fixed) before any run on it.

Built on 2026-12-05 (08:45 UTC) by the data helper and never run: no recall, scoring or
qurate command has seen it. Its truth labels come from the rules below, written before
the build from page, chapter and package names, and not changed after it.

Usage (Debian 12 packages, unpacked without installing; ``apt-get download`` needs no
root but warns it runs unsandboxed)::

    mkdir -p /tmp/p12-debs && cd /tmp/p12-debs
    apt-get download macaulay2-common emacs-common emacs-el kcalc step kalzium-data \\
        kstars-data
    for f in *.deb; do n=${f%%_*}; mkdir -p /tmp/p12-unpack/$n; dpkg-deb -x "$f" /tmp/p12-unpack/$n; done
    D=/work/main/bench/data/twelfth; cd /tmp/p12-unpack
    mkdir -p $D/macaulay2 $D/emacs/tutorials $D/emacs/lisp
    cp -a macaulay2-common/usr/share/doc/Macaulay2/. $D/macaulay2/
    find $D/macaulay2 -type f ! -name "*.html" -delete; find $D/macaulay2 -type d -empty -delete
    cp emacs-common/usr/share/emacs/28.2/etc/tutorials/TUTORIAL* $D/emacs/tutorials/
    for d in net mail vc eshell erc textmodes; do
        cp -a emacs-el/usr/share/emacs/28.2/lisp/$d $D/emacs/lisp/; done
    find $D/emacs/lisp -type f ! -name "*.el.gz" -delete
    for p in kcalc step kalzium-data kstars-data; do (cd $p/usr/share/doc && find HTML \\
        -name index.cache.bz2 -exec cp --parents {} /work/main/bench/data/kde/ \\;); done
    .venv/bin/python bench/augment_twelfth.py [--rounds 3] [--rebuild] [--build-only] [--set key=JSON]

(Debian 12 "bookworm": macaulay2-common 1.21+ds-3, emacs-common and emacs-el
1:28.2+1-15+deb12u4, kcalc, step and kalzium-data 4:22.12.3-1, kstars-data 5:3.6.2-2.) The
KDE handbooks go beside the seventh pool's in ``bench/data/kde`` (``augment_seventh.
kde_pages`` reads them there; the seventh pool reads only its own applications, so it
does not change). The build takes ~30 seconds. Unpacked and not used: parley 22.12.3 (no
handbook in the package), r-cran-janeaustenr 1.0.0-1 (Jane Austen's novels, but as an R
lazy-load database: no R here to read it, so this pool has no literature). Emacs's
manuals, the Calc manual among them, are in ``emacs-common-non-dfsg`` (Debian non-free),
not read. No Debian 12 package with mathematics in a language other than English was
found beyond KCalc's handbook (English and 16 translations) and those the earlier pools read
(Scilab, Giac, LibreOffice, KDE's math handbooks, GNOME Calculator, libm man pages,
gretl, Genius); KCalc's Lithuanian and Serbian (Cyrillic and Latin) handbooks are left
out, as ``page_lang`` has no word list for them.

The recall defaults were tuned on the eleven earlier pools (``bench/augment.py``,
``augment_untuned.py``, ``augment_fresh.py``, ``augment_fourth.py`` to
``augment_eleventh.py``). This pool shares no package with any of them. Its math is
Macaulay2's documentation (English HTML, one page per function, option or topic: the
commutative-algebra and algebraic-geometry packages, like the issue's sympy seeds in
subject but not in form) and the KCalc handbook in 14 locales (13 languages: ``pt`` and
``pt_BR`` are both Portuguese). Its negatives are the other halves of the same
documentation (Macaulay2's language, I/O, system, package-writing and release-note pages
and its non-mathematical packages: text, XML, JSON, parsing, Python, documentation tools;
KCalc's introduction, memory, keys and questions pages), the KDE handbooks of Step
(physics simulator), Kalzium (periodic table) and KStars (planetarium) in up to 15
locales, the Emacs tutorial in 22 languages (English and 21 translations: Bulgarian,
Chinese (simplified and traditional), Czech, German, Esperanto, Spanish, French, Hebrew,
Italian, Japanese, Korean, Dutch, Polish, Portuguese, Romanian, Russian, Slovak,
Slovenian, Swedish, Thai) and Emacs Lisp code (a language no earlier pool has).

Documents are WHOLE pages (a Macaulay2 page, a handbook page, a source file); a page over
``a10.WHOLE`` (6,000) characters is cut by ``augment_seventh.pieces`` (up to 4,000) and
every piece takes its page's label; documents under 300 characters are dropped. The Emacs
tutorial is one file per language: its pieces are its documents. Documents are taken
evenly through each source in its order (``augment_untuned.spread``). Languages come from
the text (``page_lang``: ``augment_eleventh.page_lang``, with word lists and scripts for
the languages it lacks): a page of a translated handbook that is mostly English is left out
(its English original is read already).

At the build of 2026-12-05: 1,072 documents, 335 math (31%). Math: Macaulay2 280
(Macaulay2Doc 60; 220 from 131 other packages), KCalc 55 (4 each in ca, de, en, es, et,
fr, it, nl, ru, sv, uk, 3 in gl, 8 in pt: 4 pt and 4 pt_BR). Other: Macaulay2 190
(Macaulay2Doc 110, ``M2_OTHER`` packages 80), KCalc 104, KStars 98, Kalzium 72, Step 49,
Emacs tutorial 154 (7 per language), Emacs Lisp 70. By language (math/other): en 284/220,
pt 8/49, de, es, fr, it, nl, ru and sv 4/30 each, ca 4/23, uk 4/23, gl 3/22, et 4/18, pl
0/18, zh 0/14, bg, cs, eo, he, ja, ko, ro, sk, sl and th 0/7 each, code 0/70: 26
languages, math in 13 (12 besides English). 701 documents are whole pages; 371 are pieces
of the 199 pages over 6,000 characters that they come from (math: 69 pieces of 63 pages;
other: 302 of 136, among them the 22 Emacs tutorials). Lengths 317-5,945 characters (math
mean 1,963, other 2,344). Pages of 300 characters or more that ``page_lang`` found mostly
English and left out: KCalc gl 1 of 19, Kalzium gl 1 of 12; no other handbook page, no
tutorial piece.

Labels come from page, section and package names, fixed below before the build. The rule
for computing reference that is not about mathematics: pages on data handling, file and
network I/O, formats (text, XML, JSON, serialisation) and interfaces are "other"; pages on
plotting and graphics are "neither"; statistics counts as mathematics:

- **math** (the truth): Macaulay2Doc's pages under the table-of-contents sections on
  rings, ideals, matrices, maps between rings, modules, chain complexes, varieties,
  Groebner bases, normal forms, elimination, combinatorial functions, mathematical
  examples and basic commutative algebra (``M2DOC_TOC``); every page of every other
  Macaulay2 package except those of ``M2_OTHER`` and ``M2_NEITHER`` (the package names
  name algebra, geometry, combinatorics, numerical algebraic geometry, statistics:
  ``GraphicalModels``, ``Markov``, ``Probability``; statistics counts as mathematics, as in
  the eleventh pool); KCalc's pages on its science, statistics and numeral-system modes and
  percentages (``KCALC``).
- **neither** (left out): Macaulay2Doc's pages in no table-of-contents section (option
  names, method pages reached only by links) and those under "numeric types" and
  "operators" (arithmetic and bit operators beside the language's); the packages of
  ``M2_NEITHER`` (plotting and graphics, engine tests, TeX merging, physical units,
  licences); KCalc's pages on bitwise operators and its "comments on specific functions"
  index; KStars's AstroInfo pages (celestial coordinates, time, magnitudes: astronomy with
  formulas) and its astronomical calculator; Kalzium's tools page (molar mass and
  equation solver: chemistry with arithmetic).
- **other**: Macaulay2Doc's pages under getting started, the Macaulay2 language (strings,
  lists, hash tables, control flow, functions, classes and methods, printing, files,
  sockets, packages, writing documentation, threads, system facilities, debugging), the
  changes by version, how Macaulay2 finds its files, copyright and the authors
  (``M2DOC_TOC``); the packages of ``M2_OTHER`` (benchmarking, browsing, parsing, text,
  XML, JSON, Python and foreign-function interfaces, serialisation, documentation and
  package tools, citations, online lookup, running external M2); KCalc's other pages; every
  other page of the Step, Kalzium and KStars handbooks; the Emacs tutorials; Emacs Lisp
  files of the networking, mail, version control, shell, IRC and text-mode libraries
  (``ELISP_DIRS``: no calculator, calendar or games code).

Seeds: the bundled 60 sympy docstrings. The last line is ``ratio=<precision/0.9>``.
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import augment  # noqa: E402  (bench/augment.py: the stage writer and the recall runner)
import augment_eleventh as a11  # noqa: E402  (page_lang, cut)
import augment_seventh as a7  # noqa: E402  (kde_pages)
import augment_tenth as a10  # noqa: E402  (html_text, whole, ENGLISH)
import augment_untuned as au  # noqa: E402  (spread)

POOL = HERE / "data" / "augment" / "twelfth-pool.jsonl"
DATA = HERE / "data" / "twelfth"

# --- Macaulay2 1.21 documentation (HTML, one folder per package). Macaulay2Doc's pages
# take the label of the top section of its table of contents (toc.html) they are under;
# a page in no section is "neither". Under "The Macaulay2 language", the subsections of
# ``M2DOC_LANG_NEITHER`` are "neither". Fixed from the section titles before the build.
M2DOC_TOC = {
    "rings": "math", "ideals": "math", "matrices": "math",
    "substitution and maps between rings": "math", "modules": "math",
    "chain complexes": "math", "varieties": "math", "Gröbner bases": "math",
    "normal forms": "math", "elimination of variables": "math",
    "combinatorial functions": "math", "mathematical examples": "math",
    "basic commutative algebra": "math",
    "getting started": "other", "The Macaulay2 language": "other",
    "changes to Macaulay2, by version": "other", "how Macaulay2 finds its files": "other",
    "Copyright and license": "other", "The authors": "other",
}  # fmt: skip
M2DOC_LANG_NEITHER = ("numeric types", "operators")
# every other package is math (its name names its subject) but these
M2_OTHER = (
    "Benchmark", "Browse", "Classic", "FirstPackage", "ForeignFunctions", "JSON",
    "OnlineLookup", "OpenMath", "PackageCitations", "PackageTemplate", "Parsing", "Python",
    "RunExternalM2", "SCSCP", "Serialization", "SimpleDoc", "Style", "Text", "XML",
)  # fmt: skip
M2_NEITHER = (
    "Macaulay2Doc", "Graphics", "VectorGraphics", "Visualize", "EngineTests", "MergeTeX",
    "Units", "Licenses",
)  # fmt: skip
M2DOC_TAKE = {"math": 60, "other": 110}  # Macaulay2Doc documents, taken evenly
M2_PKG_TAKE = {"math": 220, "other": 80}  # documents of the other packages, taken evenly
# --- KDE handbooks (KDE Gear 22.12.3, KStars 3.6.2): the languages with a word list in
# ``page_lang`` (KCalc's lt, sr and sr@latin are left out)
KDE_LANGS = {"ca": "ca", "de": "de", "en": "en", "es": "es", "et": "et", "fr": "fr"}
KDE_LANGS |= {"gl": "gl", "it": "it", "nl": "nl", "pl": "pl", "pt": "pt", "pt_BR": "pt"}
KDE_LANGS |= {"ru": "ru", "sv": "sv", "uk": "uk"}
KCALC = {
    "science-mode": "math", "statistical-mode": "math", "numeral-system-mode": "math",
    "percent": "math",
    "comments-on-specific-functions": "neither", "lsh-rsh": "neither",
    "and-or-xor": "neither",
}  # fmt: skip  # every other KCalc page: "other"
OTHER_APPS = ("step", "kalzium", "kstars")
KDE_NEITHER = ("astroinfo", "tool-calculator", "tools")  # and KStars's "ai-*" pages
KDE_OTHER_PER_LANG = 16  # Step, Kalzium and KStars documents per language, taken evenly
# --- Emacs 28.2: the tutorial (one file per language) and Lisp libraries
TUTORIAL_LANGS = {
    "": "en", "bg": "bg", "cn": "zh", "cs": "cs", "de": "de", "eo": "eo", "es": "es",
    "fr": "fr", "he": "he", "it": "it", "ja": "ja", "ko": "ko", "nl": "nl", "pl": "pl",
    "pt_BR": "pt", "ro": "ro", "ru": "ru", "sk": "sk", "sl": "sl", "sv": "sv", "th": "th",
    "zh": "zh",
}  # fmt: skip
TUTORIAL_PER_LANG = 7
ELISP_DIRS = ("net", "mail", "vc", "eshell", "erc", "textmodes")
ELISP_DOCS = 70

# function words of the languages ``a11.page_lang`` has no list for
OWN = {
    "ca": set("el la els les de del és són i un una en per amb que dels al".split()),
    "gl": set("o a os as de do da dos das é son e un unha en para con que".split()),
    "nl": set("de het een en is zijn van in op met voor dat die niet te".split()),
    "et": set("ja on ei see et kui ka või mis selle need oma seda kas".split()),
    "pl": set("i w na z się jest do nie że to jak lub są od dla".split()),
    "ro": set("și în de la este sunt cu un o pe care nu că din pentru".split()),
    "sk": set("a je sú sa na v vo pre s z že to ako alebo k do".split()),
    "sl": set("in je so se na v za z da to ali pri ki ne od".split()),
    "eo": set("la kaj de en estas al por ne kun vi ke unu".split()),
}
CYRILLIC = re.compile(r"[\u0400-\u04ff]+")
LETTERS = {  # scripts without (Thai) or with few spaces: letters, not words, are counted
    "he": re.compile(r"[\u0590-\u05ff]"),
    "th": re.compile(r"[\u0e00-\u0e7f]"),
    "ko": re.compile(r"[\uac00-\ud7af]"),
}


def page_lang(text: str, lang: str) -> str:
    """``a11.page_lang`` for the languages it knows; for the others the same rule: "en"
    when English function words outnumber twice the language's own (``OWN``), 0.4 times
    its Cyrillic words (uk, bg), or its Hebrew, Thai or Hangul letters (``LETTERS``)."""
    if lang in ("en", "code", "ja", "zh") or lang in a11.OWN or lang in a11.SCRIPT:
        return a11.page_lang(text, lang)
    words = re.findall(r"[^\W\d_]+", text.lower())
    en = sum(w in a10.ENGLISH for w in words)
    if lang in LETTERS:
        return lang if len(LETTERS[lang].findall(text)) >= en else "en"
    if lang in ("uk", "bg"):
        own = len(CYRILLIC.findall(text)) * 0.2
    else:
        own = sum(w in OWN[lang] for w in words)
    return "en" if en > 2 * own else lang


def m2doc_labels() -> dict[str, str]:
    """Macaulay2Doc page file name -> label, from the nesting of its table of contents
    (``M2DOC_TOC``, ``M2DOC_LANG_NEITHER``); the first section a page is under wins."""
    raw = (DATA / "macaulay2" / "Macaulay2Doc" / "html" / "toc.html").read_text(encoding="utf-8")
    raw = raw[raw.find("<body") :]
    labels: dict[str, str] = {}
    depth, top, sub = 0, "", ""
    link = r'<(/?)ul>|<a (?:title="[^"]*" )?href="([^"]+)">(.*?)</a>'
    for m in re.finditer(link, raw, re.S):
        if m.group(0) in ("<ul>", "</ul>"):
            depth += 1 if m.group(0) == "<ul>" else -1
            continue
        href, title = m.group(2), a10.html_text(m.group(3))
        if depth == 2:
            top, sub = title, ""
        elif depth == 3:
            sub = title
        if depth < 2:
            continue
        label = M2DOC_TOC.get(top, "neither")
        if top == "The Macaulay2 language" and sub in M2DOC_LANG_NEITHER:
            label = "neither"
        labels.setdefault(href, label)
    return labels


def m2_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8", errors="replace")
    return a10.html_text(a11.cut(raw, "<hr/>", "</body>"))


def m2_docs(label: str) -> list[tuple[str, str, str]]:
    """Macaulay2 documents of ``label``: ``M2DOC_TAKE`` from Macaulay2Doc, ``M2_PKG_TAKE``
    from the other packages (pages in package and file-name order)."""
    root = DATA / "macaulay2"
    doc_labels = m2doc_labels()
    core, pkgs = [], []
    for path in sorted(root.glob("*/html/*.html")):
        pkg = path.parts[-3]
        if pkg == "Macaulay2Doc":
            if path.name != "toc.html" and doc_labels.get(path.name, "neither") == label:
                core += a10.whole(f"macaulay2:{pkg}/{path.stem}", m2_text(path), "en")
            continue
        lab = "other" if pkg in M2_OTHER else "neither" if pkg in M2_NEITHER else "math"
        if lab == label and path.name != "toc.html":
            pkgs += a10.whole(f"macaulay2:{pkg}/{path.stem}", m2_text(path), "en")
    return au.spread(core, M2DOC_TAKE[label]) + au.spread(pkgs, M2_PKG_TAKE[label])


def kde_label(app: str, page: str) -> str:
    if app == "kcalc":
        return KCALC.get(page, "other")
    return "neither" if page in KDE_NEITHER or page.startswith("ai-") else "other"


def kde_docs(app: str, lang: str, label: str) -> list[tuple[str, str, str]]:
    """Whole pages (or pieces) of ``label`` of ``app``'s handbook in ``lang`` written in
    that language (``page_lang``)."""
    code = KDE_LANGS[lang]
    docs = []
    for page, _, text in a7.kde_pages(lang, app):
        if kde_label(app, page) == label and page_lang(text, code) == code:
            docs += a10.whole(f"kde-{app}-{lang}:{page}", text, code)
    return docs


def kcalc_docs(label: str) -> list[tuple[str, str, str]]:
    return [d for lang in KDE_LANGS for d in kde_docs("kcalc", lang, label)]


def kde_other_docs() -> list[tuple[str, str, str]]:
    docs = []
    for lang in KDE_LANGS:
        got = [d for app in OTHER_APPS for d in kde_docs(app, lang, "other")]
        docs += au.spread(got, KDE_OTHER_PER_LANG)
    return docs


def tutorial_docs() -> list[tuple[str, str, str]]:
    """``TUTORIAL_PER_LANG`` pieces of the Emacs tutorial in each language, taken evenly
    (the Japanese one is ISO-2022-JP, the rest UTF-8)."""
    docs = []
    for suffix, lang in TUTORIAL_LANGS.items():
        path = DATA / "emacs" / "tutorials" / ("TUTORIAL" + (f".{suffix}" if suffix else ""))
        data = path.read_bytes()
        text = data.decode("iso2022_jp" if b"\x1b$B" in data else "utf-8", errors="replace")
        got = a10.whole(f"emacs-tutorial-{suffix or 'en'}:TUTORIAL", text.strip(), lang)
        docs += au.spread([d for d in got if page_lang(d[1], lang) == lang], TUTORIAL_PER_LANG)
    return docs


def elisp_docs() -> list[tuple[str, str, str]]:
    docs = []
    for d in ELISP_DIRS:
        for path in sorted((DATA / "emacs" / "lisp" / d).rglob("*.el.gz")):
            text = gzip.open(path, "rt", encoding="utf-8", errors="replace").read()
            rel = path.relative_to(DATA / "emacs" / "lisp").as_posix().removesuffix(".gz")
            docs += a10.whole(f"emacs-lisp:{rel}", text.strip(), "code")
    return au.spread(docs, ELISP_DOCS)


def math_docs() -> list[tuple[str, str, str]]:
    return m2_docs("math") + kcalc_docs("math")


def other_docs() -> list[tuple[str, str, str]]:
    docs = m2_docs("other") + kcalc_docs("other") + kde_other_docs()
    return docs + tutorial_docs() + elisp_docs()


def build(path: Path) -> None:
    augment.write_pool(path, math_docs(), other_docs(), "t")


def main() -> None:
    augment.pool_main("twelfth", POOL, build, __doc__)


if __name__ == "__main__":
    main()
