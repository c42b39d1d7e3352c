"""``TokenCounter`` gives exactly the tokenizer's own counts, on every code point, fuzzed text,
real sample text, texts holding special-token strings, and tokenizers it does not memoise."""

from __future__ import annotations

import gzip
import json
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from qurate.contract import token_counts
from qurate.contract.steps import DEFAULT_TOKENIZER
from qurate.contract.token_counts import _UNIT_RE, TokenCounter


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer.from_file(str(DEFAULT_TOKENIZER))


def hf_counts(tok: Tokenizer, texts: list[str]) -> list[int]:
    return [len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False)]


def _probe(c: str) -> str:
    # " {c}x" splits differently when only one side takes c for whitespace; "\n {c}y" when
    # only the other does.
    return f" {c}x\n {c}y"


def test_units_are_pieces_of_the_tokenizer_on_every_code_point(tok) -> None:
    """The claim the memo rests on: the tokenizer's pieces of a text are the pieces of its
    units, one unit at a time. A code point that the tokenizer's regex treats as
    whitespace and ``_WS`` does not (or the reverse) breaks it in these contexts. All of
    the Basic Multilingual Plane, and every assigned code point above it."""
    pre = tok.pre_tokenizer
    cps = [
        cp
        for cp in range(0x110000)
        if not 0xD800 <= cp <= 0xDFFF and (cp < 0x10000 or unicodedata.category(chr(cp)) != "Cn")
    ]
    bad = []
    for i in range(0, len(cps), 8192):
        chunk = cps[i : i + 8192]
        text = "|".join(_probe(chr(cp)) for cp in chunk)
        whole = [p for p, _ in pre.pre_tokenize_str(text)]
        parts = [p for u in _UNIT_RE.findall(text) for p, _ in pre.pre_tokenize_str(u)]
        if whole != parts:
            bad += [hex(cp) for cp in chunk if _split_differs(pre, _probe(chr(cp)))]
    assert bad == []


def _split_differs(pre, text: str) -> bool:
    whole = [p for p, _ in pre.pre_tokenize_str(text)]
    return whole != [p for u in _UNIT_RE.findall(text) for p, _ in pre.pre_tokenize_str(u)]


_ALPHABET = list(
    "ab Zé'sdtmlv1 2.,!?-_\n\n\r\t\x0b\x0c\x1c\x1f\x85\xa0\u2002\u2028\u3000\u200b"
    "中文字かなア한글ü\u0301²Ⅻ🙂<|>"
) + ["'s", "'re", "  ", " \n", "\n ", "<|endoftext|>", "<|im_start|>", "foo", " the"]


@pytest.fixture(scope="module")
def warm() -> TokenCounter:
    return TokenCounter(DEFAULT_TOKENIZER)  # its memo grows over the examples


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(_ALPHABET), max_size=60).map("".join), max_size=8))
def test_fuzzed_texts_count_as_the_tokenizer_does(tok, warm, texts) -> None:
    counter = warm
    assert counter.memoised
    assert counter.count(texts) == hf_counts(tok, texts)
    assert counter.count(texts[::-1]) == hf_counts(tok, texts[::-1])  # from a warm memo


def _sample_texts() -> list[str]:
    sample = DEFAULT_TOKENIZER.parent / "sample"
    texts = [json.loads(line)["text"] for line in (sample / "docs.jsonl").open()]
    texts += [json.loads(line)["text"] for line in (sample / "web.jsonl").open()]
    with gzip.open(sample / "literature.jsonl.gz", "rt") as fh:
        texts += [json.loads(line)["text"] for line in fh]
    texts += [p.read_text() for p in sorted((sample / "notes").iterdir())]
    return texts


def test_real_text_counts_match_across_batches(tok) -> None:
    texts = _sample_texts()
    assert len(texts) > 100
    counter = TokenCounter(DEFAULT_TOKENIZER)
    got = [n for i in range(0, len(texts), 64) for n in counter.count(texts[i : i + 64])]
    assert got == hf_counts(tok, texts)
    again = TokenCounter(DEFAULT_TOKENIZER)  # the next task in this process: a warm memo
    assert again._memo is counter._memo and len(again._memo) > 1000
    assert again.count(texts) == got


def test_a_full_memo_is_forgotten_and_counts_stay_right(tok, monkeypatch) -> None:
    monkeypatch.setattr(token_counts, "MAX_MEMO", 50)
    texts = _sample_texts()[:40]
    counter = TokenCounter(DEFAULT_TOKENIZER)
    got = [n for t in texts for n in counter.count([t])]
    assert got == hf_counts(tok, texts)
    assert len(counter._memo) <= max(50, max(len(set(_UNIT_RE.findall(t))) for t in texts))


def test_special_token_strings_are_counted_whole(tok) -> None:
    texts = ["end <|endoftext|> here", "<|im_start|>user\nhi<|im_end|>", "plain text"]
    counts = TokenCounter(DEFAULT_TOKENIZER).count(texts)
    assert counts == hf_counts(tok, texts)
    assert counts[0] < len(tok.encode("end <|endoftext| > here", add_special_tokens=False).ids)


def test_other_tokenizers_are_encoded_as_they_are(tmp_path, tok) -> None:
    """A normaliser or another pre-tokeniser can move the pieces: no memo, same counts."""
    other = Tokenizer.from_file(str(DEFAULT_TOKENIZER))
    other.normalizer = normalizers.NFKC()
    path = tmp_path / "nfkc.json"
    other.save(str(path))
    counter = TokenCounter(path)
    assert not counter.memoised
    texts = ["ﬁne x² ｆｕｌｌ", "plain"]
    assert counter.count(texts) == hf_counts(other, texts)
    assert counter.count(texts) != hf_counts(tok, texts)  # the normaliser mattered

    wordlevel = Tokenizer(models.WordLevel({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    wordlevel.pre_tokenizer = pre_tokenizers.Whitespace()
    path = tmp_path / "wl.json"
    wordlevel.save(str(path))
    counter = TokenCounter(path)
    assert not counter.memoised
    assert counter.count(["a b  a"]) == [3]
