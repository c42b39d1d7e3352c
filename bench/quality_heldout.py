"""Held-out labelled corpus for measuring a text-quality scorer (good vs machine-made junk).

Why: the scorer was tuned on another labelled corpus; this one is built from Debian 12
packages that no other bench/ script uses and from junk designs written independently,
so a figure measured on it is not inflated by tuning.

Usage (no root needed; only the Debian mirror is used):

    mkdir -p /tmp/qh-debs && cd /tmp/qh-debs
    apt-get download debian-handbook debian-history debian-faq \\
        debian-faq-ru debian-faq-zh-cn developers-reference developers-reference-de \\
        developers-reference-ja gnu-standards postgresql-doc-15 git-doc perl-doc \\
        ocaml lua-penlight
    mkdir -p x && for f in *.deb; do dpkg-deb -x "$f" x; done
    cd /path/to/qurate
    python bench/quality_heldout.py --root /tmp/qh-debs/x \\
        --out bench/data/quality-heldout --seed 20240611

Outputs (bench/data/ is git-ignored):
    corpus.jsonl  {"id": "qh-00000", "text": ..., "source": ...}
    labels.jsonl  {"id", "label": "good"|"junk", "junk_type" (null for good),
                   "lang" (ISO 639-1, or "code"), "provenance"}
Rows are shuffled so good and junk interleave.  Same seed + same packages -> same bytes.

Sources (Debian 12 "bookworm"; the four kinds asked for):
    documentation  debian-handbook (sections; en de fr es it pt ru ja zh ko),
                   debian-faq (+ -ru, -zh-cn), developers-reference (+ -de, -ja),
                   gnu-standards (GNU Coding Standards / Information for Maintainers)
    narrative      debian-history (Debian project history incl. the Debian Manifesto,
                   10 languages) and the handbook's narrative chapters (foreword,
                   preface, the Debian project, case study, conclusion)
    reference      postgresql-doc-15 (SQL command and function reference pages),
                   git-doc (git command reference pages), perl-doc (perl*.pod)
    code           ocaml (OCaml standard library *.ml, shared licence banner removed,
                   generated *Labels.ml skipped) and lua-penlight (*.lua)
Licences: all are DFSG-free (GPL-2+/GFDL without invariant sections for debian-handbook,
debian-history and the Debian docs; GFDL for gnu-standards; PostgreSQL licence;
GPL-2 for git-doc; Artistic/GPL for perl-doc; LGPL-2.1 with linking exception for the
OCaml stdlib; MIT for Penlight).  See each package's /usr/share/doc/*/copyright.
The corpus is for local measurement only and is not redistributed.

Documents: every source unit (an HTML page, a section split at its headings, a pod
section, a source file) becomes plain text (stdlib html.parser, navigation / tables of
contents / footers dropped), kept if 300..12000 characters after cutting long ones at a
paragraph boundary, and kept only if it is really in the language its path claims
(script share for ru/ja/zh/ko, stop-word count for Latin-script languages: untranslated
handbook pages fall back to English).  Each unit is assigned by a SHA-1 of its id to a
good half or a junk half; junk is made only from the junk half, so no good document shares
a source unit with any junk document.

Junk types (about 40-50 each; lengths drawn from good documents of the same language):
    stitch      paragraphs from 3-7 unrelated junk-half documents of one language
                concatenated into one page (a content farm's scraped collage).
    shuffle     one real document whose sentences are put in random order and re-cut
                into paragraphs of the original sizes (sentence scramble).
    spin        "article spinner": ~40% of words replaced by a different word of the
                same frequency class and similar length from the language's junk-half
                vocabulary (CJK: ~30% of 2-character chunks), punctuation and layout kept.
    snippet     search-result / tag-page farm: a keyword from the language's vocabulary,
                then repeated blocks of [real heading] + 1-2 real sentences containing
                the keyword cut with an ellipsis, from many documents.
    noise       scraper / OCR-style corruption: random words dropped (~18%), words and
                short phrases duplicated (~10%), and adjacent words swapped (~8%,
                word-order errors like word-by-word machine translation).
    code_splice source code: runs of 2-8 lines taken from 4-8 unrelated source files of
                the same language and concatenated (indentation kept, nothing compiles).
Seed: --seed (default 20240611) drives every random choice; ids follow the shuffled order.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import math
import random
import re
import unicodedata
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

SEED = 20240611
MIN_CHARS, MAX_CHARS = 300, 12000
N_GOOD = 450
JUNK_PLAN = {
    "stitch": 45,
    "shuffle": 40,
    "spin": 45,
    "snippet": 35,
    "noise": 40,
    "code_splice": 45,
}

# --------------------------------------------------------------------------- html -> text

BLOCK = {
    "p", "div", "section", "article", "li", "ul", "ol", "dl", "dt", "dd", "table", "tr",
    "blockquote", "br", "hr", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "title",
    "figure", "figcaption", "caption", "td", "th",
}  # fmt: skip
SKIP_TAGS = {"script", "style", "head", "noscript", "svg", "math"}
SKIP_ATTR = re.compile(
    r"(^|[\s_-])(nav\w*|toc|banner|docnav|footer|header|breadcrumbs?|related|"
    r"sphinxsidebar|headerlink|sidebar-toc|footnotes-not|skip|searchbox|"
    r"navheader|navfooter|site_footer|lists-of-|titlepage-nav|admon-img)($|[\s_-])",
    re.I,
)
VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr", "source"}


class _Blocks(HTMLParser):
    """Collect (kind, level, text) blocks: kind 'h' (heading level 1-6), 'p' or 'pre'."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, int, str]] = []
        self.buf: list[str] = []
        self.skip: list[str] = []  # stack of open tags inside a skipped subtree
        self.pre = 0
        self.head: int = 0

    def _flush(self) -> None:
        raw = "".join(self.buf)
        self.buf = []
        if self.pre:
            text = raw.strip("\n")
            kind = "pre"
        else:
            text = re.sub(r"\s+", " ", raw).strip()
            kind = "h" if self.head else "p"
        if text:
            self.blocks.append((kind, self.head, text))

    def handle_starttag(self, tag, attrs):
        if self.skip:
            if tag not in VOID:
                self.skip.append(tag)
            return
        a = dict(attrs)
        marker = " ".join(filter(None, [a.get("class"), a.get("id"), a.get("role")]))
        if tag in SKIP_TAGS or (marker and SKIP_ATTR.search(marker)):
            if tag not in VOID:
                self.skip.append(tag)
            return
        if tag in BLOCK:
            self._flush()
        if tag == "pre":
            self.pre += 1
        if re.fullmatch(r"h[1-6]", tag):
            self.head = int(tag[1])

    def handle_startendtag(self, tag, attrs):
        if not self.skip and tag in BLOCK:
            self._flush()

    def handle_endtag(self, tag):
        if self.skip:
            # pop up to the matching tag (tolerates sloppy HTML)
            if tag in self.skip:
                while self.skip and self.skip.pop() != tag:
                    pass
            return
        if tag in BLOCK:
            self._flush()
        if tag == "pre" and self.pre:
            self.pre -= 1
        if re.fullmatch(r"h[1-6]", tag):
            self.head = 0

    def handle_data(self, data):
        if not self.skip:
            self.buf.append(data)

    def close(self):
        super().close()
        self._flush()


