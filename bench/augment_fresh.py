"""Math recall on a third pool, built after both dev pools were used and reported once.

Usage (after ``bash bench/setup-eval.sh`` and ``apt-get install octave-doc pari-doc apcalc``):

    .venv/bin/python bench/augment_fresh.py [--rounds 3] [--rebuild] [--set key=JSON]

``bench/augment.py`` (LaTeX docstrings of six Python packages) and
``bench/augment_untuned.py`` (Maxima and GAP manuals) are the two dev pools the recall
defaults were tuned on. This pool shares no source with either; it was built, and its
truth labels fixed from chapter and section titles, before the defaults it measures were
frozen, and its figure is reported once (bench/RESULTS.md):

- **math** (the truth), 300 documents from three computer-algebra / numerical manuals:
  the GNU Octave manual (GNU info, ``octave-doc``: the chapters whose title names a
  mathematical subject, listed in ``OCTAVE_MATH``), the PARI/GP user's guide (TeX source,
  ``pari-doc``: the sections of chapter 3 and the chapters 6-8 on number theory, curves,
  L-functions and modular forms, ``PARI_MATH``) and the help pages of ``calc``
  (``apcalc``) for the mathematical functions in ``CALC_MATH``. 100 of each, taken
  evenly through the source.
- **other**: chapters of the *same* Octave manual on strings, errors, debugging, I/O, GUI
  and system utilities (layout shared with the math, subject not), GNU info manuals
  neither dev pool uses (sed, grep, gzip, wget, gnupg, gettext), man pages in ten languages
  neither dev pool has (da, fi, hr, hu, id, ko, ro, sl, sr, zh_TW), C headers of
  ``/usr/include``, Python code of packages neither dev pool reads (rich, pydantic, typer,
  click, jinja2, requests, urllib3, yaml) and the licence texts of
  ``/usr/share/common-licenses``.

Seeds: the bundled 60 sympy docstrings. The last line is ``ratio=<precision/0.9>``.
"""

from __future__ import annotations

import glob
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import augment  # noqa: E402  (bench/augment.py: the stage writer and the recall runner)
import augment_untuned as au  # noqa: E402  (chunks, info_chapters, spread)

POOL = HERE / "data" / "augment" / "fresh-pool.jsonl"
# Fixed from the chapter titles (printed by --titles) before any run.
OCTAVE_MATH = {17, 18, 20, 21, 23, 24, 25, 26, 28, 29, 30}
OCTAVE_OTHER = {5, 12, 13, 14, 35, 36}
PARI_CH3_MATH = (
    "Combinatorics", "Arithmetic functions", "Polynomials and power series",
    "Vectors, matrices, linear algebra and sets", "Transcendental functions",
    "Sums, products, integrals and similar functions", "General number fields",
    "Associative and central simple algebras", "Elliptic curves", "Hypergeometric Motives",
    "$L$-functions", "Modular forms", "Modular symbols",
)  # fmt: skip
PARI_MATH_FILES = ("usersch6.tex", "usersch7.tex", "usersch8.tex")
CALC_MATH = (
    "abs acos acosh acot acoth acsc acsch agd appr arg asec asech asin asinh atan atan2 atanh "
    "bernoulli catalan cfappr cfsim comb conj cos cosh cot coth csc csch det euler exp fact "
    "factor fcnt fib frem gcd gcdrem gd hypot ilog ilog10 ilog2 im inverse iroot isprime "
    "isqrt jacobi lcm lcmfact lfactor ln log lowbit mattrace minv mod nextcand nextprime norm "
    "perm pfact pi pix polar power prevcand prevprime ptest quomod re root round scale sec "
    "sech sin sinh sqrt tan tanh"
).split()
INFO_MANUALS = ("sed", "grep", "gzip", "wget", "gnupg", "gettext")
MAN_LANGS = ("da", "fi", "hr", "hu", "id", "ko", "ro", "sl", "sr", "zh_TW")
PY_PACKAGES = ("rich", "pydantic", "typer", "click", "jinja2", "requests", "urllib3", "yaml")


