"""Token counts (``n_tokens``) with the configured tokenizer, memoised per whitespace unit.

Counting is the write stage's main cost: on a 3,293-document slice of bench50,
``encode_batch_fast`` took ~3.5-3.8 s of CPU, most of it the byte-level pre-tokeniser's
regex, repeated for every occurrence of every word. Only the number of ids is kept, so
for the common GPT-2-style tokenizer (the bundled one: byte-level BPE, no normaliser) the
text is cut into *units* whose token counts add up exactly, and each distinct unit is
tokenised once per process (the memo is shared by the tasks a pool worker runs):

- GPT-2's pre-tokeniser pattern (``'s|'t|...| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|
  \\s+(?!\\S)|\\s+``) never lets a piece cross a whitespace/non-whitespace border, except
  one space that joins the run after it. A run of non-whitespace, with that space, is
  tokenised the same wherever it stands; so are the whitespace pieces. ``_UNIT_RE`` is that
  pattern with the letter/number/other branches merged: it cuts where the tokenizer's
  pieces can only start, and the real tokenizer then counts each unit.
- ``_WS`` is the tokenizer regex engine's (Oniguruma's) ``\\s`` exactly, not Python's
  (which also counts ``\\x1c``-``\\x1f``): checked for every code point in
  ``tests/contract/test_token_counts.py`` (the Basic Multilingual Plane and every assigned
  code point above it), with fuzzed texts against the tokenizer itself.
- New units are counted in one call: joined by ``\\n``, which the pattern makes a piece of
  its own (one token, which no unit holds), so the ids split at that token give each
  unit's count.

Any other tokenizer (a normaliser, another pre-tokeniser such as Qwen2.5's, BPE dropout)
and any text holding an added token's string (``<|endoftext|>``) are counted by
``encode_batch_fast`` as before. Same counts (identical ``n_tokens`` on bench50, the web
sets and the eval corpus), about half the CPU on that slice: 2.1-2.9 s against 4.5-5.2 s
for ``encode_batch_fast``, alternating in one process on the loaded machine.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

# Oniguruma's \s in Unicode mode (what the tokenizers library's ByteLevel regex uses).
_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_UNIT_RE = re.compile(f" ?[^{_WS}]+|[{_WS}]+(?![^{_WS}])|[{_WS}]+")
# Units are remembered up to this many per process (~100 bytes each), then forgotten.
MAX_MEMO = 400_000
# Memos of this many tokenizers are kept per process, the oldest dropped first: a process that
# counts with many tokenizers in turn (a notebook, a sweep) kept up to ~40 MB for each.
MAX_MEMOS = 4
_SEP = "\n"
_MEMOS: dict[str, dict[str, int]] = {}


def _memo_applies(spec: dict) -> bool:
    """Whether the tokenizer.json is the byte-level BPE whose pieces ``_UNIT_RE`` respects."""
    pre = spec.get("pre_tokenizer") or {}
    model = spec.get("model") or {}
    post = spec.get("post_processor")
    return (
        spec.get("normalizer") is None
        and pre.get("type") == "ByteLevel"
        and pre.get("use_regex", True)
        and not pre.get("add_prefix_space", False)
        and model.get("type") == "BPE"
        and not model.get("dropout")
        and (post is None or post.get("type") == "ByteLevel")
    )


class TokenCounter:
    """``count(texts)``: the number of ids ``tokenizer.json`` gives each text (no special
    tokens added), the same as ``len(encode(text).ids)``."""

    def __init__(self, path: str | Path) -> None:
        from tokenizers import Tokenizer

        raw = Path(path).read_bytes()
        self._tok = Tokenizer.from_str(raw.decode("utf-8"))
        spec = json.loads(raw)
        self._added = tuple(t["content"] for t in spec.get("added_tokens", []) if t["content"])
        sep = self._tok.token_to_id("Ċ")  # "\n" as a byte-level symbol
        self._sep = sep if sep is not None and _memo_applies(spec) else None
        # Shared by the counters of one tokenizer (by content) in this process: a pool
        # worker runs several tasks, and the later ones start with the units already seen.
        key = hashlib.sha1(raw).hexdigest()
        if key not in _MEMOS and len(_MEMOS) >= MAX_MEMOS:
            del _MEMOS[next(iter(_MEMOS))]  # a counter still using it keeps its own reference
        self._memo = _MEMOS.setdefault(key, {})

    @property
    def memoised(self) -> bool:
        return self._sep is not None

    def count(self, texts: list[str]) -> list[int]:
        if self._sep is None:
            return self._encode(texts)
        counts: list[int | None] = [None] * len(texts)
        split: list[tuple[int, list[str]]] = []
        whole: list[int] = []
        for i, text in enumerate(texts):
            if any(a in text for a in self._added):
                whole.append(i)
            else:
                split.append((i, _UNIT_RE.findall(text)))
        if whole:
            for i, n in zip(whole, self._encode([texts[i] for i in whole]), strict=True):
                counts[i] = n
        memo = self._memo
        new = {u for _, units in split for u in units if u not in memo}
        if len(memo) + len(new) > MAX_MEMO:
            memo.clear()
            new = {u for _, units in split for u in units}
        if new:
            self._learn(sorted(new))
        get = memo.__getitem__
        for i, units in split:
            counts[i] = sum(map(get, units))
        return counts  # type: ignore[return-value]

    def _encode(self, texts: list[str]) -> list[int]:
        # Only the number of ids is kept: the fast variant skips character offsets.
        return [len(e) for e in self._tok.encode_batch_fast(texts, add_special_tokens=False)]

    def _learn(self, units: list[str]) -> None:
        memo = self._memo
        # Whitespace units (and the odd word unit ending in a character Python alone calls
        # space, such as \x1c) are encoded one by one; the rest hold no ``_WS`` character.
        spaces = [u for u in units if u[-1].isspace()]
        words = [u for u in units if not u[-1].isspace()]
        if spaces:
            memo.update(zip(spaces, self._encode(spaces), strict=True))
        if not words:
            return
        joined = self._tok.encode_batch_fast([_SEP.join(words)], add_special_tokens=False)[0]
        ids = np.asarray(joined.ids, dtype=np.int64)
        cuts = np.flatnonzero(ids == self._sep)
        if len(cuts) != len(words) - 1:  # cannot happen (see the module docstring); be exact
            memo.update(zip(words, self._encode(words), strict=True))
            return
        sizes = np.diff(np.concatenate(([-1], cuts, [len(ids)]))) - 1
        memo.update(zip(words, sizes.tolist(), strict=True))
