"""HTML to main text, through datatrove's Trafilatura extractor (the FineWeb choice)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _extractor():
    from datatrove.pipeline.extractors import Trafilatura

    return Trafilatura(favour_precision=True, deduplicate=False)


def html_to_text(html: str) -> str:
    """The main text of an HTML page, or "" when there is none."""
    try:
        return (_extractor().extract(html) or "").strip()
    except Exception:  # trafilatura raises on some malformed markup; that page has no text
        return ""
