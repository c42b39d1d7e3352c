"""Fast, CJK-aware word tokenisation shared by every heuristic rule.

Stock datatrove runs a spaCy tokenizer inside each of its quality filters; that is where most
of a curate run's time goes, and on Chinese, Japanese or Thai text spaCy's blank English
model returns whole sentences as single "words", so word-based rules drop good documents.
Here a document is tokenised once, by one compiled regular expression:

- scripts written without spaces (Han, Hiragana, Thai, Lao, Khmer, Myanmar) yield one token
  per character, the usual unit for statistics on such text (a Chinese word is ~1.5
  characters, so "50 words" becomes "50 characters", a short paragraph); a run of Katakana
  is one token, since it spells one (loan)word;
- every other letter run (Latin, Cyrillic, Greek, Arabic, Hangul, Indic scripts with their
  combining vowel signs) is one token, with inner apostrophes kept (``don't``);
- each run of punctuation or symbols is one symbol token, as spaCy makes them, so ratios
  over "all tokens" (Gopher's alphabetic-word ratio) keep their meaning.

``tokenize`` returns a ``Tokens`` value that the heuristics cache in ``doc.metadata`` under
``TOKENS_KEY`` (a ``_`` key: per-process, never written to a shard).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from datatrove.data import Document

TOKENS_KEY = "_qurate_tokens"

# Scripts written without spaces between words: one token per character.
_NO_SPACE = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u2e80-\u2fdf"  # CJK radicals
    "\u3005-\u3007\u3021-\u3029\u3031-\u3035"  # CJK iteration marks, Hangzhou numerals
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u31f0-\u31ff"  # Katakana extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9f"  # half-width Katakana
    "\U00020000-\U0003134f"  # CJK extensions B-G
)
# Combining marks that Python's \w does not count as word characters but that sit inside
# words (Indic vowel signs, Arabic and Hebrew points, combining diacritics).
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
    "\u06d6-\u06ed\u0711\u0730-\u074a\u0900-\u0963\u0966-\u0dff\u0f18-\u0f39\u0f71-\u0f84"
    "\u1ab0-\u1aff\u1dc0-\u1dff\u200c\u200d\u20d0-\u20ff\ufe20-\ufe2f"
)
_WORD_CHAR = rf"(?:[^\W{_NO_SPACE}]|[{_MARKS}])"
# A run of Katakana is one word (a loanword: バックアップ "backup"); split per character,
# one six-letter word repeated in a help page looked like a repeated 6-gram.
_KATAKANA_RUN = "[\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9f]{2,}"
_SYMBOL_RUN = rf"[^\w\s{_MARKS}{_NO_SPACE}]+"
TOKEN_RE = re.compile(
    rf"{_KATAKANA_RUN}"  # a Katakana word
    rf"|[{_NO_SPACE}]"  # one CJK/Thai character
    rf"|{_WORD_CHAR}+(?:['\u2019]{_WORD_CHAR}+)*"  # a spaced-script word
    rf"|{_SYMBOL_RUN}"  # a run of punctuation / symbols
)
NO_SPACE_RE = re.compile(rf"[{_NO_SPACE}]")
_KATAKANA_RE = re.compile(_KATAKANA_RUN)
_MARKS_RE = re.compile(rf"[{_MARKS}]")
# Word and symbol patterns used separately (two C-level scans beat one scan plus a Python
# loop that sorts tokens). The per-character alternation that admits combining marks is
# slow, so texts without marks, and pure-ASCII texts, get simpler equivalent patterns.
_WORDS_MARKS_RE = re.compile(
    rf"{_KATAKANA_RUN}|[{_NO_SPACE}]|{_WORD_CHAR}+(?:['\u2019]{_WORD_CHAR}+)*"
)
_WORDS_RE = re.compile(
    rf"{_KATAKANA_RUN}|[{_NO_SPACE}]|[^\W{_NO_SPACE}]+(?:['\u2019][^\W{_NO_SPACE}]+)*"
)
_SYMBOLS_RE = re.compile(_SYMBOL_RUN)
_ASCII_WORDS_RE = re.compile(r"[A-Za-z0-9_]+(?:'[A-Za-z0-9_]+)*")
_ASCII_SYMBOLS_RE = re.compile(r"[^A-Za-z0-9_\s]+")
# For ASCII text the symbol runs are only counted: map each byte to "s" (symbol) or " "
# (anything else) and count the space-separated runs, several times faster than findall.
_ASCII_SYMBOL_TAB = bytes(
    ord(" ") if b >= 128 or not _ASCII_SYMBOLS_RE.match(chr(b)) else ord("s") for b in range(256)
)


@dataclass(slots=True)
class Tokens:
    """One document's tokenisation.

    ``words``: word tokens (no symbol tokens), in order. ``n_symbols``: symbol tokens.
    ``n_no_space``: how many words are of a no-space script (CJK characters, Thai characters,
    Katakana runs).
    """

    words: list[str]
    n_symbols: int
    n_no_space: int

    @property
    def n_words(self) -> int:
        return len(self.words)

    @property
    def n_tokens(self) -> int:
        return len(self.words) + self.n_symbols

    @property
    def no_space_frac(self) -> float:
        """Share of words from scripts without spaces: > 0.5 means a CJK/Thai document."""
        return self.n_no_space / len(self.words) if self.words else 0.0


def tokenize(text: str) -> Tokens:
    """Split ``text`` into word and symbol tokens (see the module docstring).

    Symbol runs are counted by their own scan, so an apostrophe inside a word (``don't``)
    also counts as a symbol; only ratios over all tokens use the count.
    """
    if text.isascii():
        words = _ASCII_WORDS_RE.findall(text)
        n_symbols = len(text.encode().translate(_ASCII_SYMBOL_TAB).split())
        return Tokens(words=words, n_symbols=n_symbols, n_no_space=0)
    pattern = _WORDS_MARKS_RE if _MARKS_RE.search(text) else _WORDS_RE
    words = pattern.findall(text)
    n_no_space = len(NO_SPACE_RE.findall(text))
    if _KATAKANA_RE.search(text):  # each run is one token, not one per character
        n_no_space -= sum(len(run) - 1 for run in _KATAKANA_RE.findall(text))
    return Tokens(words=words, n_symbols=len(_SYMBOLS_RE.findall(text)), n_no_space=n_no_space)


def doc_tokens(doc: Document) -> Tokens:
    """The document's tokens, computed once and cached in ``doc.metadata[TOKENS_KEY]``.

    The cache is keyed by the text itself, so a step that rewrites ``doc.text`` (e.g.
    normalisation) cannot leave stale tokens behind.
    """
    cached = doc.metadata.get(TOKENS_KEY)
    if cached is not None and cached[0] is doc.text:
        return cached[1]
    toks = tokenize(doc.text)
    doc.metadata[TOKENS_KEY] = (doc.text, toks)
    return toks


def split_words(text: str) -> list[str]:
    """Word tokens only (for callers that need a plain list, e.g. n-gram hashing)."""
    return tokenize(text).words
