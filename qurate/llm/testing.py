"""Tiny real models built on the fly, for tests and benchmarks (nothing is downloaded).

``build_tiny_chat_model(dir)`` trains a byte-level BPE tokenizer on a few sentences, wraps it
as a ``PreTrainedTokenizerFast`` with a ChatML chat template, and saves a randomly
initialised 2-layer Qwen2 causal LM next to it: a real HF checkpoint directory that every
code path (chat template, padding, KV cache, GGUF-free loading) exercises like a big one.
``build_tiny_classifier(dir)`` does the same for a ``Qwen2ForSequenceClassification``.
"""

from __future__ import annotations

from pathlib import Path

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "Buy now! Cheap watches, free shipping, best price, click here.",
    "Rate the educational value of the document from 0 to 5. Answer with a single digit.",
    "Which domain does the document belong to? Answer with the letter of the best option.",
    "def add(a, b):\n    return a + b\n",
    "The theorem follows by induction on n; the base case n = 1 is immediate.",
]


def build_tokenizer(directory: Path, vocab_size: int = 400):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_CORPUS * 4, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    fast.chat_template = CHATML
    fast.save_pretrained(str(directory))
    return fast


def _qwen2_config(tok, **overrides):
    from transformers import Qwen2Config

    kw = dict(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.pad_token_id,
    )
    kw.update(overrides)
    return Qwen2Config(**kw)


def build_tiny_chat_model(directory: str | Path, seed: int = 0) -> Path:
    """A tiny Qwen2 causal LM + chat tokenizer saved as an HF checkpoint directory."""
    import torch
    from transformers import Qwen2ForCausalLM

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(d)
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(_qwen2_config(tok))
    # Larger-than-default weights so next-token distributions depend on the context.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.3)
    model.save_pretrained(str(d))
    return d


def build_tiny_classifier(directory: str | Path, num_labels: int = 1, seed: int = 0) -> Path:
    """A tiny Qwen2 sequence classifier (``num_labels=1``: a reward model)."""
    import torch
    from transformers import Qwen2ForSequenceClassification

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(d)
    torch.manual_seed(seed)
    model = Qwen2ForSequenceClassification(_qwen2_config(tok, num_labels=num_labels))
    model.save_pretrained(str(d))
    return d


_BUILT: dict[str, Path] = {}


def cached_tiny_chat_model() -> Path:
    """``build_tiny_chat_model`` once per process (tests share it; it is read-only)."""
    import tempfile

    if "chat" not in _BUILT:
        _BUILT["chat"] = build_tiny_chat_model(
            Path(tempfile.mkdtemp(prefix="qurate-tiny-")) / "chat"
        )
    return _BUILT["chat"]