def html_blocks(path: Path) -> list[tuple[str, int, str]]:
    p = _Blocks()
    p.feed(path.read_text("utf-8", errors="replace"))
    p.close()
    return [(k, lv, t.replace("¶", "").strip()) for k, lv, t in p.blocks if t.strip("¶ ")]


def blocks_text(blocks) -> str:
    return "\n\n".join(t for _, _, t in blocks)


def split_sections(blocks, level: int):
    """Split blocks at headings of level <= `level`; yields (title, blocks)."""
    cur: list = []
    title = ""
    for b in blocks:
        if b[0] == "h" and b[1] <= level and cur:
            yield title, cur
            cur = []
        if b[0] == "h" and b[1] <= level:
            title = b[2]
        cur.append(b)
    if cur:
        yield title, cur


# --------------------------------------------------------------------------- language checks

STOP = {
    "en": "the of and to in is that for it with as are be this on by or not".split(),
    "de": "der die und in den von zu das mit sich des auf für ist im nicht ein eine".split(),
    "fr": "le la les de des et est un une du en que qui dans pour pas sur par".split(),
    "es": "el la los las de del y en que es un una por para con se no su".split(),
    "it": "il la le di del e che è un una per con non si da della dei gli".split(),
    "pt": "o a os as de do da e que é um uma para com não se em no na".split(),
    "lt": "ir yra kad su iš kaip į buvo bet ar jo tai Debian".split(),
}


