"""Build a second held-out labelled corpus for measuring a text-quality scorer.

The corpus is made from Debian 12 (bookworm) packages that no other file under
``bench/`` uses, and its junk comes from generators designed for this set only,
so a figure measured on it was not tuned on it.

Usage (Debian 12; the packages are unpacked, never installed)::

    mkdir -p /tmp/qh2-debs && cd /tmp/qh2-debs
    apt-get download lilypond-doc-html lilypond-doc-html-de lilypond-doc-html-fr \\
        lilypond-doc-html-es lilypond-doc-html-it lilypond-doc-html-ja \\
        lilypond-doc-html-zh lilypond-doc-html-hu lilypond-doc-html-nl \\
        lilypond-doc-html-cs aptitude-doc-en aptitude-doc-ru aptitude-doc-ja \\
        aptitude-doc-cs aptitude-doc-fi aptitude-doc-es aptitude-doc-fr \\
        aptitude-doc-it aptitude-doc-nl zsh-doc erlang-doc erlang-src swi-prolog-core
    mkdir -p root && for f in *.deb; do dpkg-deb -x "$f" root; done
    cd /path/to/qurate
    python bench/quality_heldout2.py --root /tmp/qh2-debs/root \\
        --out bench/data/quality-heldout2 --seed 20261206

Output: ``corpus.jsonl`` (``id``, ``text``, ``source`` -- always ``heldout2``, so it
tells nothing about the label) and ``labels.jsonl``
(``id``, ``label`` good/junk, ``junk_type`` (null for good), ``lang`` (ISO 639-1
or ``code``), ``provenance`` (``package:file`` for good, ``type:lang`` for junk)),
ids ``q2-00000``..., in a seeded shuffled order. Same root and seed give the same
bytes.

Sources and licences (good text; HTML stripped with the standard library, whole
pages or sections, 300-12,000 characters, long ones cut at a paragraph boundary):

- documentation: the LilyPond Learning Manual in en, de, es, fr, it, ja, zh, nl,
  cs, hu (``lilypond-doc-html*``, GFDL-1.3+); the aptitude user manual in en, ru,
  ja, cs, fi, es, fr, it, nl (``aptitude-doc-*``, GPL-2+); the Erlang/OTP
  Getting Started, Design Principles, Efficiency and Programming Examples guides
  (``erlang-doc``, Apache-2.0).
- narrative/essay prose: the LilyPond essay on automated music engraving (its
  history, the craft of hand engraving, the story of the program) in en, de, es,
  fr, it, hu (``lilypond-doc-html*``, GFDL-1.3+).
- reference: the LilyPond Notation Reference in en, de, es, fr, it, ja; the zsh
  manual (``zsh-doc``, MIT-like zsh licence); the Erlang Reference Manual
  (``erlang-doc``, Apache-2.0).
- source code: Erlang modules (``erlang-src``, Apache-2.0) and SWI-Prolog
  library/boot files (``swi-prolog-core``, BSD-2-Clause).

A page whose text is not in the language its file name claims (LilyPond falls
back to English for untranslated nodes) is dropped by a stopword/script check.

Junk. Every source document is put in the good pool or the junk pool by a hash
of its id (``sha1(id) % 100 < 30`` goes to junk), so no junk document shares a
source page with any good one. Each junk document takes its length from a good
document of the same language (code: of a good code file). Types:

- ``snippet_aggregate``: an aggregator page. Whole sentences drawn from at least
  four different pages of one language, put together in random order in
  paragraphs of 2-6; every sentence is real, the page says nothing.
- ``spun_rewrite``: an article run through a spinner. About 40 % of the words of
  one page are swapped for other words of the same language with the same length
  (+-1) and capitalisation, taken from the junk pool's vocabulary; punctuation,
  line breaks and lengths stay. For Japanese/Chinese, about 35 % of the CJK
  characters are swapped for others drawn by frequency.
- ``mt_garble``: a page as a poor machine translation leaves it. Inside each
  sentence the words (CJK: the clauses between commas, or characters in small
  runs) are shuffled in windows of 3-5, function words are dropped at random, and
  the first letter is capitalised again.
- ``keyword_stuffed``: a landing page. The page's sentences keep their order but
  each gets one or two of the page's most frequent content words pushed in at
  random places, and every few paragraphs a line of the same keywords joined with
  commas and dashes is added.
- ``content_farm_stitch``: stitched, truncated, duplicated content. Paragraphs from
  two or three pages, each cut at 40-90 % of its length mid-sentence (most cuts
  left bare or closed with a stray full stop, dash or comma, a fifth marked with
  an ellipsis), some appearing twice with different cuts, in shuffled order.
- ``code_shuffled``: code pasted out of order. Runs of 1-3 lines from two source
  files of the same language interleaved at random, indentation kept.

Seed: 20261206 by default (``--seed``). Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import html
import html.parser
import json
import random
import re
from pathlib import Path

SEED = 20261206
MIN_CHARS = 300
MAX_CHARS = 12000
JUNK_SHARE = 30  # percent of source documents that go to the junk pool

LILY = "usr/share/doc/lilypond/html/Documentation"
APTITUDE = "usr/share/doc/aptitude/html"
ZSH = "usr/share/doc/zsh-common/html"
ERLDOC = "usr/share/doc/erlang-doc/doc"
ERLSRC = "usr/lib/erlang/lib"
SWIPL = "usr/lib/swi-prolog"

LILY_LANGS = {
    "learning": ["en", "de", "es", "fr", "it", "ja", "zh", "nl", "cs", "hu"],
    "essay": ["en", "de", "es", "fr", "it", "hu"],
    "notation": ["en", "de", "es", "fr", "it", "ja"],
}
LILY_PKG = {
    "en": "lilypond-doc-html",
    **{x: f"lilypond-doc-html-{x}" for x in ["de", "es", "fr", "it", "ja", "zh", "nl", "cs", "hu"]},
}
APT_LANGS = ["en", "ru", "ja", "cs", "fi", "es", "fr", "it", "nl"]

# Good documents wanted per (group, lang); fewer are taken where fewer exist.
QUOTA = {
    ("lily-learning", "en"): 20,
    ("lily-learning", "de"): 18,
    ("lily-learning", "es"): 18,
    ("lily-learning", "fr"): 18,
    ("lily-learning", "it"): 18,
    ("lily-learning", "ja"): 25,
    ("lily-learning", "zh"): 25,
    ("lily-learning", "nl"): 18,
    ("lily-learning", "cs"): 15,
    ("lily-learning", "hu"): 12,
    ("lily-essay", "*"): 6,
    ("lily-notation", "en"): 14,
    ("lily-notation", "*"): 11,
    ("aptitude", "ru"): 16,
    ("aptitude", "ja"): 10,
    ("aptitude", "*"): 9,
    ("zsh", "en"): 30,
    ("erlang-guide", "en"): 20,
    ("erlang-ref", "en"): 14,
    ("erlang-src", "code"): 30,
    ("swipl", "code"): 25,
}

SKIP_CLASS = re.compile(r"nav|header|footer|toc|menu|sidebar|breadcrumb|highlighting|search", re.I)
BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "section",
    "article",
    "hr",
    "pre",
    "title",
}
VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source"}

STOP = {
    "en": "the and of to is in that for with are this you can be",
    "de": "der die und das ist nicht mit den von sie für ein eine auch",
    "es": "el la de que los las en es una por con para del se",
    "fr": "le la les de des est et une pour dans que qui sur pas",
    "it": "il la di che le per una sono non con gli del della è",
    "nl": "de het een van en is dat niet voor met zijn op te",
    "cs": "je se na že to pro jako v a s není jsou nebo také",
    "hu": "a az és hogy egy nem is meg van ez csak ha vagy",
    "fi": "ja on että ei se jos tai kun ovat voi myös kanssa tämä",
    "ru": "и в не на что это с по как для или из при",
}
STOP_SETS = {k: set(v.split()) for k, v in STOP.items()}
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
CYR = re.compile(r"[\u0400-\u04ff]")
WORD = re.compile(r"\w+", re.U)


class _Text(html.parser.HTMLParser):
    """Visible text of a page, without navigation, scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []
        self.skip = 0
        self.pre = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        hide = tag in {"script", "style", "head", "noscript", "button", "form"}
        marks = " ".join(filter(None, [a.get("class"), a.get("id"), a.get("summary")]))
        if marks and SKIP_CLASS.search(marks) and tag in {"div", "table", "ul", "nav", "p", "span"}:
            hide = True
        if tag in VOID:
            if tag in BLOCK and not self.skip:
                self.out.append("\n")
            return
        self.stack.append((tag, hide))
        if hide:
            self.skip += 1
        if tag == "pre":
            self.pre += 1
        if tag in BLOCK and not self.skip:
            self.out.append("\n\n" if tag in {"p", "pre", "h1", "h2", "h3", "h4", "div"} else "\n")

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self.stack:
            t, hide = self.stack.pop()
            if hide:
                self.skip -= 1
            if t == "pre":
                self.pre -= 1
            if t == tag:
                break
        if tag in BLOCK and not self.skip:
            self.out.append("\n\n" if tag in {"p", "pre", "h1", "h2", "h3", "h4"} else "\n")

    def handle_data(self, data):
        if self.skip:
            return
        if self.pre:
            self.out.append(data)
        else:
            self.out.append(re.sub(r"\s+", " ", data))


