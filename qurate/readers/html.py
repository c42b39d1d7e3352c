"""HTML to main text, through datatrove's Trafilatura extractor (the FineWeb choice).

Three Trafilatura (1.11) behaviours are corrected here, measured on the web held-out set
(``bench/webset.py``, dev sides only):

- When the main frame holds under ``MIN_EXTRACTED_SIZE`` characters (250 by default, so most
  short pages and nearly every CJK page), Trafilatura "recovers wild text": it appends every
  ``<p>``/``<pre>``/``<table>`` of the whole page to what it already found, so the short body
  comes out twice, followed by breadcrumbs and sharing bars; failing that, its last-resort
  baseline joins the page into one line. 8 good dev pages of 813 (7 Chinese) arrived doubled
  and were then dropped by the repetition rules. The threshold is set to 0: recovery still
  runs when the main frame is empty, and never re-adds text already extracted.
- When its own extraction looks thin (more tables than paragraphs, say), Trafilatura swaps in
  readability's or jusText's, which flatten the page: table cells one per line, headings and
  list bullets gone, so a reference page of shortcut tables reads as a run of short
  unpunctuated lines that the line rules drop. ``no_fallback`` keeps Trafilatura's own
  extraction: on 3,021 dev pages it lost no body line, kept rows as ``cell | cell |``, and
  halved the extraction time (12.0 s -> 6.3 s on 813 pages).
- A bare ``<pre>`` loses its line breaks (``<pre><code>`` keeps them), so a program arrived
  as one line. Bare ``<pre>`` blocks are wrapped in ``<code>`` first. Trafilatura still trims
  each line, so indentation and blank lines inside the block are not kept.
"""

from __future__ import annotations

import re
from functools import lru_cache

_PRE_RE = re.compile(r"(<pre\b[^>]*>)(.*?)(</pre\s*>)", re.IGNORECASE | re.DOTALL)
_CODE_OPEN_RE = re.compile(r"<code\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _extractor():
    from datatrove.pipeline.extractors import Trafilatura
    from trafilatura.settings import use_config

    config = use_config()  # a fresh copy: Trafilatura's module default stays untouched
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "0")
    return Trafilatura(favour_precision=True, deduplicate=False, config=config, no_fallback=True)


def _wrap_pre(match: re.Match[str]) -> str:
    open_tag, inner, close_tag = match.groups()
    if _CODE_OPEN_RE.search(inner):
        return match.group(0)
    return f"{open_tag}<code>{inner}</code>{close_tag}"


def html_to_text(html: str) -> str:
    """The main text of an HTML page, or "" when there is none."""
    if "<pre" in html or "<PRE" in html:
        html = _PRE_RE.sub(_wrap_pre, html)
    try:
        return (_extractor().extract(html) or "").strip()
    except Exception:  # trafilatura raises on some malformed markup; that page has no text
        return ""