def script_share(text: str) -> dict[str, float]:
    c: Counter = Counter()
    n = 0
    for ch in text:
        if not ch.isalpha():
            continue
        n += 1
        o = ord(ch)
        if 0x0400 <= o <= 0x04FF:
            c["cyr"] += 1
        elif 0x3040 <= o <= 0x30FF:
            c["kana"] += 1
        elif 0x4E00 <= o <= 0x9FFF:
            c["han"] += 1
        elif 0xAC00 <= o <= 0xD7AF:
            c["hangul"] += 1
        elif o < 0x250:
            c["latin"] += 1
    return {k: v / max(n, 1) for k, v in c.items()}


def is_lang(text: str, lang: str) -> bool:
    if lang == "code":
        return True
    s = script_share(text)
    if lang == "ru":
        return s.get("cyr", 0) > 0.5
    if lang == "ja":
        return s.get("kana", 0) > 0.08 and s.get("kana", 0) + s.get("han", 0) > 0.35
    if lang == "zh":
        return s.get("han", 0) > 0.35 and s.get("kana", 0) < 0.01
    if lang == "ko":
        return s.get("hangul", 0) > 0.35
    words = re.findall(r"\w+", text.lower())
    if len(words) < 40:
        return False
    cnt = Counter(words)
    own = sum(cnt[w] for w in STOP.get(lang, ()))
    eng = sum(cnt[w] for w in STOP["en"])
    if lang == "en":
        return own / len(words) > 0.12
    return own / len(words) > 0.08 and own > 1.5 * eng


# --------------------------------------------------------------------------- units


def cut(text: str) -> str | None:
    text = re.sub(r"\n{3,}", "\n\n", text.strip())
    text = unicodedata.normalize("NFC", text)
    if len(text) > MAX_CHARS:
        paras = text.split("\n\n")
        out, n = [], 0
        for p in paras:
            if n + len(p) + 2 > MAX_CHARS:
                break
            out.append(p)
            n += len(p) + 2
        text = "\n\n".join(out)
    return text if MIN_CHARS <= len(text) <= MAX_CHARS else None


class Pool:
    def __init__(self) -> None:
        self.units: list[dict] = []
        self.seen: set[str] = set()

    def add(self, uid, text, *, lang, kind, package, file, group):
        text = cut(text) if text else None
        if not text or uid in self.seen or not is_lang(text, lang):
            return
        h = hashlib.sha1(text.encode()).hexdigest()
        if h in self.seen:
            return
        self.seen.update((uid, h))
        self.units.append(
            dict(
                uid=uid,
                text=text,
                lang=lang,
                kind=kind,
                package=package,
                file=file,
                group=group,
                half="good" if int(hashlib.sha1(uid.encode()).hexdigest(), 16) % 2 else "junk",
            )
        )


HB_LANGS = {
    "en-US": "en", "de-DE": "de", "fr-FR": "fr", "es-ES": "es", "it-IT": "it",
    "pt-BR": "pt", "ru-RU": "ru", "ja-JP": "ja", "zh-CN": "zh", "ko-KR": "ko",
}  # fmt: skip
HIST_LANGS = ["en", "de", "fr", "es", "it", "pt", "ru", "ja", "ko", "lt"]


