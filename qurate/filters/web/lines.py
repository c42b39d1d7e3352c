"""Which lines of a page are site chrome, and which runs of them to cut.

Each non-empty line short enough to be chrome (``max_chrome_line_words``) gets a class:

- ``consent`` (strong): a cookie word with a consent word and a site word ("we use cookies
  on our website ... you agree"), or with one of them in a line of at most 25 words
  ("Cookie-Einstellungen"); weak: a cookie word alone on a short line, or a
  consent button ("Accept all") on a page that names cookies. A page on which two lines
  name cookies with neither word (HTTP documentation) has no consent lines at all;
- ``policy`` (strong): a legal-footer phrase with a ``©`` or two such phrases ("Privacy
  policy | Terms of use"); weak: one phrase alone ("Impressum"), or a short ``©`` line
  (a footer's "© 2021 Example Media", but also a man page's copyright section). Skipped
  in licence and copyright texts, whose "All rights reserved" is content;
- ``navigation`` (strong): a list of menu / sharing items ("Home | Blog | Contact",
  "Share: Facebook · X"), a breadcrumb that starts at the home page ("Home › Printing"),
  paging ("« Previous 1 2 3 Next »"); weak: one menu item alone ("Read more »", "Search").

Strong lines are cut wherever they are; weak ones only inside a run of adjacent chrome
lines that holds a strong one (or three weak ones), so a help page's "Search" heading
stays while a footer's "Search" goes. Chrome comes in blocks (header, banner, footer);
this is what separates it from the same words used in a text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from qurate.filters.text import NO_SPACE_RE
from qurate.filters.web.lexicon import CONSENT, COOKIE, LICENCE, NAV, POLICY, SITE, SOCIAL

STRONG, WEAK = 2, 1
_SHORT_CONSENT_WORDS = 25
# List separators of menus, breadcrumbs and sharing bars (not "," or ";": prose uses them).
_SEP_RE = re.compile(r"\s+[|·•›»«/–—>]\s+|\s*[|·•›»]\s*")
_BREADCRUMB = ("›", "»", " > ", " / ")
_STRIP = " \t-*•·>»«›‹|:–—"
_PAGING_RE = re.compile(r"(?:^|\s)\d{1,3}(?:\s+\d{1,3}){2,}(?:\s|$)")


@dataclass(slots=True)
class Chrome:
    """Classified lines of one page: ``cut`` holds (line index, class) of lines to remove."""

    cut: list[tuple[int, str]] = field(default_factory=list)
    anchor_chars: int = 0  # characters of non-chrome lines that are anchor-phrase lists
    body_chars: int = 0  # characters of non-empty lines that are not cut
    chars: dict[str, int] = field(default_factory=dict)  # class -> characters cut
    hits: dict[str, int] = field(default_factory=dict)  # class -> lines classified, cut or not
    licence: bool = False  # a licence or copyright text (its legal lines are content)

    @property
    def n_chars(self) -> int:
        return sum(self.chars.values())

    def main_class(self) -> str:
        counts = self.chars or self.hits
        return max(counts, key=counts.__getitem__)


def n_words(s: str) -> float:
    """Words, with a CJK/Thai character as 2/3 of a word (about 1.5 characters a word)."""
    n = len(s.split())
    return n if s.isascii() else n + len(NO_SPACE_RE.findall(s)) * 2 / 3


class _Phrases:
    """A phrase list split for fast lookup: ASCII phrases are searched in every text, the
    others only when the text holds their first non-ASCII character (a Russian page is
    not searched for Greek or Japanese phrases)."""

    def __init__(self, phrases: tuple[str, ...]) -> None:
        self.ascii = tuple(p for p in phrases if p.isascii())
        self.keyed: dict[str, list[str]] = {}
        for p in phrases:
            if not p.isascii():
                self.keyed.setdefault(next(c for c in p if not c.isascii()), []).append(p)

    def present(self, lower: str, chars: frozenset[str] | None) -> tuple[str, ...]:
        found = [p for p in self.ascii if p in lower]
        if chars:
            for key in chars.intersection(self.keyed):
                found += [p for p in self.keyed[key] if p in lower]
        return tuple(found)


_COOKIE, _CONSENT, _SITE, _POLICY = map(_Phrases, (COOKIE, CONSENT, SITE, POLICY))
_SEP_CHAR_RE = re.compile("[|·•›»/–—>]")
_NAV_MAX = max(map(len, NAV))
# Any of: a list separator, ©, a run of page numbers. A long line without one is not chrome.
# ("/" and ">" only between spaces: paths and shell redirections are everywhere in docs.)
_MAYBE_CHROME_RE = re.compile(r"[|·•›»–—©]| [/>] |(?:^|\s)\d{1,3}(?:\s+\d{1,3}){2,}(?:\s|$)")


@dataclass(slots=True)
class _Lex:
    """The lexicon cut down to the phrases present in one document (most are not)."""

    cookie: tuple[str, ...]
    consent: tuple[str, ...]
    site: tuple[str, ...]
    policy: tuple[str, ...]

    @classmethod
    def of(cls, lower: str, licence: bool) -> _Lex:
        # Substring scans of the whole text are this step's main cost: the consent and site
        # words (280) are looked for only on pages that name cookies at all, and phrases in
        # other scripts only in non-ASCII text.
        chars = None if lower.isascii() else frozenset(lower)
        cookie = _COOKIE.present(lower, chars)
        consent = site = ()
        if cookie:
            consent = _CONSENT.present(lower, chars)
            site = _SITE.present(lower, chars)
        policy = () if licence else _POLICY.present(lower, chars)
        return cls(cookie=cookie, consent=consent, site=site, policy=policy)


def is_licence(lower: str) -> bool:
    """Licence or copyright text: two licence markers (its rights lines are content)."""
    return sum(m in lower for m in LICENCE) >= 2


def _about_cookies(lines: list[str], lex: _Lex) -> bool:
    """Cookies are the page's subject (HTTP documentation), not a banner on it: two lines
    name them without asking for consent or speaking of the site; a banner's lines all do."""
    n = 0
    for line in lines:
        low = line.lower()
        if any(t in low for t in lex.cookie) and not (
            any(t in low for t in lex.consent) or any(t in low for t in lex.site)
        ):
            n += 1
            if n >= 2:
                return True
    return False


