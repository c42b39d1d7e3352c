"""The one text check every reader applies: empty, too long, or binary.

Binary: more NUL characters than 1% of the text (so any NUL in a text under 100
characters). A real binary file (an image, an archive, a compiled object) decoded as
UTF-8 is full of NULs; a stray NUL in a long web page or source file is noise that
``Normalize`` removes, not a reason to drop the document. Before this module the corpus
reader used ">1% and at least 2" and the code-file reader "any NUL": the same bytes were
binary or not depending on which command read them.
"""

from __future__ import annotations

from datatrove.data import Document

from qurate.contract.rejects import reject

BINARY_NUL_SHARE = 0.01


def binary_reason(text: str) -> str | None:
    """Why ``text`` looks like binary data, or None when it does not."""
    nul = text.count("\x00")
    if nul and nul > int(len(text) * BINARY_NUL_SHARE):
        return f"{nul:,} NUL characters in {len(text):,} (more than 1%: binary data?)"
    return None


def check_text(doc: Document, where: str, max_chars: int, stage: str) -> None:
    """Mark ``doc`` rejected (``empty``, ``too_long`` or ``binary``) when its text is unusable."""
    text = doc.text
    if not text.strip():
        reject(doc, "empty", stage, f"{where}: empty or whitespace-only text")
    elif len(text) > max_chars:
        reject(
            doc, "too_long", stage, f"{where}: {len(text):,} characters > max_chars {max_chars:,}"
        )
    elif (why := binary_reason(text)) is not None:
        reject(doc, "binary", stage, f"{where}: {why}")