def html_text(raw: str) -> str:
    p = _Text()
    p.feed(raw)
    p.close()
    lines = [ln.rstrip() for ln in "".join(p.out).split("\n")]
    text = "\n".join(
        ln if ln.startswith((" ", "\t")) and ln.strip() else ln.strip() for ln in lines
    )
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return html.unescape(text)


def cut(text: str, limit: int = MAX_CHARS) -> str:
    """Cut at the last paragraph (else line) boundary at or below ``limit``."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    i = head.rfind("\n\n")
    if i < limit // 3:
        i = head.rfind("\n")
    if i < limit // 3:
        i = limit
    return head[:i].rstrip()


def lang_ok(text: str, lang: str) -> bool:
    letters = sum(c.isalpha() for c in text) or 1
    if lang in {"ja", "zh"}:
        return len(CJK.findall(text)) / letters > 0.3
    if lang == "ru":
        return len(CYR.findall(text)) / letters > 0.5
    words = [w.lower() for w in WORD.findall(text)]
    if not words:
        return False
    own = sum(w in STOP_SETS[lang] for w in words) / len(words)
    if lang == "en":
        return own > 0.08
    eng = sum(w in STOP_SETS["en"] for w in words) / len(words)
    return own > 0.06 and own > 1.5 * eng


def to_junk(doc_id: str) -> bool:
    return int(hashlib.sha1(doc_id.encode()).hexdigest(), 16) % 100 < JUNK_SHARE


# ---------------------------------------------------------------- sources


def lily_lang(name: str) -> str:
    m = re.search(r"\.([a-z]{2})\.html$", name)
    return m.group(1) if m else "en"


LILY_SKIP = re.compile(
    r"^(index|index_toc|lilypond-index|gnu-free-documentation-license|.*literature-list"
    r"|engraved-examples.*|.*-index|.*[Ii]ndex.*)(\.[a-z]{2})?\.html$"
)


def collect(root: Path) -> list[dict]:
    docs: list[dict] = []

    def add(group, kind, lang, pkg, path, text):
        text = cut(text.strip())
        if len(text) < MIN_CHARS:
            return
        if lang != "code" and not lang_ok(text, lang):
            return
        rel = str(path.relative_to(root))
        docs.append(
            {
                "id": f"{pkg}:{rel}",
                "group": group,
                "kind": kind,
                "lang": lang,
                "pkg": pkg,
                "text": text,
            }
        )

    for manual, kind in [
        ("learning", "documentation"),
        ("essay", "essay"),
        ("notation", "reference"),
    ]:
        for f in sorted((root / LILY / manual).glob("*.html")):
            if LILY_SKIP.match(f.name):
                continue
            lang = lily_lang(f.name)
            if lang not in LILY_LANGS[manual]:
                continue
            add(
                f"lily-{manual}",
                kind,
                lang,
                LILY_PKG[lang],
                f,
                html_text(f.read_text("utf-8", "replace")),
            )
    for lang in APT_LANGS:
        for f in sorted((root / APTITUDE / lang).glob("*.html")):
            if f.name == "index.html":
                continue
            add(
                "aptitude",
                "documentation",
                lang,
                f"aptitude-doc-{lang}",
                f,
                html_text(f.read_text("utf-8", "replace")),
            )
    for f in sorted((root / ZSH).glob("*.html")):
        if re.search(r"index|toc|Index|About|Footnotes", f.name):
            continue
        add("zsh", "reference", "en", "zsh-doc", f, html_text(f.read_text("utf-8", "replace")))
    for sub, group, kind in [
        ("getting_started", "erlang-guide", "documentation"),
        ("design_principles", "erlang-guide", "documentation"),
        ("efficiency_guide", "erlang-guide", "documentation"),
        ("programming_examples", "erlang-guide", "documentation"),
        ("reference_manual", "erlang-ref", "reference"),
    ]:
        for f in sorted((root / ERLDOC / sub).glob("*.html")):
            if f.name in {"index.html", "users_guide.html"}:
                continue
            add(group, kind, "en", "erlang-doc", f, html_text(f.read_text("utf-8", "replace")))
    for f in sorted((root / ERLSRC).glob("*/src/*.erl")):
        add("erlang-src", "code", "code", "erlang-src", f, f.read_text("utf-8", "replace"))
    for f in sorted((root / SWIPL).rglob("*.pl")):
        add("swipl", "code", "code", "swi-prolog-core", f, f.read_text("utf-8", "replace"))
    return docs


def pick_good(docs: list[dict], rng: random.Random) -> list[dict]:
    by: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    for d in docs:
        by[(d["group"], d["lang"])].append(d)
    good = []
    for key in sorted(by):
        q = QUOTA.get(key, QUOTA.get((key[0], "*"), 0))
        pool = list(by[key])
        rng.shuffle(pool)
        good += pool[:q]
    return good


# ---------------------------------------------------------------- junk

SENT_SPLIT = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")
TOKEN = re.compile(r"\w+|[^\w\s]+|\s+", re.U)


def is_cjk(lang: str) -> bool:
    return lang in {"ja", "zh"}


def sentences(text: str, lang: str) -> list[str]:
    out = []
    for para in text.split("\n\n"):
        para = " ".join(para.split()) if not is_cjk(lang) else para.replace("\n", "")
        for s in SENT_SPLIT.split(para):
            s = s.strip()
            lo = 12 if is_cjk(lang) else 30
            if lo <= len(s) <= 400 and sum(c.isalpha() for c in s) > 0.6 * len(s):
                out.append(s)
    return out


def fit(text: str, target: int) -> str:
    """Trim to about ``target`` characters at a paragraph or sentence boundary."""
    if len(text) <= target:
        return text
    head = text[:target]
    for sep in ("\n\n", "\n", ". ", "。", " "):
        i = head.rfind(sep)
        if i > target // 2:
            return head[: i + (1 if sep in {". ", "。"} else 0)].rstrip()
    return head


def paragraphs_of(sents: list[str], lang: str, rng: random.Random) -> str:
    joiner = "" if is_cjk(lang) else " "
    paras, i = [], 0
    while i < len(sents):
        n = rng.randint(2, 6)
        paras.append(joiner.join(sents[i : i + n]))
        i += n
    return "\n\n".join(paras)


def snippet_aggregate(lang, target, pool, rng):
    srcs = rng.sample(pool, min(len(pool), rng.randint(4, 8)))
    per = [sentences(d["text"], lang) for d in srcs]
    per = [p for p in per if p]
    out: list[str] = []
    total = 0
    while total < target * 1.1 and any(per):
        p = rng.choice([p for p in per if p])
        s = p.pop(rng.randrange(len(p)))
        out.append(s)
        total += len(s) + 1
    return fit(paragraphs_of(out, lang, rng), target)


def vocab(pool: list[dict]) -> dict[int, list[str]]:
    by_len: dict[int, set[str]] = collections.defaultdict(set)
    for d in pool:
        for w in WORD.findall(d["text"]):
            if w.isalpha() and not w.isupper() and 3 <= len(w) <= 14:
                by_len[len(w)].add(w.lower())
    return {k: sorted(v) for k, v in by_len.items()}


def spun_rewrite(lang, target, pool, rng, cache):
    d = rng.choice(pool)
    text = fit(d["text"], target)
    if is_cjk(lang):
        if "cjk" not in cache:
            cnt = collections.Counter(c for x in pool for c in x["text"] if CJK.match(c))
            cache["cjk"] = (list(cnt), list(cnt.values()))
        chars, weights = cache["cjk"]
        return "".join(
            rng.choices(chars, weights)[0] if CJK.match(c) and rng.random() < 0.35 else c
            for c in text
        )
    if "vocab" not in cache:
        cache["vocab"] = vocab(pool)
    voc = cache["vocab"]
    out = []
    for tok in TOKEN.findall(text):
        if tok.isalpha() and len(tok) >= 3 and rng.random() < 0.4:
            cands = voc.get(len(tok) + rng.randint(-1, 1)) or voc.get(len(tok))
            if cands:
                w = rng.choice(cands)
                tok = w.capitalize() if tok[0].isupper() else w
        out.append(tok)
    return "".join(out)


def mt_garble(lang, target, pool, rng):
    d = rng.choice(pool)
    text = fit(d["text"], target)
    stops = STOP_SETS.get(lang, set())
    paras = []
    for para in text.split("\n\n"):
        sents_out = []
        for s in SENT_SPLIT.split(
            " ".join(para.split()) if not is_cjk(lang) else para.replace("\n", "")
        ):
            if not s:
                continue
            if is_cjk(lang):
                units = re.split(r"(?<=[、，,])", s)
                if len(units) < 3:
                    units = [s[i : i + 2] for i in range(0, len(s), 2)]
                end = ""
                if units and units[-1] and units[-1][-1] in "。！？":
                    end, units[-1] = units[-1][-1], units[-1][:-1]
            else:
                end = s[-1] if s[-1] in ".!?:" else ""
                units = (s[:-1] if end else s).split()
                units = [u for u in units if not (u.lower() in stops and rng.random() < 0.35)]
            i = 0
            while i < len(units):
                w = rng.randint(3, 5)
                chunk = units[i : i + w]
                rng.shuffle(chunk)
                units[i : i + w] = chunk
                i += w
            if not units:
                continue
            if is_cjk(lang):
                sents_out.append("".join(units) + end)
            else:
                t = " ".join(units)
                t = t[0].upper() + t[1:] if t[:1].islower() else t
                sents_out.append(t + end)
        paras.append(("" if is_cjk(lang) else " ").join(sents_out))
    return "\n\n".join(p for p in paras if p)


def keywords(text: str, lang: str, k: int = 5) -> list[str]:
    if is_cjk(lang):
        runs = re.findall(r"[\u30a0-\u30ff]{3,}|[\u3400-\u9fff]{2,4}", text)
        cnt = collections.Counter(runs)
    else:
        stops = STOP_SETS.get(lang, set())
        cnt = collections.Counter(
            w.lower()
            for w in WORD.findall(text)
            if w.isalpha() and len(w) >= 5 and w.lower() not in stops
        )
    return [w for w, _ in cnt.most_common(k)]


def keyword_stuffed(lang, target, pool, rng):
    d = rng.choice(pool)
    kws = keywords(d["text"], lang) or ["lilypond"]
    sents = sentences(d["text"], lang)
    if len(sents) < 4:
        return None
    out_paras, cur, n = [], [], 0
    joiner = "" if is_cjk(lang) else " "
    for s in sents:
        if is_cjk(lang):
            for _ in range(rng.randint(1, 2)):
                i = rng.randrange(len(s))
                s = s[:i] + rng.choice(kws) + s[i:]
        else:
            ws = s.split()
            for _ in range(rng.randint(1, 2)):
                ws.insert(rng.randrange(1, len(ws) + 1), rng.choice(kws))
            s = " ".join(ws)
        cur.append(s)
        n += len(s)
        if len(cur) >= rng.randint(2, 4):
            out_paras.append(joiner.join(cur))
            cur = []
            if len(out_paras) % 3 == 0:
                ks = rng.sample(kws, len(kws))
                out_paras.append((", " if rng.random() < 0.5 else " - ").join(ks))
        if n > target * 1.1:
            break
    if cur:
        out_paras.append(joiner.join(cur))
    return fit("\n\n".join(out_paras), target)


def content_farm_stitch(lang, target, pool, rng):
    srcs = rng.sample(pool, min(len(pool), rng.randint(2, 3)))
    paras = [p.strip() for d in srcs for p in d["text"].split("\n\n") if len(p.strip()) > 80]
    if len(paras) < 3:
        return None
    rng.shuffle(paras)
    out, total = [], 0
    for p in paras:
        for _ in range(2 if rng.random() < 0.4 else 1):
            if not is_cjk(lang):
                p2 = " ".join(p.split())
                c = int(len(p2) * rng.uniform(0.4, 0.9))
                sp = p2.rfind(" ", 0, c)
                piece = p2[: sp if sp > 0 else c]
            else:
                p2 = p.replace("\n", "")
                piece = p2[: int(len(p2) * rng.uniform(0.4, 0.9))]
            piece += rng.choice(["", "", "", "", ".", ".", " -", ",", "…", " [...]"])
            out.append(piece)
            total += len(piece)
        if total > target:
            break
    k = len(out)
    order = list(range(k))
    rng.shuffle(order)
    return fit("\n\n".join(out[i] for i in order), target)


def code_shuffled(target, pool_by_lang, rng):
    lang = rng.choice(sorted(pool_by_lang))
    a, b = rng.sample(pool_by_lang[lang], 2)
    la = [ln for ln in a["text"].split("\n")]
    lb = [ln for ln in b["text"].split("\n")]
    blocks = []
    for lines in (la, lb):
        i = 0
        while i < len(lines):
            n = rng.randint(1, 3)
            blocks.append(lines[i : i + n])
            i += n
    rng.shuffle(blocks)
    out, total = [], 0
    for bl in blocks:
        out += bl
        total += sum(len(x) + 1 for x in bl)
        if total > target:
            break
    return "\n".join(out).strip()[:target].rstrip()


JUNK_PLAN = [
    ("snippet_aggregate", 45),
    ("spun_rewrite", 45),
    ("mt_garble", 40),
    ("keyword_stuffed", 40),
    ("content_farm_stitch", 40),
    ("code_shuffled", 40),
]


def make_junk(junk_pool: list[dict], good: list[dict], rng: random.Random) -> list[dict]:
    by_lang: dict[str, list[dict]] = collections.defaultdict(list)
    for d in junk_pool:
        by_lang[d["lang"]].append(d)
    good_len: dict[str, list[int]] = collections.defaultdict(list)
    for d in good:
        good_len[d["lang"]].append(len(d["text"]))
    nat = sorted(k for k, v in by_lang.items() if k != "code" and len(v) >= 4 and good_len[k])
    code_src: dict[str, list[dict]] = collections.defaultdict(list)
    for d in by_lang.get("code", []):
        code_src[d["pkg"]].append(d)
    caches: dict[str, dict] = collections.defaultdict(dict)
    out = []
    for jtype, n in JUNK_PLAN:
        made = 0
        tries = 0
        while made < n and tries < n * 20:
            tries += 1
            if jtype == "code_shuffled":
                lang = "code"
                target = rng.choice(good_len["code"])
                text = code_shuffled(target, code_src, rng)
            else:
                lang = nat[made % len(nat)] if rng.random() < 0.7 else rng.choice(nat)
                target = rng.choice(good_len[lang])
                pool = by_lang[lang]
                if jtype == "snippet_aggregate":
                    text = snippet_aggregate(lang, target, pool, rng)
                elif jtype == "spun_rewrite":
                    text = spun_rewrite(lang, target, pool, rng, caches[lang])
                elif jtype == "mt_garble":
                    text = mt_garble(lang, target, pool, rng)
                elif jtype == "keyword_stuffed":
                    text = keyword_stuffed(lang, target, pool, rng)
                else:
                    text = content_farm_stitch(lang, target, pool, rng)
            if not text or len(text) < MIN_CHARS:
                continue
            out.append({"text": cut(text), "lang": lang, "junk_type": jtype})
            made += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--root", default="/tmp/qh2-debs/root", help="where the .deb files were unpacked"
    )
    ap.add_argument("--out", default="bench/data/quality-heldout2")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    root = Path(args.root)
    rng = random.Random(args.seed)
    docs = collect(root)
    good_pool = [d for d in docs if not to_junk(d["id"])]
    junk_pool = [d for d in docs if to_junk(d["id"])]
    good = pick_good(good_pool, rng)
    junk = make_junk(junk_pool, good, rng)
    rows = [
        {
            "text": d["text"],
            "label": "good",
            "junk_type": None,
            "lang": d["lang"],
            "provenance": d["id"],
            "source": "heldout2",
        }
        for d in good
    ] + [
        {
            "text": j["text"],
            "label": "junk",
            "junk_type": j["junk_type"],
            "lang": j["lang"],
            "provenance": f"{j['junk_type']}:{j['lang']}",
            "source": "heldout2",
        }
        for j in junk
    ]
    rng.shuffle(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with (
        open(out / "corpus.jsonl", "w", encoding="utf-8") as fc,
        open(out / "labels.jsonl", "w", encoding="utf-8") as fl,
    ):
        for i, r in enumerate(rows):
            rid = f"q2-{i:05d}"
            fc.write(
                json.dumps(
                    {"id": rid, "text": r["text"], "source": r["source"]}, ensure_ascii=False
                )
                + "\n"
            )
            fl.write(
                json.dumps(
                    {
                        "id": rid,
                        "label": r["label"],
                        "junk_type": r["junk_type"],
                        "lang": r["lang"],
                        "provenance": r["provenance"],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    cnt = collections.Counter((r["label"], r["junk_type"] or "-") for r in rows)
    langs = collections.Counter((r["label"], r["lang"]) for r in rows)
    print(
        f"{len(docs)} source documents ({len(junk_pool)} in the junk pool); wrote {len(rows)} to {out}"
    )
    for k, v in sorted(cnt.items()):
        print(f"  {k[0]:5} {k[1]:20} {v}")
    for k, v in sorted(langs.items()):
        print(f"  {k[0]:5} {k[1]:5} {v}")


if __name__ == "__main__":
    main()