def classify(line: str, lex: _Lex, max_words: int, licence: bool) -> tuple[str, int] | None:
    """(class, STRONG|WEAK) for a chrome line, None for any other line."""
    core = line.strip(_STRIP)
    if not core:
        return None
    if (
        not (lex.cookie or lex.policy)
        and len(core) > _NAV_MAX
        and _MAYBE_CHROME_RE.search(core) is None
    ):
        return None  # the common case, decided without counting words
    nw = n_words(core)
    if nw > max_words:
        return None
    low = core.lower()
    if lex.cookie and any(t in low for t in lex.cookie):
        # A banner asks for consent and speaks of the site; a text about HTTP cookies may
        # name a site or a setting, in longer lines.
        n_sig = any(t in low for t in lex.consent) + any(t in low for t in lex.site)
        if n_sig == 2 or (n_sig == 1 and nw <= _SHORT_CONSENT_WORDS):
            return "consent", STRONG
        if nw <= 6:
            return "consent", WEAK
    if lex.policy:
        n_pol = sum(p in low for p in lex.policy)
        if n_pol and ("©" in core or n_pol >= 2):
            return "policy", STRONG
        if n_pol and nw <= 8:
            return "policy", WEAK
    if "©" in core and nw <= 15 and not licence:
        # A footer's "© 2021 Example Media", or a man page's copyright section: only a
        # neighbouring chrome line tells them apart.
        return "policy", WEAK
    if low in NAV:
        return "navigation", WEAK
    if nw <= 30 and line.strip()[-1:] != "|" and _SEP_CHAR_RE.search(core):  # not a table row
        segs = [s.strip(_STRIP).lower() for s in _SEP_RE.split(core)]
        segs = [s for s in segs if s]
        n_nav = sum(s in NAV for s in segs)
        n_social = sum(s.rsplit(" ", 1)[-1] in SOCIAL for s in segs)
        if len(segs) >= 2 and (n_nav + n_social >= 2 or n_social >= 2):
            return "navigation", STRONG
        if (
            len(segs) >= 2
            and segs[0] in NAV
            and any(b in core for b in _BREADCRUMB)
            and "«" not in core  # French quotes, not a trail
        ):
            return "navigation", STRONG
    if 3 <= nw <= 20 and _PAGING_RE.search(low):
        toks = low.split()
        if toks[0].strip(_STRIP) in NAV or toks[-1].strip(_STRIP) in NAV:
            return "navigation", STRONG
    if nw <= 4 and lex.consent and any(t in low for t in lex.consent):
        return "consent", WEAK
    return None


_CHROME_CHARS_RE = re.compile("[|·•›»–—©]")
_PAGING_LINE_RE = re.compile(r"(?:^|\s)\d{1,3}(?:\s+\d{1,3}){2,}(?:\s|$)")
_NUMBER_RUN_RE = re.compile(r"\d{1,3}(?:\s+\d{1,3}){2,}")


