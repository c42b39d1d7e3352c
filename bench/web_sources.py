"""Good text for the web held-out set (``bench/webset.py``), from sources no filter was tuned on.

None of these packages feeds the bundled sample or ``bench/evalset.py``:

- GNOME user help (``gnome-user-docs``): Mallard pages in 32 languages, read as structured
  blocks (headings, paragraphs, steps, tables, code) so they can be rendered as HTML pages;
- dictionary entries from GCIDE (``dict-gcide``) and glossary pages from WordNet glosses
  (``wordnet-base``);
- licence texts: ``/usr/share/common-licenses`` and short ``/usr/share/doc/*/copyright`` files;
- code in languages no eval set holds: Guile Scheme (``guile-3.0-libs``) and Tcl (``tcl8.6``).

Every document carries a ``key``; ``split_of(key)`` puts it on the ``dev`` side (tune on it) or
the ``test`` side (report once), so the two sides never share a source file.
"""

from __future__ import annotations

import gzip
import random
import re
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field
from pathlib import Path

HELP = Path("/usr/share/help")
# Mallard language folder -> ISO 639-1 code used in the labels.
HELP_LANGS = {
    "C": "en", "ca": "ca", "cs": "cs", "da": "da", "de": "de", "el": "el", "es": "es",
    "fa": "fa", "fi": "fi", "fr": "fr", "he": "he", "hi": "hi", "hu": "hu", "id": "id",
    "it": "it", "ja": "ja", "ko": "ko", "nl": "nl", "pl": "pl", "pt_BR": "pt", "ro": "ro",
    "ru": "ru", "sv": "sv", "tr": "tr", "uk": "uk", "vi": "vi", "zh_CN": "zh",
}  # fmt: skip
_NS = re.compile(r"\{[^}]*\}")
_WS = re.compile(r"\s+")