def collect(root: Path) -> Pool:
    pool = Pool()
    doc = root / "usr/share/doc"

    # debian-handbook: one unit per page
    for dirn, lang in HB_LANGS.items():
        d = doc / "debian-handbook/html" / dirn
        for f in sorted(d.glob("*.html")):
            if f.name in {"index.html", "ix01.html"}:
                continue
            bl = html_blocks(f)
            bl = [b for b in bl if not b[2].startswith("Download the ebook")]
            narrative = f.stem in {"foreword", "preface", "debian-project", "case-study",
                                   "sect.acknowledgments", "sect.what-is-debian",
                                   "sect.foundation-documents", "sect.debian-internals",
                                   "sect.follow-debian-news", "sect.role-of-distributions",
                                   "sect.lifecycle-of-release", "conclusion"}  # fmt: skip
            pool.add(
                f"hb/{dirn}/{f.stem}",
                blocks_text(bl),
                lang=lang,
                kind="narrative" if narrative else "documentation",
                package="debian-handbook",
                file=f"{dirn}/{f.name}",
                group="handbook",
            )

    # debian-history: split chapters at h2/h3 sections
    hd = doc / "debian-history/docs"
    for lang in HIST_LANGS:
        for f in sorted(hd.glob(f"*.{lang}.html")):
            if f.name.startswith("index."):
                continue
            for i, (_, sec) in enumerate(split_sections(html_blocks(f), 3)):
                pool.add(
                    f"hist/{f.name}/{i}",
                    blocks_text(sec),
                    lang=lang,
                    kind="narrative",
                    package="debian-history",
                    file=f.name,
                    group="history",
                )

    # debian-faq (en pages; ru and zh-cn single-page) split at sections
    for f, lang, pkg in (
        [(p, "en", "debian-faq") for p in sorted((doc / "debian/FAQ").glob("*.en.html"))]
        + [(p, "ru", "debian-faq-ru") for p in sorted((doc / "debian/FAQ/ru").glob("*.html"))]
        + [(p, "zh", "debian-faq-zh-cn") for p in sorted((doc / "debian/FAQ/zh-cn").glob("*.html"))]
    ):  # fmt: skip
        for i, (_, sec) in enumerate(split_sections(html_blocks(f), 3)):
            pool.add(f"faq/{lang}/{f.name}/{i}", blocks_text(sec), lang=lang,
                     kind="documentation", package=pkg, file=f.name, group="faq")  # fmt: skip

    # developers-reference (sphinx) split at h2
    dr = root / "usr/share/developers-reference"
    for sub, lang, pkg in [("", "en", "developers-reference"),
                           ("de", "de", "developers-reference-de"),
                           ("ja", "ja", "developers-reference-ja")]:  # fmt: skip
        for f in sorted((dr / sub).glob("*.html")):
            if f.name in {
                "index.html",
                "search.html",
                "genindex.html",
                "developers-reference.html",
            }:
                continue
            for i, (_, sec) in enumerate(split_sections(html_blocks(f), 2)):
                pool.add(f"devref/{lang}/{f.name}/{i}", blocks_text(sec), lang=lang,
                         kind="documentation", package=pkg, file=f.name, group="devref")  # fmt: skip

    # gnu-standards: single-page html split at h3
    for name in ["standards.html", "maintain.html"]:
        f = doc / "gnu-standards" / name
        for i, (_, sec) in enumerate(split_sections(html_blocks(f), 3)):
            pool.add(f"gnu/{name}/{i}", blocks_text(sec), lang="en", kind="documentation",
                     package="gnu-standards", file=name, group="gnu")  # fmt: skip

    # postgresql-doc-15: one reference page per file
    for f in sorted((doc / "postgresql-doc-15/html").glob("*.html")):
        if not re.match(
            r"(sql-|functions-|app-|datatype-|ddl-|queries-|plpgsql-|indexes-)", f.name
        ):
            continue
        pool.add(f"pg/{f.stem}", blocks_text(html_blocks(f)), lang="en", kind="reference",
                 package="postgresql-doc-15", file=f.name, group="pg")  # fmt: skip

    # git-doc: command reference pages
    for f in sorted((doc / "git-doc").glob("git*.html")):
        pool.add(f"git/{f.stem}", blocks_text(html_blocks(f)), lang="en", kind="reference",
                 package="git-doc", file=f.name, group="git")  # fmt: skip

    # perl-doc: pod, split at =head1/=head2
    for f in sorted((root / "usr/share/perl").glob("5.*/pod/perl*.pod")):
        if "delta" in f.name or f.name in {"perltoc.pod", "perlapi.pod", "perlintern.pod"}:
            continue
        for i, sec in enumerate(pod_sections(f.read_text("utf-8", errors="replace"))):
            pool.add(f"pod/{f.stem}/{i}", sec, lang="en", kind="reference", package="perl-doc",
                     file=f.name, group="pod")  # fmt: skip

    # code: OCaml stdlib, Penlight
    for f in sorted((root / "usr/lib/ocaml").glob("*.ml")):
        if "Labels" in f.name:  # generated near-copies of list.ml, array.ml, ...
            continue
        pool.add(f"ml/{f.name}", code_text(f), lang="code", kind="code", package="ocaml",
                 file=f.name, group="ocaml")  # fmt: skip
    for f in sorted((root / "usr/share/lua").rglob("*.lua")):
        rel = f.relative_to(root / "usr/share/lua")
        pool.add(f"lua/{rel}", code_text(f), lang="code", kind="code", package="lua-penlight",
                 file=str(rel), group="lua")  # fmt: skip
    return pool


