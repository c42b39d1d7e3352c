"""The mojibake rule: text damaged by a wrong code page that normalisation could not repair."""

from __future__ import annotations

import re

from ftfy.badness import badness

from qurate.filters.heuristics.config import QualityConfig

Result = bool | tuple[bool, str, str]

# UTF-8 read as cp1252/Latin-1 leaves a lead-byte letter (Â-ô) before a continuation-byte
# character; ftfy's badness score (costly) runs only on texts that contain such a pair.
_MOJIBAKE_PAIR_RE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_LATIN1_LETTER_RE = re.compile(r"[\u00c0-\u00ff]")


def fail(reason: str, value: float, threshold: float, op: str = ">") -> tuple[bool, str, str]:
    """A reject with the measured value against its threshold (``0.41 < 0.6``)."""
    return False, reason, f"{value:.4g} {op} {threshold:g}"


def mojibake(text: str, q: QualityConfig) -> Result:
    """The mojibake rules of ``QualityConfig``: lost characters (U+FFFD), cp1252 mix-ups
    ftfy recognises but could not repair, and Latin-1 letters where another script was."""
    if text.isascii():
        # No U+FFFD, no Latin-1 letters, no mojibake pair: every check below passes.
        return True
    n = len(text)
    n_fffd = text.count("\ufffd")
    if n_fffd >= 3:
        # Text decoded with the wrong codec turns most non-ASCII characters into U+FFFD;
        # repaired cp1252 mojibake keeps a few (bytes cp1252 leaves undefined).
        frac = n_fffd / n
        if q.max_replacement_char_frac is not None and frac > q.max_replacement_char_frac:
            return fail("mojibake", frac, q.max_replacement_char_frac)
        if q.max_replacement_nonascii_frac is not None:
            n_non_ascii = n - len(text.encode("ascii", "ignore"))
            frac = n_fffd / n_non_ascii
            if frac > q.max_replacement_nonascii_frac:
                return fail("mojibake", frac, q.max_replacement_nonascii_frac)
    if q.max_mojibake_per_1k is not None and _MOJIBAKE_PAIR_RE.search(text):
        # U+FFFD is judged above; here only the mojibake that ftfy recognises remains.
        bad = badness(text.replace("\ufffd", "") if n_fffd else text)
        per_1k = bad * 1000 / n
        # Two hits at least: one odd sequence in a long text is usually a real symbol.
        if bad >= 2 and per_1k > q.max_mojibake_per_1k:
            return fail("mojibake", per_1k, q.max_mojibake_per_1k)
    if q.max_latin1_letter_frac is not None:
        n_latin1 = len(_LATIN1_LETTER_RE.findall(text))
        if n_latin1 >= 20:
            n_alpha = len(text) - text.count(" ") - text.count("\n")
            frac = n_latin1 / max(n_alpha, 1)
            if frac > q.max_latin1_letter_frac:
                return fail("mojibake", frac, q.max_latin1_letter_frac)
    return True