def octave(chapters: set[int]) -> list[tuple[str, str, str]]:
    docs = []
    for num, title, body in au.info_chapters(au.info_text("/usr/share/info/octave.info*.gz")):
        if num in chapters:
            for j, c in enumerate(au.chunks(body)):
                docs.append((f"octave-doc:{num}:{j}", f"{title}\n\n{c}" if j == 0 else c, "en"))
    return docs


def pari_docs() -> list[tuple[str, str, str]]:
    root = Path("/usr/share/pari/doc")
    docs = []
    ch3 = (root / "usersch3.tex").read_text(encoding="utf-8", errors="replace")
    for part in re.split(r"(?m)^\\section\{", ch3)[1:]:
        title = part.split("}", 1)[0] if not part.startswith("$") else part.split("}\n", 1)[0]
        if any(part.startswith(t + "}") for t in PARI_CH3_MATH):
            for j, c in enumerate(au.chunks(part)):
                docs.append((f"pari-doc:ch3:{title}:{j}", c, "en"))
    for name in PARI_MATH_FILES:
        text = (root / name).read_text(encoding="utf-8", errors="replace")
        docs += [(f"pari-doc:{name}:{j}", c, "en") for j, c in enumerate(au.chunks(text))]
    return docs


def calc_docs() -> list[tuple[str, str, str]]:
    docs = []
    for name in CALC_MATH:
        path = Path("/usr/share/calc/help") / name
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            docs += [
                (f"apcalc:{name}:{j}", c, "en") for j, c in enumerate(au.chunks(text, floor=200))
            ]
    return docs


def other_docs() -> list[tuple[str, str, str]]:
    import corpus_sources as cs

    docs = au.spread(octave(OCTAVE_OTHER), 100)
    for manual in INFO_MANUALS:
        text = au.info_text(f"/usr/share/info/{manual}.info*.gz")
        docs += au.spread([(f"{manual}:{j}", c, "en") for j, c in enumerate(au.chunks(text))], 40)
    for lang in MAN_LANGS:
        got = []
        for path in sorted(glob.glob(f"/usr/share/man/{lang}/man*/*.gz")):
            text = cs.cut(cs.render_man(path))
            if len(text) >= 400:
                got.append((f"man-{lang}:{Path(path).name}", text, lang.split("_")[0]))
        docs += au.spread(got, 40)
    headers = sorted(glob.glob("/usr/include/*.h"))
    docs += au.spread(
        [
            (f"include:{Path(p).name}", cs.cut(Path(p).read_text(errors="replace")), "code")
            for p in headers
        ],
        60,
    )  # noqa: E501
    site = (
        Path(sys.prefix)
        / "lib"
        / f"python{sys.version_info[0]}.{sys.version_info[1]}"
        / "site-packages"
    )  # noqa: E501
    for pkg in PY_PACKAGES:
        files = sorted((site / pkg).rglob("*.py"))
        got = [(f"py-{pkg}:{f.name}", cs.cut(f.read_text(errors="replace")), "code") for f in files]
        docs += au.spread([d for d in got if len(d[1]) >= 400], 15)
    for path in sorted(glob.glob("/usr/share/common-licenses/*")):
        if Path(path).is_file():
            text = Path(path).read_text(errors="replace")
            docs += [
                (f"licence:{Path(path).name}:{j}", c, "en") for j, c in enumerate(au.chunks(text))
            ][:8]  # noqa: E501
    return docs


def build(path: Path) -> None:
    math = au.spread(octave(OCTAVE_MATH), 100) + au.spread(pari_docs(), 100)
    math += au.spread(calc_docs(), 100)
    augment.write_pool(path, math, other_docs(), "f")


def main() -> None:
    augment.pool_main("fresh", POOL, build, __doc__)


if __name__ == "__main__":
    main()
