"""Byte-level BPE with Qwen's special tokens, uint32 ids, any tokenizer.json loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qurate.errors import BadInputError
from qurate.train.tokenizer import SPECIAL_TOKENS, encode, eos_id, load_tokenizer, vocab_size


def test_trained_bpe_has_qwen_specials_and_round_trips(tokenizer_dir: Path) -> None:
    tok = load_tokenizer(tokenizer_dir)
    for special in SPECIAL_TOKENS:
        assert tok.token_to_id(special) is not None
    assert vocab_size(tok) <= 300
    text = "def f(x): return 12345 + 中文 ünïcode\n"
    ids = encode(tok, [text])[0]
    assert ids.dtype == np.uint32
    assert tok.decode(ids.tolist()) == text  # byte-level: nothing is lost, even unseen chars
    # digits are split one by one, as in Qwen's pre-tokenizer
    assert all(len(tok.id_to_token(i)) == 1 for i in tok.encode("12345").ids)
    assert eos_id(tok) == tok.token_to_id("<|endoftext|>")


def test_uint32_holds_qwen_sized_ids() -> None:
    ids = np.asarray([151643, 70000], dtype=np.uint32)
    assert ids.tolist() == [151643, 70000]  # uint16 would wrap both


def test_missing_tokenizer_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no tokenizer.json"):
        load_tokenizer(tmp_path)
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(BadInputError, match="cannot read tokenizer"):
        load_tokenizer(tmp_path)
