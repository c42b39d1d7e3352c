"""Text normalisation: mojibake repair, Unicode NFC, line breaks, control characters.

Runs before language ID and the heuristics so that they see the text a reader would. Only
changes that cannot alter meaning are made:

- mojibake repair with ftfy (``fix_encoding`` and friends), but *not* ftfy's cosmetic
  rewrites: quotes stay curly, full-width CJK punctuation stays full-width, HTML entities
  stay as written (a document *about* ``&amp;`` must keep it), ligatures stay;
- Unicode NFC (never NFKC: it would turn ``x²`` into ``x2`` and ``ℝ`` into ``R``);
- ``\\r\\n`` and lone ``\\r`` become ``\\n``;
- C0/C1 control characters, except ``\\n`` and ``\\t``, and byte-order marks are removed.

Backslashes, dollars and braces are never touched, so LaTeX survives. Each change is
recorded in ``doc.metadata["normalized"]`` (e.g. ``["mojibake", "nfc"]``); a document whose
text is empty or whitespace after normalisation is rejected with reason ``empty``.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy
from datatrove.data import Document

from qurate.filters.base import QurateFilter

NORMALIZED_KEY = "normalized"

# ftfy's encoding repairs only; its cosmetic options are off (see the module docstring).
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=True,
    fix_encoding=True,
    restore_byte_a0=True,
    replace_lossy_sequences=True,
    decode_inconsistent_utf8=True,
    fix_c1_controls=True,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=True,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe]")
_NEWLINE_RE = re.compile("\r\n?|[\u2028\u2029\x85]")


def normalize_text(text: str) -> tuple[str, list[str]]:
    """Return the normalised text and the names of the changes made, in order."""
    changes: list[str] = []
    if not text.isascii():
        # ASCII text cannot hold mojibake; ftfy is the costliest step, so skip it there.
        fixed = ftfy.fix_text(text, _FTFY)
        if fixed != text:
            changes.append("mojibake")
            text = fixed
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
            changes.append("nfc")
    if "\r" in text or not text.isascii():
        fixed = _NEWLINE_RE.sub("\n", text)
        if fixed != text:
            changes.append("newlines")
            text = fixed
    fixed = _CONTROL_RE.sub("", text)
    if fixed != text:
        changes.append("control_chars")
        text = fixed
    return text, changes


class Normalize(QurateFilter):
    """Normalise ``doc.text`` in place; reject documents left empty (reason ``empty``)."""

    name = "🔤 qurate normalize"
    stage = "normalize"

    def filter(self, doc: Document) -> bool | tuple:
        text, changes = normalize_text(doc.text or "")
        if changes:
            doc.text = text
            doc.metadata[NORMALIZED_KEY] = changes
        if not text.strip():
            return False, "empty", "no text after normalisation"
        return True
