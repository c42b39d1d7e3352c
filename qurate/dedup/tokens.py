"""Vectorised tokenisation and n-gram hashing shared by dedup and decontamination.

Stock datatrove spends most of its MinHash time in Python: a regex-based ``simplify_text``,
a word tokeniser, then one ``xxhash`` call per n-gram string. Here a whole batch of texts
becomes one array of code points and everything after ``str.lower`` is numpy:

1. every code point is classed through a 1.1M-entry lookup table: separator (whitespace,
   punctuation, symbols), word character (Unicode letters, digits, combining marks), or
   *character-token* script (Han, kana, Thai, Lao, Khmer, Myanmar: scripts written
   without spaces, where each character is one token; so Chinese near-duplicates are
   found on character n-grams instead of collapsing a whole paragraph into one "word");
2. a token's hash is a polynomial over its code points, summed with ``np.add.reduceat``
   and finished with the murmur3 64-bit mixer;
3. an n-gram's hash mixes its n token hashes with position-dependent odd multipliers.

Both sides of decontamination (benchmark and corpus) and all documents of a dedup run go
through the same functions, so equal token sequences always give equal hashes. The hashes
are an internal format: they are stable across processes and runs (no Python ``hash``,
no per-process salt) but not across qurate versions that change this module.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np

SEP, WORD, CHAR = 0, 1, 2

# Scripts written without spaces: each character is its own token.
_CHAR_TOKEN_RANGES = [
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3134F),  # CJK extensions B-G
]

_BASE = np.uint64(0x100000001B3)  # odd multiplier for the per-token polynomial
_BASE_INV = np.uint64(pow(0x100000001B3, -1, 1 << 64))
_MAX_CHARS = 1 << 20  # code points per numpy pass: bounds memory for huge texts
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
# Per-position multipliers for n-gram mixing (odd, fixed: part of the hash format).
_POS_MULT = np.random.default_rng(0x5EED).integers(1, 2**63, size=256, dtype=np.uint64) * np.uint64(
    2
) + np.uint64(1)

_table: np.ndarray | None = None
_pows: np.ndarray | None = None


def char_table() -> np.ndarray:
    """The code point -> class table (built once per process, ~0.5 s)."""
    global _table
    if _table is None:
        cats = np.zeros(0x110000, dtype=np.uint8)
        for cp in range(0x110000):
            # Letters, numbers and combining marks (Devanagari vowel signs, accents in NFD)
            # are word characters; everything else separates tokens.
            if unicodedata.category(chr(cp))[0] in "LNM":
                cats[cp] = WORD
        for lo, hi in _CHAR_TOKEN_RANGES:
            seg = cats[lo : hi + 1]
            seg[seg == WORD] = CHAR
        cats[0x3005:0x3008] = CHAR
        _table = cats
    return _table


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``B**i`` and ``B**-i`` (mod 2**64) for i < n; grown on demand, shared by all calls."""
    global _pows
    if _pows is None or _pows[0].size < n:
        size = max(1 << 16, 1 << (n - 1).bit_length())
        p = np.full(size, _BASE, dtype=np.uint64)
        p[0] = 1
        q = np.full(size, _BASE_INV, dtype=np.uint64)
        q[0] = 1
        _pows = (np.cumprod(p, dtype=np.uint64), np.cumprod(q, dtype=np.uint64))  # wrap mod 2**64
    return _pows


def fmix64(x: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser: spreads entropy into every bit (in place on a copy)."""
    x = x ^ (x >> _S33)
    x *= _M1
    x ^= x >> _S33
    x *= _M2
    x ^= x >> _S33
    return x


def tokenize_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hash every token of every text.

    Returns ``(hashes, offsets)``: ``hashes`` is uint64 over all texts' tokens in order,
    and the tokens of text ``i`` are ``hashes[offsets[i]:offsets[i + 1]]``. Tokens are
    lowercased words (letters, digits, marks) or single characters of scripts written
    without spaces; punctuation and whitespace only separate.
    """
    pieces: list[np.ndarray] = []
    counts = np.zeros(len(texts), dtype=np.int64)
    group: list[str] = []
    owners: list[int] = []
    size = 0

    def flush() -> None:
        nonlocal size
        if group:
            toks, offs = _tokenize_joined(group)
            pieces.append(toks)
            np.add.at(counts, owners, np.diff(offs))
            group.clear()
            owners.clear()
            size = 0

    for i, text in enumerate(texts):
        for part in _split_long(text.lower()):
            if size + len(part) > _MAX_CHARS:
                flush()
            group.append(part)
            owners.append(i)
            size += len(part) + 1
    flush()
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    hashes = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.uint64)
    return hashes, offsets


