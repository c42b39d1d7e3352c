"""Per-document statistics for the heuristics, each computed in one pass.

- ``line_stats``: one loop over the lines classifies each (blank, heading, bullet, table
  row, code, prose) and gathers every line-based count the Gopher, C4 and FineWeb rules
  need, so rules about prose lines see only prose (documentation keeps its bullet lists and
  headings; Markdown code fences do not count as unpunctuated prose).
- ``looks_like_code``: whether a document is source code, from metadata hints (file
  extension, language field) or the share of code-like lines.
- ``ngram_repetition``: Gopher's top-n-gram and duplicated-n-gram character fractions,
  vectorised: each word becomes a 64-bit hash, n-gram hashes are built by a rolling
  polynomial in numpy, and one stable argsort per n finds the most frequent n-gram and every
  repeated occurrence. Stock datatrove joins strings for every n-gram of every n in Python.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from qurate.filters.heuristics.lexicon import BOILERPLATE_PHRASES
from qurate.filters.text import NO_SPACE_RE

# Any boilerplate phrase in a line: on short lines one regex call beats a loop over phrases
# (on whole documents str.__contains__ per phrase is faster).
BOILERPLATE_RE = re.compile("|".join(map(re.escape, BOILERPLATE_PHRASES)))
_HEADING_RE = re.compile(r"#{1,6}(?:\s|$)")
_RULE_RE = re.compile(r"^([=\-~^*_#+])\1{2,}$")
_NUMBERED_RE = re.compile(r"(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)]\s")
_BULLETS = "-•*+·–▪◦‣"
_SENT_END_RE = re.compile(r"[.!?。！？](?=[\s\"'”’»)）」』]|$)")
# Sentences are counted up to this many: no rule needs an exact count above it.
_SENTENCE_CAP = 16
_LONG_LINE_CHARS = 80
_CLOSERS = "\"'”’»)）」』】]`*_"
_CODE_LINE_RE = re.compile(
    r"""\s*(?:
        (?:def|class|elif|except|lambda|function|func|fn|var|let|const|public|private|
           protected|static|void|package|namespace|struct|impl|enum|interface|template|
           typedef|return|raise|yield|SELECT|INSERT|UPDATE|CREATE|DROP)\b
      | else:|try:|finally:|async\s+def|\#include|\#define|\#!|@\w+
      | (?:module|require|end|unless|elsif|begin|rescue|ensure|puts|attr_\w+|defer|
           local|sub\s+\w+|use\s+[\w:]+|(?:my|our)\s+[$@%])\b
      | =(?:head\d|pod|cut|item|over|back|begin|end|encoding)\b|__END__|__DATA__
      | (?<=\s)[\w.:$@]+\(.*\)[;,]?$|[\w.:$@]+\(.*\);$  # an indented call, or "f(x);"
      | ["']?[\w-]+["']?\s*(?::|=>?)\s*.+,$   # key: value, (object literals)
      | .*\b(?:do(?:\s*\|[^|]*\|)?|then)$    # Ruby/shell block openers
      | [(\[{].*,$|"[^"]*",?$|'[^']*',?$      # tuple / list items, string literals
      | \(\s*(?:define[\w*-]*|let[\w*-]*|lambda|cond|set!|use-modules|define-module|
               export|syntax-rules|match|unless|when)\b   # Scheme / Lisp forms
      | ;;|proc\s+\S+\s+\{|(?:lappend|upvar|namespace\s+eval|foreach|incr)\s+\S  # Tcl
      | type\s+\w+\s+\S
      | import\s+[\w.{*]|from\s+[\w.]+\s+import\b
      | print\(|console\.|System\.|std::|if\s*\(|for\s*\(|while\s*\(|switch\s*\(
      | if\s+.*:$|for\s+\w+\s+in\s+.*:$|while\s+.*:$|with\s+.*:$
      | [{}()\[\];,]+\s*$                    # closing brackets on their own
      | //|/\*|\*/|<!--|-->|</?\w+[^>]*>\s*$ # comments, markup
      | [\w.\[\]"']+\s*(?:[-+*/%|&^]?=|:=|=>|->|<-)\s*\S  # assignment
    )
    """,
    re.VERBOSE,
)
# Statement and block ends: "x = f(y);", "if (a) {", "def f(x):".
_CODE_ENDS = (";", "{", "}", "):", ") {", "){", "=>", "\\", "(", "[")
_PROSE_ENDS = (".", "!", "?", '"', "”", "。", "！", "？")


def is_list_item(s: str) -> bool:
    """Whether a stripped, non-empty line is a bullet or numbered list item (not a rule)."""
    return (s[0] in _BULLETS or _NUMBERED_RE.match(s) is not None) and not _RULE_RE.match(s)


# What a line needs for _CODE_LINE_RE to match it: every branch starts (after the
# indentation) with one of these characters or words, ends with one of these endings, or
# holds an assignment operator. Most prose lines have none of them, and testing that is ~10x
# cheaper than the pattern (whose ``.*`` branches scan and backtrack over the whole line).
_CODE_START_CHARS = frozenset("#@=([{)]};,/*<-")
_CODE_START_WORDS = frozenset(
    "def class elif except lambda function func fn var let const public private protected "
    "static void package namespace struct impl enum interface template typedef return raise "
    "yield SELECT INSERT UPDATE CREATE DROP else try finally async module require end unless "
    "elsif begin rescue ensure puts defer local sub use my our proc lappend upvar foreach incr "
    "type import from print console System std if for while switch with".split()
)
_CODE_START_PREFIXES = ("attr_", "__END__", "__DATA__")
_CODE_LINE_ENDS = (")", ",", ";", "do", "then", "|", '"', "'")
_LEAD_WORD_RE = re.compile(r"\w+")


def _may_be_code(s: str) -> bool:
    """False only where ``_CODE_LINE_RE`` cannot match (``s``: stripped, non-empty)."""
    if s[0] in _CODE_START_CHARS or s.endswith(_CODE_LINE_ENDS):
        return True
    if "=" in s or "->" in s or "<-" in s:
        return True
    m = _LEAD_WORD_RE.match(s)
    return m is not None and (
        m.group() in _CODE_START_WORDS or m.group().startswith(_CODE_START_PREFIXES)
    )


def is_code_line(s: str, line: str | None = None) -> bool:
    """``s``: a stripped, non-empty line; ``line``: the same with its indentation."""
    if s.endswith(_CODE_ENDS):
        return True
    # A capitalised line ending like a sentence is prose; skip the costlier pattern.
    if s[0].isupper() and s.endswith(_PROSE_ENDS):
        return False
    if not _may_be_code(s):
        return False
    return _CODE_LINE_RE.match(line.rstrip() if line is not None else s) is not None


CODE_EXTENSIONS = frozenset(
    "py pyi pyx ipynb js mjs cjs ts tsx jsx java kt kts scala groovy c h cc cpp cxx hpp hh "
    "cs go rs rb php swift m mm sh bash zsh fish ps1 bat sql r jl lua pl pm hs ml mli ex exs "
    "erl clj dart f f90 vb asm s v sv vhd cmake gradle makefile dockerfile proto graphql "
    "scm ss rkt lisp el tcl tk "
    "css scss less vue svelte yaml yml toml ini json xml".split()
)
# Prose formats: a README.md full of examples is still documentation.
TEXT_EXTENSIONS = frozenset("md markdown rst txt text adoc org html htm pdf doc docx odt".split())
PROGRAMMING_LANGUAGES = frozenset(
    "python javascript typescript java kotlin scala c c++ cpp c# csharp go golang rust ruby "
    "php swift objective-c shell bash sql r julia lua perl haskell ocaml elixir erlang "
    "clojure dart fortran assembly verilog vhdl css html json yaml".split()
)
_HINT_KEYS = ("path", "file", "filename", "file_path", "file_name", "name", "url", "source")
_LANG_KEYS = ("language", "programming_language", "lang_code", "code_language")


@dataclass(slots=True)
class LineStats:
    n_nonempty: int = 0
    n_bullet: int = 0
    n_bullet_punct: int = 0
    n_heading: int = 0
    n_ctx_heading: int = 0
    n_ctx_heading_short: int = 0
    n_comment: int = 0
    n_table: int = 0
    n_code: int = 0
    n_prose: int = 0
    n_prose_punct: int = 0
    n_prose_short: int = 0
    n_end_ellipsis: int = 0
    n_boilerplate: int = 0
    n_sentences: int = 0
    n_heading_hashes: int = 0


def line_stats(
    lines: list[str],
    stop_chars: tuple[str, ...],
    short_len: int,
    min_words: int,
    boilerplate: bool = False,
    context_headings: bool = False,
) -> LineStats:
    """Classify every line once and count what the line-based rules need.

    ``boilerplate``: whether the text contains any boilerplate phrase at all (checked once
    by the caller); only then is each line checked.

    ``context_headings``: extracted web text has no ``#`` marks, so a heading is known by
    what follows it: an unpunctuated line under 80 characters whose next non-empty line is a
    list item ("Find your IP address" over the steps) or a punctuated sentence (a page title
    over its first paragraph) is a heading, not an unpunctuated prose line. A menu or tag
    cloud is a run of short lines that introduce nothing, so it stays prose. Bullet items
    that end in terminal punctuation are counted in ``n_bullet_punct`` (sentences written as
    list items, the body of a help page). Context headings stay in ``n_prose`` (and in
    ``n_prose_short``) and are counted apart in ``n_ctx_heading`` (``n_ctx_heading_short``),
    so only the rules that ask for them see the difference.
    """
    # Counters are locals and regex methods are bound once: this loop runs for every line
    # of every document, and attribute access is most of its cost in CPython.
    n_nonempty = n_bullet = n_bullet_punct = n_heading = n_comment = n_table = n_code = 0
    # The previous non-empty line, when it was a candidate context heading: 1, or 2 when
    # it was also short; 0 otherwise.
    pending = n_ctx_heading = n_ctx_heading_short = 0
    n_prose = n_prose_punct = n_prose_short = n_end_ellipsis = n_boilerplate = 0
    n_sentences = n_heading_hashes = 0
    in_fence = False
    heading_match = _HEADING_RE.match
    rule_match = _RULE_RE.match
    numbered_match = _NUMBERED_RE.match
    sent_end_findall = _SENT_END_RE.findall
    no_space_findall = NO_SPACE_RE.findall
    boilerplate_search = BOILERPLATE_RE.search
    for line in lines:
        s = line.strip()
        if not s:
            continue
        n_nonempty += 1
        c = s[0]
        prev, pending = pending, 0
        if s.startswith(("```", "~~~")):
            in_fence = not in_fence
            n_code += 1
            continue
        if in_fence:
            n_code += 1
            continue
        if s.endswith(("...", "…")):
            n_end_ellipsis += 1
        if boilerplate and boilerplate_search(s.lower()):
            n_boilerplate += 1
        if c == "#" and heading_match(s):
            # A Markdown heading, or a comment in a script: neutral for code detection.
            n_heading += 1
            n_comment += 1
            n_heading_hashes += len(s) - len(s.lstrip("#"))
            continue
        if s.startswith(("//", "/*", "*/", "#!", ";;", "; ")):  # C, shell, Lisp comments
            n_comment += 1
            continue
        if c in _BULLETS or numbered_match(s):
            if rule_match(s):
                n_heading += 1
                continue
            n_bullet += 1
            if context_headings:
                if prev:
                    n_ctx_heading += 1
                    n_ctx_heading_short += prev == 2
                n_bullet_punct += s.rstrip(_CLOSERS).endswith(stop_chars)
            if n_sentences < _SENTENCE_CAP:
                n_words = len(s.split()) + (0 if s.isascii() else len(no_space_findall(s)))
                if n_words >= min_words:
                    n_sentences += len(sent_end_findall(s))
            continue
        if c == "|" or "   " in s or "\t" in s or " | " in s or rule_match(s):
            # Table rows and column layouts (aligned with runs of spaces) are structure.
            n_table += 1
            continue
        if is_code_line(s, line):
            n_code += 1
            continue
        n_prose += 1
        end = s.rstrip(_CLOSERS)
        n_cjk = 0 if s.isascii() else len(no_space_findall(s))
        punct = end.endswith(stop_chars)
        # A line of a dozen words is a sentence even without its full stop (quotations,
        # headlines); menus and tag lists, what the rule is for, are short lines.
        sentence_like = punct or len(s) + n_cjk >= _LONG_LINE_CHARS
        n_prose_punct += sentence_like
        # CJK characters are double width and carry about a word each: a 15-character
        # Chinese line is not a "short line".
        short = not punct and len(s) + n_cjk <= short_len
        n_prose_short += short
        if context_headings:
            if not sentence_like:
                pending = 2 if short else 1
            elif prev:
                n_ctx_heading += 1
                n_ctx_heading_short += prev == 2
        # A wrapped sentence ends on a line of any length; C4's words-per-line minimum
        # applies to the line holding most of it, which hard-wrapped text cannot tell.
        if n_sentences < _SENTENCE_CAP and (n_prose > 1 or len(s.split()) + n_cjk >= min_words):
            ends = len(sent_end_findall(s))
            # An unpunctuated long line is a sentence too (see n_prose_punct above).
            n_sentences += ends or (not punct and len(s) + n_cjk >= _LONG_LINE_CHARS)
    return LineStats(
        n_nonempty=n_nonempty,
        n_bullet=n_bullet,
        n_bullet_punct=n_bullet_punct,
        n_heading=n_heading,
        n_ctx_heading=n_ctx_heading,
        n_ctx_heading_short=n_ctx_heading_short,
        n_comment=n_comment,
        n_table=n_table,
        n_code=n_code,
        n_prose=n_prose,
        n_prose_punct=n_prose_punct,
        n_prose_short=n_prose_short,
        n_end_ellipsis=n_end_ellipsis,
        n_boilerplate=n_boilerplate,
        n_sentences=n_sentences,
        n_heading_hashes=n_heading_hashes,
    )


def _code_hint(meta: Mapping[str, Any], depth: int = 0) -> bool | None:
    """True/False when metadata says whether this is code; None when it says nothing."""
    for key in _LANG_KEYS:
        value = meta.get(key)
        if isinstance(value, str) and value.lower() in PROGRAMMING_LANGUAGES:
            return True
    if meta.get("domain") == "code":
        return True
    for key in _HINT_KEYS:
        value = meta.get(key)
        if isinstance(value, str) and "." in value[-12:]:
            ext = value.rsplit(".", 1)[-1].lower().split("?")[0]
            if ext in CODE_EXTENSIONS:
                return True
            if ext in TEXT_EXTENSIONS:
                return False
    nested = meta.get("meta")
    if depth == 0 and isinstance(nested, str) and nested.startswith("{") and len(nested) < 10_000:
        try:
            nested = json.loads(nested)
        except ValueError:
            nested = None
    if depth == 0 and isinstance(nested, Mapping):
        return _code_hint(nested, 1)
    return None


_CODE_SYMBOL_RE = re.compile(r"[{}\[\]()<>=;_$@&|\\*/:]")


def looks_like_code(
    meta: Mapping[str, Any], st: LineStats, min_code_frac: float, text: str = ""
) -> bool:
    """Metadata hints win; otherwise the share of code-like lines and of code symbols.

    Comment lines in code read like prose or headings, so a file whose lines are, say, 40%
    code and whose characters are dense in brackets and operators is code too. (Prose has
    2-4% such characters, reference tables up to ~20%, source code 6-35%.)
    """
    hint = _code_hint(meta)
    if hint is not None:
        return hint
    if st.n_nonempty < 3:
        return False
    frac = st.n_code / max(st.n_nonempty - st.n_comment, 1)
    if frac >= min_code_frac:
        return True
    if not text:
        return False
    n_chars = max(len(text) - text.count(" ") - text.count("\n"), 1)
    density = len(_CODE_SYMBOL_RE.findall(text)) / n_chars
    return density >= 0.15 or (frac >= min_code_frac * 0.4 and density >= 0.06)


def duplicates(items: list[str]) -> tuple[int, int]:
    """(repeated elements, characters in repeated elements), first occurrences excluded."""
    seen: set[str] = set()
    n_dup = chars = 0
    for x in items:
        if x in seen:
            n_dup += 1
            chars += len(x)
        else:
            seen.add(x)
    return n_dup, chars


_P = np.uint64(0x100000001B3)


def ngram_repetition(
    words: list[str], text_len: int, top_ns: Mapping[int, float], dup_ns: Mapping[int, float]
) -> tuple[str, int, float, float] | None:
    """First n-gram rule that fails as (kind, n, value, threshold), or None if all pass.

    kind is ``top`` (characters of the most frequent n-gram x its count / text length) or
    ``dup`` (characters of words inside repeated n-gram occurrences / text length).
    """
    n_words = len(words)
    if n_words < 2 or text_len == 0:
        return None
    h1 = np.fromiter(map(hash, words), dtype=np.int64, count=n_words).view(np.uint64)
    lens = np.fromiter(map(len, words), dtype=np.int64, count=n_words)
    h = h1
    cur = 1
    # Words covered by repeated (n+1)-grams are covered by repeated n-grams too, so the
    # duplicated fraction only falls as n grows: once it is under every remaining
    # threshold, larger n cannot fail.
    dup_floor = min(dup_ns.values(), default=0.0)
    last_top = max(top_ns, default=0)
    dup_done = False
    for n in sorted(set(top_ns) | set(dup_ns)):
        if n > n_words or (dup_done and n > last_top):
            break
        if dup_done and n not in top_ns:
            continue
        with np.errstate(over="ignore"):
            while cur < n:
                h = h[:-1] * _P + h1[cur:]
                cur += 1
        order = np.argsort(h, kind="stable")
        hs = h[order]
        start = np.empty(len(hs), dtype=bool)
        start[0] = True
        np.not_equal(hs[1:], hs[:-1], out=start[1:])
        if n in top_ns:
            starts = np.flatnonzero(start)
            counts = np.diff(np.append(starts, len(hs)))
            top = counts.max()
            # Ties go to the n-gram that occurs first (as datatrove does): word hashes come
            # from Python's per-process hash(), so picking by hash order would make the
            # result depend on the process.
            pos = int(order[starts[counts == top]].min())
            ngram_chars = int(lens[pos : pos + n].sum()) + n - 1
            frac = int(top) * ngram_chars / text_len
            if frac > top_ns[n]:
                return "top", n, frac, top_ns[n]
        if n in dup_ns:
            dup_pos = order[~start]
            if len(dup_pos) == 0:
                dup_done = True
                continue
            edges = np.zeros(n_words + 1, dtype=np.int32)
            np.add.at(edges, dup_pos, 1)
            np.add.at(edges, dup_pos + n, -1)
            covered = np.cumsum(edges[:-1]) > 0
            frac = int(lens[covered].sum()) / text_len
            if frac > dup_ns[n]:
                return "dup", n, frac, dup_ns[n]
            dup_done = frac <= dup_floor
    return None