def _never(_: str) -> bool:
    return False


def _maybe_chrome_test(text: str) -> Callable[[str], bool]:
    """``lambda core: _MAYBE_CHROME_RE.search(core) is not None`` for the lines of ``text``,
    with only the branches that can match in it: the per-line search of that alternation
    was 40% of this step's time, and most pages hold none of its characters or number runs.
    """
    chars = any(c in text for c in "|·•›»–—©")
    spaced = " / " in text or " > " in text
    paging = _NUMBER_RUN_RE.search(text) is not None  # each line's paging run is one here
    if not (chars or spaced or paging):
        return _never
    chars_search, paging_search = _CHROME_CHARS_RE.search, _PAGING_LINE_RE.search

    def test(core: str) -> bool:
        return (
            (chars and chars_search(core) is not None)
            or (spaced and (" / " in core or " > " in core))
            or (paging and paging_search(core) is not None)
        )

    return test


def find_chrome(lines: list[str], lower: str, max_words: int) -> Chrome:
    """Classify ``lines`` (the page split on newlines) and choose the runs to cut."""
    licence = is_licence(lower)
    lex = _Lex.of(lower, licence)
    if lex.cookie and _about_cookies(lines, lex):
        lex.cookie = ()
    out = Chrome(licence=licence)
    run: list[tuple[int, str, int]] = []

    def close() -> None:
        if run and (any(st == STRONG for _, _, st in run) or len(run) >= 3):
            for i, cls, _ in run:
                out.cut.append((i, cls))
                out.chars[cls] = out.chars.get(cls, 0) + len(lines[i]) + 1
        run.clear()

    # This loop sees every line of every page: classify's early exit (no cookie or legal
    # wording on the page, a long line with no separator) and is_anchor_list's first tests
    # are inlined.
    early_exit = not (lex.cookie or lex.policy)
    maybe_chrome, two_seps = _maybe_chrome_test("\n".join(lines)), _TWO_SEPS_RE.search
    n_chars = 0
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue  # blank lines neither break nor join a run
        n_chars += len(s)
        if early_exit and (
            not (core := line.strip(_STRIP)) or (len(core) > _NAV_MAX and not maybe_chrome(core))
        ):
            hit = None
        else:
            hit = classify(line, lex, max_words, licence)
        if hit is None:
            if run:
                close()
            if (
                not s.rstrip(_CLOSERS).endswith(_SENT_END)
                and two_seps(s) is not None
                and is_anchor_list(s)
            ):
                out.anchor_chars += len(s)
        else:
            run.append((i, hit[0], hit[1]))
            out.hits[hit[0]] = out.hits.get(hit[0], 0) + 1
    close()
    out.body_chars = n_chars - sum(len(lines[i].strip()) for i, _ in out.cut)
    return out


_LIST_SEP_RE = re.compile(r"\s[|·•/–—-]\s|\s*[|·•、]\s*|,\s+|，")
# Two list separators somewhere in a line (one C-level search instead of ten counts).
_TWO_SEPS_RE = re.compile(r"(?:, |[|·•、，]| [/–—-] ).*?(?:, |[|·•、，]| [/–—-] )")
_SENT_END = (".", "!", "?", "。", "！", "？", ":", ";")
_CLOSERS = "\"'”’»)）」』]"


def is_anchor_list(s: str) -> bool:
    """A line of 3+ short phrases joined by list separators, none a sentence ("cheap
    flights · hotel deals · car rental"): link farms and tag clouds."""
    # Cheap tests first: this runs on every line of every page. A prose enumeration ends
    # its sentence (a dictionary entry its "[1913 Webster]"); link lists end in nothing.
    if s.rstrip(_CLOSERS).endswith(_SENT_END) or _TWO_SEPS_RE.search(s) is None:
        return False
    parts = [p.strip() for p in _LIST_SEP_RE.split(s.strip(" -*•"))]
    parts = [p for p in parts if p]
    if len(parts) < 3:
        return False
    if sum(n_words(p) <= 6 for p in parts) < 0.8 * len(parts):
        return False
    if any(". " in p for p in parts):  # sentences inside: prose, not anchors
        return False
    # Mostly single words ("PNG, JPEG, GIF") is an enumeration in a text, not anchors.
    return sum(n_words(p) >= 2 for p in parts) >= 0.5 * len(parts)


def cut_lines(lines: list[str], chrome: Chrome) -> str:
    drop = {i for i, _ in chrome.cut}
    kept = [ln for i, ln in enumerate(lines) if i not in drop]
    text = "\n".join(kept)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")
