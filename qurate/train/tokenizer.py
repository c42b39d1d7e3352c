"""The tokenizer: load any ``tokenizer.json`` or train Qwen's kind of byte-level BPE.

Qwen2.5 uses byte-level BPE (no unknown tokens: every byte has a token) with a regex
pre-tokenizer that splits digits one by one, plus control tokens. We train the same kind
with the ``tokenizers`` library: NFC normalisation, Qwen's split pattern, byte-level
alphabet, and ``<|endoftext|>`` (the document separator and EOS), ``<|im_start|>`` and
``<|im_end|>`` as special tokens.

Token ids are handled as ``uint32`` everywhere: Qwen's vocabulary (151,646 tokens) does not
fit ``uint16``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from qurate.errors import BadInputError

EOS = "<|endoftext|>"
SPECIAL_TOKENS = [EOS, "<|im_start|>", "<|im_end|>"]
TOKEN_DTYPE = np.uint32
# BPE training rescans a whole pre-token at every merge, and Qwen's split makes a run of
# letters (or of punctuation) one pre-token: a 20 MB "word" ran for hours, uninterruptibly,
# in Rust (measured, vocab 8192 on 2 MB of text: a 100k-character word added 3.5 s; cut,
# a 1M-character one adds 2.4 s). Runs longer than this are cut into pieces of this size,
# at newlines, for training only; CJK paragraphs, which have no spaces, are rarely this
# long, and encoding is unchanged.
MAX_TRAIN_RUN = 1000
_LONG_RUN = re.compile(rf"\S{{{MAX_TRAIN_RUN + 1},}}")
# Qwen2's pre-tokenizer split: contractions, letters, single digits, punctuation, newlines.
QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# Files of a Hugging Face tokenizer directory that export copies verbatim when present.
HF_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "generation_config.json",
)


def load_tokenizer(path: str | Path) -> Tokenizer:
    """Load ``tokenizer.json`` (a file, or a directory that holds one)."""
    p = Path(path)
    if p.is_dir():
        p = p / "tokenizer.json"
    if not p.is_file():
        raise BadInputError(f"no tokenizer.json at {path}")
    try:
        return Tokenizer.from_file(str(p))
    except Exception as e:  # tokenizers raises a bare Exception on a bad file
        raise BadInputError(f"cannot read tokenizer {p}: {e}") from None


def eos_id(tok: Tokenizer) -> int:
    """The document separator: ``<|endoftext|>`` (Qwen's EOS for pretraining)."""
    i = tok.token_to_id(EOS)
    if i is None:
        raise BadInputError(f"the tokenizer has no {EOS} token to separate documents")
    return i


def vocab_size(tok: Tokenizer) -> int:
    """Embedding rows the tokenizer needs: one more than its largest id."""
    return max(tok.get_vocab(with_added_tokens=True).values()) + 1


def train_bpe(texts: Iterable[str], vocab: int, *, min_frequency: int = 2) -> Tokenizer:
    """Train a Qwen-style byte-level BPE with at most ``vocab`` tokens (specials included)."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab,
        min_frequency=min_frequency,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator((cut_long_runs(t) for t in texts), trainer=trainer)
    return tok


def cut_long_runs(text: str) -> str:
    """``text`` with every run of over ``MAX_TRAIN_RUN`` non-space characters cut into
    pieces of that size at newlines (what BPE training can afford to scan per merge)."""
    return _LONG_RUN.sub(
        lambda m: "\n".join(
            m[0][i : i + MAX_TRAIN_RUN] for i in range(0, len(m[0]), MAX_TRAIN_RUN)
        ),
        text,
    )


def encode(tok: Tokenizer, texts: list[str]) -> list[np.ndarray]:
    """Token ids per text as uint32 arrays. ``encode_batch`` tokenizes on all cores (Rust)."""
    encs = tok.encode_batch_fast(texts, add_special_tokens=False)
    return [np.asarray(e.ids, dtype=TOKEN_DTYPE) for e in encs]


def save_tokenizer_dir(tok: Tokenizer, directory: Path, source: Path | None = None) -> None:
    """Write the tokenizer files of a Hugging Face model directory.

    When the tokenizer came from an HF directory (``source``), its files are copied
    verbatim (keeping e.g. Qwen's chat template); otherwise ``tokenizer.json`` plus a
    ``tokenizer_config.json`` that ``AutoTokenizer`` reads.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if source is not None and (source / "tokenizer_config.json").is_file():
        for name in HF_TOKENIZER_FILES:
            if (source / name).is_file() and name != "generation_config.json":
                shutil.copyfile(source / name, directory / name)
        return
    tok.save(str(directory / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "eos_token": EOS,
        "pad_token": EOS,
        "bos_token": None,
        "unk_token": None,
        "model_max_length": 131072,
        "clean_up_tokenization_spaces": False,
        "additional_special_tokens": SPECIAL_TOKENS[1:],
    }
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2))


def iter_texts_once(texts: Iterator[str], limit_chars: int) -> Iterator[str]:
    """Yield texts until ``limit_chars`` characters: bounds tokenizer-training memory."""
    seen = 0
    for t in texts:
        yield t
        seen += len(t)
        if seen >= limit_chars:
            return