@dataclass
class Source:
    """One good document as blocks: (tag, text) with tag h1|h2|p|li|pre|tr (tr: cells by \\t)."""

    key: str
    lang: str | None
    kind: str  # help | dictionary | glossary | licence | code
    blocks: list[tuple[str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(t for _, t in self.blocks)


def split_of(key: str) -> str:
    """'dev' for one source file in two, 'test' otherwise (salted apart from evalset's split)."""
    return "dev" if zlib.crc32(("webheur:" + key).encode()) % 2 == 0 else "test"


def _text(el: ET.Element) -> str:
    return _WS.sub(" ", "".join(el.itertext())).strip()


def _mallard_blocks(el: ET.Element, out: list[tuple[str, str]], depth: int = 1) -> None:
    for child in el:
        tag = _NS.sub("", child.tag)
        if tag in ("info", "links", "comment", "media", "include"):
            continue
        if tag == "title":
            if t := _text(child):
                out.append((f"h{min(depth, 2)}", t))
        elif tag == "p":
            if t := _text(child):
                out.append(("p", t))
        elif tag in ("screen", "code", "synopsis") and child.text:
            out.append(("pre", "".join(child.itertext()).strip("\n")))
        elif tag == "item" and _NS.sub("", el.tag) in ("steps", "list", "terms"):
            if t := _text(child):
                out.append(("li", t))
        elif tag == "tr":
            cells = [_text(c) for c in child if _NS.sub("", c.tag) in ("td", "th")]
            if any(cells):
                out.append(("tr", "\t".join(cells)))
        else:
            _mallard_blocks(child, out, depth + (tag == "section"))


_EN = frozenset("the of and to is that for it with you are this your can be on".split())


def _english_share(text: str) -> float:
    words = re.findall(r"[a-z]+", text.lower())
    n_cjk = len(re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]", text))
    n_words = len(re.findall(r"[^\W\d_\u3040-\u30ff\u4e00-\u9fff]+", text)) + n_cjk / 1.5
    return sum(w in _EN for w in words) / max(n_words, 1)


def help_docs(split: str, min_words: int = 80) -> list[Source]:
    """GNOME help pages of every language, with enough text to be a document."""
    docs = []
    for folder, lang in HELP_LANGS.items():
        for path in sorted((HELP / folder / "gnome-help").glob("*.page")):
            key = f"gnome-help:{path.name}"  # a page and its translations share a side
            if split_of(key) != split:
                continue
            try:
                root = ET.parse(path).getroot()
            except ET.ParseError:
                continue
            blocks: list[tuple[str, str]] = []
            _mallard_blocks(root, blocks)
            if lang != "en":  # drop the paragraphs the translators have not reached yet
                blocks = [b for b in blocks if b[0] == "pre" or _english_share(b[1]) < 0.15]
            src = Source(f"{key}:{lang}", lang, "help", blocks)
            text = src.text
            n_cjk = len(re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]", text))
            if lang != "en" and _english_share(text) > 0.05:
                continue  # an untranslated page: English text in another language's folder
            if len(text.split()) + n_cjk // 2 >= min_words:
                docs.append(src)
    return docs


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _b64int(s: str) -> int:
    n = 0
    for c in s:
        n = n * 64 + _B64.index(c)
    return n


def gcide_docs(split: str, n: int, rng: random.Random) -> list[Source]:
    """Dictionary pages: one headword's GCIDE entries, as a web dictionary shows them."""
    index = [
        ln.rstrip("\n").split("\t") for ln in open("/usr/share/dictd/gcide.index", encoding="utf-8")
    ]
    index = [r for r in index if len(r) == 3 and not r[0].startswith("00-")]
    data = gzip.open("/usr/share/dictd/gcide.dict.dz").read()
    docs: list[Source] = []
    for word, off, size in rng.sample(index, min(len(index), n * 12)):
        key = f"gcide:{word.lower()}"
        if split_of(key) != split:
            continue
        body = data[_b64int(off) : _b64int(off) + _b64int(size)].decode("utf-8", "replace")
        paras = [_WS.sub(" ", p).strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
        if sum(len(p.split()) for p in paras) < 40:
            continue
        blocks = [("h1", word)] + [("p", p) for p in paras]
        docs.append(Source(key, "en", "dictionary", blocks))
        if len(docs) >= n:
            break
    return docs


def wordnet_docs(split: str, n: int, rng: random.Random) -> list[Source]:
    """Glossary pages: 8-20 consecutive WordNet noun synsets as 'term: gloss' entries."""
    lines = [ln for ln in open("/usr/share/wordnet/data.noun", encoding="utf-8") if ln[0].isdigit()]
    docs: list[Source] = []
    for start in rng.sample(range(0, len(lines) - 30, 30), n * 3):
        key = f"wordnet:noun:{start}"
        if split_of(key) != split:
            continue
        blocks: list[tuple[str, str]] = [("h1", "Glossary")]
        for ln in lines[start : start + rng.randint(8, 20)]:
            head, _, gloss = ln.partition("|")
            parts = head.split()
            words = [parts[4 + 2 * i].replace("_", " ") for i in range(int(parts[3], 16))]
            blocks.append(("p", f"{', '.join(words)}: {gloss.strip()}"))
        docs.append(Source(key, "en", "glossary", blocks))
        if len(docs) >= n:
            break
    return docs


def licence_docs(split: str, max_chars: int = 4000) -> list[Source]:
    """Short licence texts and Debian copyright files (paragraph blocks)."""
    paths = sorted(Path("/usr/share/common-licenses").iterdir())
    paths += sorted(Path("/usr/share/doc").glob("*/copyright"))
    docs = []
    for path in paths:
        key = f"licence:{path}"
        if split_of(key) != split or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        if not 300 <= len(text) <= max_chars:
            continue
        paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        docs.append(
            Source(key, "en", "licence", [("pre" if "\n " in p else "p", p) for p in paras])
        )
    return docs


def code_docs(split: str, max_chars: int = 5000) -> list[Source]:
    """Guile Scheme and Tcl source files, shown in a <pre> block as code pages show them."""
    paths = sorted(Path("/usr/share/guile/3.0").rglob("*.scm"))
    paths += sorted(Path("/usr/share/tcltk").rglob("*.tcl"))
    docs = []
    for path in paths:
        key = f"code:{path}"
        if split_of(key) != split:
            continue
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        if len(text) < 400:
            continue
        text = text[:max_chars].rsplit("\n", 1)[0]
        docs.append(Source(key, None, "code", [("h1", path.name), ("pre", text)]))
    return docs
