"""The pre-tokenizer a GGUF model was trained with, where transformers' conversion differs.

llama.cpp names a byte-level BPE model's pre-tokenizer in ``tokenizer.ggml.pre``.
transformers' GGUF conversion ignores that field and gives every such model GPT-2's
byte-level split. For ``smollm`` (SmolLM and SmolLM2, the embedded judge) the model was
trained with digits split one by one *before* that split (the original ``tokenizer.json``;
llama.cpp's ``LLAMA_VOCAB_PRE_TYPE_SMOLLM``), so runs of spaces before a digit came out
otherwise (``"  8"``: ``Ġ``, ``Ġ``, ``8`` against the trained ``ĠĠ``, ``8``), in ~11% of the
bundled sample's documents. Reading only the header, this costs milliseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def pre_tokenizer_for(pre: str | None) -> Any | None:
    """The ``tokenizers`` pre-tokenizer for llama.cpp's name ``pre``; None for a name whose
    split is GPT-2's (nothing to change) or that this module does not know."""
    from tokenizers import pre_tokenizers

    if pre == "smollm":
        return pre_tokenizers.Sequence(
            [
                pre_tokenizers.Digits(individual_digits=True),
                pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
            ]
        )
    return None


def gguf_pre_name(fields: Any) -> str | None:
    """``tokenizer.ggml.pre`` of a ``gguf.GGUFReader``'s fields, if the file has it."""
    f = fields.get("tokenizer.ggml.pre")
    if f is None:
        return None
    try:
        return bytes(f.parts[-1]).decode("utf-8")
    except (UnicodeDecodeError, TypeError, IndexError):
        return None


def fix_pre_tokenizer(tokenizer: Any, gguf: Path) -> None:
    """Give a transformers tokenizer converted from ``gguf`` the split its model was trained
    with (see the module docstring); a file this cannot read is left to transformers."""
    import gguf as gguf_lib

    try:
        pre = gguf_pre_name(gguf_lib.GGUFReader(str(gguf)).fields)
    except Exception:  # transformers read the file already; a reader quirk is not fatal
        return
    if (fixed := pre_tokenizer_for(pre)) is not None:
        tokenizer.backend_tokenizer.pre_tokenizer = fixed
