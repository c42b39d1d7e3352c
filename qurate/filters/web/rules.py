"""``WebFilter``: cut site chrome out of web pages, reject pages that are web junk.

FineWeb and C4 remove lines (cookie / javascript / policy wording) and reject pages by
link density and line statistics, with English lexicons. This step does the same for every
language in ``lexicon.py``, runs after language ID and before the heuristics (which then
judge the page's body, not its template), and gives each kind of junk its own reason:

- ``web_consent`` / ``web_navigation`` / ``web_policy``: chrome lines (``lines.py``) hold more
  than ``max_chrome_frac`` of the page, or what is left is a stub: consent walls, menu and
  category pages, legal footers with nothing above them;
- ``web_link_density``: URLs hold more than ``max_url_frac`` of the characters (link farms);
- ``web_anchor_list``: lines that are lists of short link phrases hold most of the page;
- ``web_encoded_blob``: base64 / hex runs and hex dumps inside the text;
- ``web_numeric_table``: most lines are rows of numbers (data dumps).

A kept page loses its chrome lines; ``doc.metadata["web_lines_removed"]`` (written to
``meta.qurate.web_lines_removed``) says how many lines of each class were cut, how many
characters, and shows the first lines cut. Rejected pages keep their text as it was, so a
user reading ``rejects/`` sees the whole page. Source code skips every rule (hex constants,
base64 fixtures, URLs and number tables are what code holds).
"""

from __future__ import annotations

import re

from datatrove.data import Document

from qurate.contract.rejects import QurateFilter
from qurate.filters.heuristics.stats import line_stats, looks_like_code
from qurate.filters.web.config import WebConfig
from qurate.filters.web.lines import Chrome, cut_lines, find_chrome, n_words

REMOVED_KEY = "web_lines_removed"
_SHOW_LINES, _SHOW_CHARS = 20, 200

_URL_RE = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
# base64: 40+ characters of its alphabet; hex: 32+ digits; dumps: 16+ spaced byte pairs.
_B64_RE = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")
_HEX_RE = re.compile(r"(?<![\w])(?:0x)?[0-9a-fA-F]{32,}(?![\w])")
_HEXDUMP_RE = re.compile(r"(?:(?<![\w])[0-9a-fA-F]{2}[ :]){16,}[0-9a-fA-F]{2}(?![\w])")
_NUM_TOKEN_RE = re.compile(r"[-+−(]?[$€£¥]?\d[\d.,:/'’]*%?[)]?")
_SENT_END = (".", "!", "?", "。", "！", "？", ":", ";")
_CLOSERS = "\"'”’»)）」』"
_TRAILING_REF_RE = re.compile(r"\s*[\[(][^\])]{0,40}[\])]$")


def _fail(reason: str, value: float, threshold: float, op: str = ">") -> tuple[bool, str, str]:
    return False, reason, f"{value:.4g} {op} {threshold:g}"


def blob_chars(text: str, hex_too: bool = True) -> int:
    """Characters in base64 runs (mixed case and digits, few '/'), hex runs and hex dumps
    (``hex_too=False`` skips the last two, for text with too few digits to hold them)."""
    n = 0
    for m in _B64_RE.finditer(text):
        s = m.group()
        # A path or a long identifier matches the alphabet too; base64 of binary data mixes
        # upper case, lower case and digits, and has few slashes.
        if (
            s.count("/") * 8 < len(s)
            and any(c.isdigit() for c in s)
            and not s.islower()
            and not s.isupper()
        ):
            n += len(s)
    if hex_too:
        n += sum(len(m.group()) for m in _HEX_RE.finditer(text) if not m.group().isdigit())
        n += sum(len(m.group()) for m in _HEXDUMP_RE.finditer(text))
    return n


def is_numeric_line(s: str) -> bool:
    toks = s.replace("|", " ").split()
    if len(toks) < 4:
        return False
    return sum(_NUM_TOKEN_RE.fullmatch(t) is not None for t in toks) >= 0.8 * len(toks)