def _split_long(text: str) -> list[str]:
    """Cut a text longer than one numpy pass at whitespace (hard cut if there is none)."""
    if len(text) <= _MAX_CHARS:
        return [text]
    parts, start = [], 0
    while len(text) - start > _MAX_CHARS:
        cut = max(
            text.rfind(" ", start, start + _MAX_CHARS), text.rfind("\n", start, start + _MAX_CHARS)
        )
        cut = cut if cut > start else start + _MAX_CHARS
        parts.append(text[start:cut])
        start = cut
    parts.append(text[start:])
    return parts


def _tokenize_joined(lowered: list[str]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(t) + 1 for t in lowered), dtype=np.int64, count=len(lowered))
    # One separator after each text keeps tokens from spanning two texts.
    joined = "\n".join(lowered) + "\n"
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cls = char_table()[cps]
    word = cls == WORD
    char = cls == CHAR
    start_mask = char.copy()
    start_mask[1:] |= word[1:] & ~word[:-1]
    start_mask[0] |= word[0]
    starts = np.flatnonzero(start_mask)
    offsets = np.zeros(len(lowered) + 1, dtype=np.int64)
    if starts.size == 0:
        return np.zeros(0, dtype=np.uint64), offsets
    # Polynomial over absolute positions, then shifted back to the token's start:
    # sum(c_k * B**k for k in token) * B**-start == sum(c_k * B**(k - start)).
    pw, inv = _powers(cps.size)
    vals = cps.astype(np.uint64)
    vals *= pw[: cps.size]
    vals[~(word | char)] = 0
    tok = np.add.reduceat(vals, starts)
    tok *= inv[starts]
    tok += _GOLDEN
    offsets[1:] = np.searchsorted(starts, np.cumsum(lengths), side="left")
    return fmix64(tok), offsets


def single_char_tokens() -> np.ndarray:
    """Sorted hashes of the one-character ASCII tokens (a-z, 0-9): list markers and digits."""
    toks, _ = tokenize_hashes([" ".join("abcdefghijklmnopqrstuvwxyz0123456789")])
    return np.sort(toks)


def ngram_hashes(tokens: np.ndarray, n: int) -> np.ndarray:
    """64-bit hashes of all contiguous n-grams of one text's token hashes.

    A text with fewer than ``n`` tokens gives no n-grams (callers decide what to do).
    """
    if n < 1 or n > _POS_MULT.size:
        raise ValueError(f"n-gram size must be in 1..{_POS_MULT.size}, got {n}")
    m = tokens.size - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64)
    acc = tokens[:m] * _POS_MULT[0]
    for k in range(1, n):
        acc += tokens[k : k + m] * _POS_MULT[k]
    return fmix64(acc + np.uint64(n))


def multi_ngram_hashes(
    tokens: np.ndarray, offsets: np.ndarray, ns: Sequence[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each ``n`` in ``ns``: ``(hashes, text_of_each)`` of all n-grams inside one text.

    The n-gram hash is a prefix sum over positions, so one sweep up to ``max(ns)`` yields
    every length (the decontamination filter checks 13-grams and a few shorter lengths).
    """
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    wanted = set(ns)
    if not wanted:
        return out
    size = tokens.size
    text_of = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    acc = tokens * _POS_MULT[0]
    # no n-gram is longer than the batch: a few short texts (a small eval set) broke this
    for k in range(min(max(wanted), size)):
        if k:
            acc[: size - k] += tokens[k:] * _POS_MULT[k]
        n = k + 1
        if n not in wanted or size < n:
            continue
        m = size - n + 1
        keep = np.flatnonzero(text_of[:m] == text_of[n - 1 :])  # first and last token in one text
        out[n] = (fmix64(acc[keep] + np.uint64(n)), text_of[keep])
    return out


def batch_ngram_hashes(
    tokens: np.ndarray, offsets: np.ndarray, n: int, *, short_as_one: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """n-gram hashes for a batch (as returned by :func:`tokenize_hashes`), never crossing texts.

    With ``short_as_one``, a text with 1..n-1 tokens gives one shingle over all its tokens,
    so very short texts still get a signature. Returns ``(hashes, shingle_offsets)``.
    """
    counts = np.diff(offsets)
    if tokens.size >= n:
        allg = ngram_hashes(tokens, n)
        starts = np.arange(allg.size)
        # Text owning the n-gram's first token; valid if its last token is in the same text.
        owner = np.searchsorted(offsets, starts, side="right") - 1
        keep = starts + n <= offsets[owner + 1]
        grams, owner = allg[keep], owner[keep]
    else:
        grams, owner = np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    if short_as_one:
        short = np.flatnonzero((counts > 0) & (counts < n))
        if short.size:
            extra = np.array(
                [
                    ngram_hashes(tokens[offsets[i] : offsets[i + 1]], int(counts[i]))[0]
                    for i in short
                ],
                dtype=np.uint64,
            )
            grams = np.concatenate([grams, extra])
            owner = np.concatenate([owner, short])
            order = np.argsort(owner, kind="stable")
            grams, owner = grams[order], owner[order]
    shingle_offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    shingle_offsets[1:] = np.cumsum(np.bincount(owner, minlength=len(counts)))
    return grams, shingle_offsets