def code_text(f: Path) -> str:
    t = f.read_text("utf-8", errors="replace").replace("\t", "    ")
    t = "\n".join(line.rstrip() for line in t.splitlines())
    # the OCaml stdlib's shared LGPL banner would make short files near-duplicates
    t = re.sub(r"\A\s*\(\*{20,}\*\)\n.*?\n\(\*{20,}\*\)\n", "", t, flags=re.S)
    return re.sub(r"\n{3,}", "\n\n", t)


POD_CODES = re.compile(r"[BCIFLSEXZ]<<+\s(.*?)\s>+>|[BCIFLSXZ]<([^<>]*)>")


def pod_inline(s: str) -> str:
    for _ in range(4):
        s = POD_CODES.sub(lambda m: (m.group(1) or m.group(2) or "").split("|")[0], s)
    return html.unescape(s.replace("E<lt>", "<").replace("E<gt>", ">"))


def pod_sections(text: str):
    cur: list[str] = []
    out = []
    for para in re.split(r"\n\s*\n", text):
        if para.startswith("=head1") or para.startswith("=head2"):
            if cur:
                out.append("\n\n".join(cur))
            cur = [pod_inline(para.split(None, 1)[1] if " " in para else "")]
        elif para.startswith("=item"):
            cur.append(pod_inline(para[5:].strip()))
        elif para.startswith("="):
            continue
        elif para[:1] in " \t":
            cur.append(para)  # verbatim
        else:
            cur.append(pod_inline(re.sub(r"\s*\n\s*", " ", para.strip())))
    if cur:
        out.append("\n\n".join(cur))
    return out


# --------------------------------------------------------------------------- good sample

GOOD_QUOTA = {
    "handbook": 120, "history": 77, "faq": 45, "devref": 35, "gnu": 20,
    "pg": 45, "git": 30, "pod": 30, "ocaml": 40, "lua": 20,
}  # fmt: skip


def round_robin(units, n, rng):
    """n units spread evenly over languages (then files), in seeded order."""
    by: dict[str, list] = defaultdict(list)
    for u in units:
        by[u["lang"]].append(u)
    for v in by.values():
        rng.shuffle(v)
    out = []
    langs = sorted(by)
    while len(out) < n and any(by.values()):
        for lg in langs:
            if by[lg] and len(out) < n:
                out.append(by[lg].pop())
    return out


def pick_good(units, rng):
    good = []
    for g, n in GOOD_QUOTA.items():
        cand = [u for u in units if u["half"] == "good" and u["group"] == g]
        good += round_robin(cand, n, rng)
    return good


# --------------------------------------------------------------------------- junk helpers

CJK = {"ja", "zh"}
SENT_END = re.compile(r"(?<=[.!?。！？])(?:\s+|(?=[^\s.!?。！？」』）)\"']))")
WORD = re.compile(r"\w+", re.U)
CJK_RUN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]+")