class WebFilter(QurateFilter):
    """The web rules of ``WebConfig`` as one datatrove step (mark, don't drop)."""

    name = "🕸 qurate web"
    stage = "web"

    def __init__(self, config: WebConfig | None = None) -> None:
        super().__init__()
        self.cfg = config or WebConfig()

    def _is_code(self, doc: Document, lines: list[str], text: str) -> bool:
        """Metadata hints or mostly code lines; with ``text``, also the heuristics' density
        of code symbols (which table rows and base64 share, so not for those rules)."""
        if not self.cfg.code_aware:
            return False
        st = line_stats(lines, (".",), 30, 3)
        return looks_like_code(doc.metadata, st, 0.5, text)

    def filter(self, doc: Document) -> bool | tuple:
        cfg = self.cfg
        text = doc.text
        lines = text.split("\n")
        chrome = find_chrome(lines, text.lower(), cfg.max_chrome_line_words)
        # Link density and blobs are judged on the whole page; the line rules on its body.
        body_lines = lines
        if chrome.cut:
            drop = {i for i, _ in chrome.cut}
            body_lines = [ln for i, ln in enumerate(lines) if i not in drop]
        verdict = self._document_rules(text, body_lines, chrome)
        from_chrome = verdict is None  # any verdict now comes from the chrome rules
        if verdict is None and chrome.hits:
            verdict = self._chrome_rules(text, body_lines, chrome)
        if verdict is None and not chrome.cut:
            return True
        # Only now, on the few pages a rule touched, pay for the code check. Blob, number
        # and link rules use the line test only (a table or a blob is dense in symbols too).
        if self._is_code(doc, lines, text if from_chrome else ""):
            return True
        if verdict is not None:
            return verdict
        if cfg.remove_lines:
            doc.text = cut_lines(lines, chrome)
            counts: dict[str, int] = {}
            for _, cls in chrome.cut:
                counts[cls] = counts.get(cls, 0) + 1
            doc.metadata[REMOVED_KEY] = {
                "lines": counts,
                "chars": chrome.n_chars,
                "first": [lines[i][:_SHOW_CHARS] for i, _ in chrome.cut[:_SHOW_LINES]],
            }
        return True

    def _chrome_rules(self, text: str, body_lines: list[str], chrome: Chrome) -> tuple | None:
        """A page that is mostly chrome, or whose body is a stub or has no prose at all."""
        cfg = self.cfg
        cls = f"web_{chrome.main_class()}"
        if chrome.cut and cfg.max_chrome_frac is not None:
            frac = chrome.n_chars / max(len(text), 1)
            if frac > cfg.max_chrome_frac:
                return _fail(cls, frac, cfg.max_chrome_frac)
            n_body = sum(n_words(s) for s in body_lines)
            if n_body < cfg.min_body_words:
                return _fail(cls, n_body, cfg.min_body_words, "body words <")
        if (
            cfg.min_prose_frac is not None
            and chrome.cut
            and sum(chrome.hits.values()) >= cfg.min_chrome_hits
            and not chrome.licence
        ):
            # Menus, "read more" links and paging around a list of titles: a category page.
            prose = total = 0
            rows = [s for s in map(str.strip, body_lines) if s]
            for i, s in enumerate(rows):
                total += len(s)
                nw = n_words(s)
                if s[0] == "|" or s[-1] == "|":
                    # A table row of descriptions is content; menus are not tables.
                    prose += len(s) if nw >= 10 else 0
                    continue
                if nw < 6:
                    continue
                s = _TRAILING_REF_RE.sub("", s)  # "... [1913 Webster]", "... (see below)"
                # A sentence ends here, or a hard-wrapped one goes on (next line in lower
                # case); a title does neither.
                nxt = rows[i + 1] if i + 1 < len(rows) else ""
                if nw >= 20 or s.rstrip(_CLOSERS).endswith(_SENT_END[:4]) or nxt[:1].islower():
                    prose += len(s)
            frac = prose / max(total, 1)
            if frac < cfg.min_prose_frac:
                return _fail("web_navigation", frac, cfg.min_prose_frac, "prose share <")
        return None

    def _document_rules(self, text: str, lines: list[str], chrome: Chrome) -> tuple | None:
        cfg = self.cfg
        n_chars = max(len(text) - text.count("\n") - text.count(" "), 1)
        if cfg.max_url_frac is not None and ("://" in text or "www." in text):
            urls = _URL_RE.findall(text)
            if len(urls) >= cfg.min_urls:
                frac = sum(map(len, urls)) / n_chars
                if frac > cfg.max_url_frac:
                    return _fail("web_link_density", frac, cfg.max_url_frac)
        n_digits = sum(map(text.count, "0123456789"))
        # Base64 of binary data is ~15% digits and hex ~60%: a page whose blobs could pass
        # max_blob_frac has digits; most prose has under 1%, so most pages skip the scans.
        if cfg.max_blob_frac is not None and n_digits >= 0.1 * cfg.max_blob_frac * n_chars:
            n_blob = blob_chars(text, hex_too=n_digits >= 0.5 * cfg.max_blob_frac * n_chars)
            if n_blob >= cfg.min_blob_chars and n_blob / n_chars > cfg.max_blob_frac:
                return _fail("web_encoded_blob", n_blob / n_chars, cfg.max_blob_frac)
        nonempty = [s for s in lines if s.strip()]
        if not nonempty:
            return None
        if cfg.max_numeric_line_frac is not None:
            if n_digits > 0.2 * n_chars:
                n_body = sum(map(len, nonempty))
                num = [s for s in nonempty if is_numeric_line(s)]
                frac = len(num) / len(nonempty)
                if (
                    len(num) >= cfg.min_numeric_lines
                    and frac > cfg.max_numeric_line_frac
                    and sum(map(len, num)) > 0.5 * n_body
                ):
                    return _fail("web_numeric_table", frac, cfg.max_numeric_line_frac)
        if cfg.max_anchor_list_frac is not None and chrome.anchor_chars:
            frac = chrome.anchor_chars / max(chrome.body_chars, 1)
            if frac > cfg.max_anchor_list_frac:
                return _fail("web_anchor_list", frac, cfg.max_anchor_list_frac)
        return None