def paragraphs(text):
    return [p for p in text.split("\n\n") if p.strip()]


def sentences(text, lang):
    out = []
    for p in paragraphs(text):
        if lang in CJK:
            out += [s for s in re.split(r"(?<=[。！？])", p) if s.strip()]
        else:
            out += [s for s in SENT_END.split(p) if s.strip()]
    return out


def prose_para(p):
    """A paragraph that reads as prose (not a title, not a code listing)."""
    return len(p) > 80 and "\n" not in p.strip()


def tokens(text, lang):
    """Split into (is_word, piece) keeping every character; CJK words = 2-char chunks."""
    out = []
    pat = CJK_RUN if lang in CJK else WORD
    pos = 0
    for m in pat.finditer(text):
        if m.start() > pos:
            out.append((False, text[pos : m.start()]))
        w = m.group()
        if lang in CJK:
            out += [(True, w[i : i + 2]) for i in range(0, len(w), 2)]
        else:
            out.append((True, w))
        pos = m.end()
    if pos < len(text):
        out.append((False, text[pos:]))
    return out


def trim_to(text, n):
    """Cut a text near n characters at a paragraph (else sentence/space) boundary."""
    if len(text) <= n:
        return text
    paras = paragraphs(text)
    out, k = [], 0
    for p in paras:
        if k and k + len(p) > n:
            break
        out.append(p)
        k += len(p) + 2
    t = "\n\n".join(out)
    if len(t) > n * 1.3:
        t = t[:n]
        t = t[: max(t.rfind(" "), t.rfind("。"), n // 2)].rstrip() + "."
    return t


class JunkMaker:
    def __init__(self, junk_units, good_lens, rng):
        self.rng = rng
        self.by_lang: dict[str, list] = defaultdict(list)
        for u in junk_units:
            self.by_lang[u["lang"]].append(u)
        self.good_lens = good_lens
        self.used: set[str] = set()
        self.used_para: set[str] = set()
        self.vocab: dict[str, dict] = {}

    def length(self, lang):
        lens = self.good_lens.get(lang) or self.good_lens["en"]
        return max(MIN_CHARS + 100, min(MAX_CHARS, self.rng.choice(lens)))

    def fresh_unit(self, lang, min_len=0):
        """An unused junk-half unit of the language, spread over source groups."""
        cand = [u for u in self.by_lang[lang] if u["uid"] not in self.used and u["kind"] != "code"]
        big = [u for u in cand if len(u["text"]) >= min_len] or cand
        groups = sorted({u["group"] for u in big})
        g = self.rng.choice(groups)
        u = self.rng.choice([u for u in big if u["group"] == g])
        self.used.add(u["uid"])
        return u

    # ---- vocabulary with frequency classes (for spin / snippet)
    def vocab_for(self, lang):
        if lang not in self.vocab:
            c: Counter = Counter()
            for u in self.by_lang[lang]:
                c.update(w for isw, w in tokens(u["text"], lang) if isw)
            classes: dict[tuple, list] = defaultdict(list)
            for w, n in c.items():
                if not any(ch.isdigit() or ch == "_" for ch in w):
                    classes[(int(math.log2(n)), min(len(w), 12) // 3)].append(w)
            for v in classes.values():
                v.sort()
            self.vocab[lang] = {"count": c, "classes": classes}
        return self.vocab[lang]

    # ---- the junk types
    def stitch(self, lang):
        target = self.length(lang)
        parts, srcs, k = [], [], 0
        pool = [u for u in self.by_lang[lang] if u["kind"] != "code"]
        tries = 0
        while k < target and tries < 200:
            tries += 1
            u = self.rng.choice(pool)
            if u["uid"] in srcs:
                continue
            ps = [p for p in paragraphs(u["text"]) if prose_para(p) and p not in self.used_para]
            if not ps:
                continue
            i = self.rng.randrange(len(ps))
            take = ps[i : i + self.rng.randint(1, 2)]
            self.used_para.update(take)
            parts += take
            srcs.append(u["uid"])
            k += sum(len(p) + 2 for p in take)
        return "\n\n".join(parts), srcs

    def shuffle(self, lang):
        target = self.length(lang)
        u = self.fresh_unit(lang, min_len=target)
        text = trim_to(u["text"], target)
        paras = [p for p in paragraphs(text) if prose_para(p)] or paragraphs(text)
        sents = [s.strip() for p in paras for s in sentences(p, lang)]
        self.rng.shuffle(sents)
        sizes = [max(1, len(sentences(p, lang))) for p in paras]
        joiner = "" if lang in CJK else " "
        out, i = [], 0
        for n in sizes:
            if i >= len(sents):
                break
            out.append(joiner.join(sents[i : i + n]))
            i += n
        if i < len(sents):
            out.append(joiner.join(sents[i:]))
        return "\n\n".join(out), [u["uid"]]

    def spin(self, lang):
        target = self.length(lang)
        u = self.fresh_unit(lang, min_len=target)
        text = trim_to(u["text"], target)
        v = self.vocab_for(lang)
        out = []
        for isw, w in tokens(text, lang):
            if (
                isw
                and self.rng.random() < (0.3 if lang in CJK else 0.4)
                and not any(ch.isdigit() for ch in w)
            ):
                n = v["count"][w.lower()] or v["count"][w] or 1
                cls = v["classes"].get((int(math.log2(n)), min(len(w), 12) // 3))
                if cls and len(cls) > 1:
                    r = self.rng.choice(cls)
                    if w[:1].isupper() and lang not in CJK:
                        r = r[:1].upper() + r[1:]
                    w = r
            out.append(w)
        return "".join(out), [u["uid"]]

    def noise(self, lang):
        target = self.length(lang)
        u = self.fresh_unit(lang, min_len=target)
        text = trim_to(u["text"], target)
        toks = tokens(text, lang)
        out: list[str] = []
        i = 0
        while i < len(toks):
            isw, w = toks[i]
            r = self.rng.random()
            if isw and r < 0.18:
                i += 1  # dropped word (its following separator stays)
                if lang not in CJK and i < len(toks) and not toks[i][0] and toks[i][1] == " ":
                    i += 1
                continue
            if isw and r < 0.28:
                sep = "" if lang in CJK else " "
                span = [t for _, t in toks[i : i + self.rng.choice([1, 1, 3])]]
                out.append("".join(span) + sep)  # duplicated word / phrase
            if isw and r < 0.36 and i + 2 < len(toks) and toks[i + 2][0] and toks[i + 1][1] == " ":
                out += [toks[i + 2][1], toks[i + 1][1], w]  # swapped neighbours
                i += 3
                continue
            out.append(w)
            i += 1
        return "".join(out), [u["uid"]]

    def snippet(self, lang):
        target = self.length(lang)
        v = self.vocab_for(lang)
        stop = set(STOP.get(lang, ())) | set(STOP["en"])
        ranked = [w for w, _ in v["count"].most_common(600)]
        ranked = [w for w in ranked[40:] if w not in stop and len(w) >= (2 if lang in CJK else 5)]
        pool = [u for u in self.by_lang[lang] if u["kind"] != "code"]
        for _ in range(20):
            kw = self.rng.choice(ranked)
            hits = [
                (u, s)
                for u in pool
                for s in sentences(u["text"], lang)
                if kw in s and 40 < len(s) < 400
            ]
            if len({u["uid"] for u, _ in hits}) >= 6:
                break
        self.rng.shuffle(hits)
        out, srcs, k = [], [], 0
        ell = "…" if lang in CJK else " ..."
        for u, s in hits:
            if k >= target:
                break
            if u["uid"] in srcs:
                continue
            title = paragraphs(u["text"])[0].strip()[:90]
            s = s.strip()
            if self.rng.random() < 0.35 and len(s) > 80:
                cutp = self.rng.randint(60, len(s) - 10)
                sp = s.rfind(" ", 0, cutp)
                s = s[: sp if sp > 40 and lang not in CJK else cutp].rstrip(",;: ") + ell
            block = f"{title}\n{s}"
            out.append(block)
            srcs.append(u["uid"])
            k += len(block) + 2
        return "\n\n".join(out), srcs

    def code_splice(self, lang):
        files = [u for u in self.by_lang["code"]]
        group = self.rng.choice(sorted({u["group"] for u in files}))
        files = [u for u in files if u["group"] == group]
        target = self.length("code")
        chosen = self.rng.sample(files, min(len(files), self.rng.randint(4, 8)))
        lines_of = {u["uid"]: u["text"].splitlines() for u in chosen}
        out: list[str] = []
        srcs: list[str] = []
        k = 0
        while k < target:
            u = self.rng.choice(chosen)
            ls = lines_of[u["uid"]]
            if len(ls) < 10:
                continue
            a = self.rng.randrange(len(ls) - 8)
            while a < len(ls) - 1 and not ls[a].strip():
                a += 1
            run = ls[a : a + self.rng.randint(2, 8)]
            if self.rng.random() < 0.25:
                run.append("")
            out += run
            k += sum(len(x) + 1 for x in run)
            if u["uid"] not in srcs:
                srcs.append(u["uid"])
        return "\n".join(out).strip("\n"), srcs


JUNK_LANGS = {"en": 34, "de": 10, "fr": 8, "es": 7, "it": 5, "pt": 5, "ru": 11, "ja": 10, "zh": 10}


# --------------------------------------------------------------------------- build


def build(root: Path, out: Path, seed: int) -> None:
    rng = random.Random(seed)
    pool = collect(root)
    units = sorted(pool.units, key=lambda u: u["uid"])
    good = pick_good(units, rng)
    good_lens: dict[str, list] = defaultdict(list)
    for u in good:
        good_lens[u["lang"]].append(len(u["text"]))
    jm = JunkMaker([u for u in units if u["half"] == "junk"], good_lens, rng)

    rows = []
    for u in good:
        rows.append(
            dict(
                text=u["text"],
                source=f"{u['package']}:{u['file']}",
                label="good",
                junk_type=None,
                lang=u["lang"],
                provenance=f"{u['package']}:{u['file']}",
                kind=u["kind"],
            )
        )
    langs = sorted(JUNK_LANGS)
    weights = [JUNK_LANGS[lg] for lg in langs]
    for jt, n in JUNK_PLAN.items():
        made = 0
        while made < n:
            lang = "code" if jt == "code_splice" else rng.choices(langs, weights)[0]
            text, srcs = getattr(jm, jt)(lang)
            text = text.strip()
            if not (MIN_CHARS <= len(text) <= MAX_CHARS) or not is_lang(text, lang):
                continue
            made += 1
            rows.append(
                dict(
                    text=text,
                    source=f"junk:{jt}",
                    label="junk",
                    junk_type=jt,
                    lang=lang,
                    provenance=f"{jt}:{lang}",
                    kind="junk",
                    srcs=srcs,
                )
            )
    rng.shuffle(rows)
    out.mkdir(parents=True, exist_ok=True)
    with (
        open(out / "corpus.jsonl", "w", encoding="utf-8") as fc,
        open(out / "labels.jsonl", "w", encoding="utf-8") as fl,
    ):
        for i, r in enumerate(rows):
            rid = f"qh-{i:05d}"
            fc.write(json.dumps({"id": rid, "text": r["text"], "source": r["source"]},
                                ensure_ascii=False) + "\n")  # fmt: skip
            lab = {k: r[k] for k in ("label", "junk_type", "lang", "provenance")}
            fl.write(json.dumps({"id": rid, **lab}, ensure_ascii=False) + "\n")
    # summary
    c = Counter((r["label"], r["junk_type"] or r["kind"], r["lang"]) for r in rows)
    print(f"wrote {len(rows)} rows to {out}")
    for k, v in sorted(c.items(), key=str):
        print(" ", *k, v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=Path("/tmp/qh-debs/x"),
                    help="directory the .debs were unpacked into (dpkg-deb -x)")  # fmt: skip
    ap.add_argument("--out", type=Path, default=Path("bench/data/quality-heldout"))
    ap.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args()
    build(a.root, a.out, a.seed)


if __name__ == "__main__":
    main()
