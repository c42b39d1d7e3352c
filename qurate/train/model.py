"""Qwen2.5 in one file: RMSNorm -> RoPE -> GQA attention -> SwiGLU MLP -> block -> model.

Read it top to bottom. The architecture is Qwen2.5's (the same as transformers'
``Qwen2ForCausalLM``): pre-norm RMSNorm computed in fp32, rotary position embeddings with
fp32 inverse frequencies and a configurable base, grouped-query attention with a bias on
the q/k/v projections only, a SwiGLU MLP, and tied input/output embeddings where the preset
says so.

Parameter names are Hugging Face's (``model.embed_tokens``, ``model.layers.N.self_attn.q_proj``,
``model.norm``, ``lm_head``), so a Qwen2.5 checkpoint directory loads with ``load_state_dict``
and our checkpoints load in transformers and vLLM without a name map.

Packed sequences: a training row holds several documents. ``doc_ids`` (one integer per
token) says which document a token belongs to; attention is causal *and* block-diagonal
over documents, so no token attends across a document boundary, and position ids restart
at 0 for every document. Both go through ``F.scaled_dot_product_attention``; without
``doc_ids`` the plain causal path (flash attention on GPU) is used.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from qurate.errors import BadInputError, ConfigError
from qurate.train.loss import lm_loss

# ---------------------------------------------------------------- configuration and presets


@dataclass(frozen=True)
class ModelConfig:
    """The architecture. Field names match transformers' ``Qwen2Config``."""

    vocab_size: int = 151936  # embedding rows; Qwen2.5's tokenizer uses 151,646 of them
    hidden_size: int = 896  # residual stream width
    intermediate_size: int = 4864  # SwiGLU inner width
    num_hidden_layers: int = 24
    num_attention_heads: int = 14  # query heads; head_dim = hidden_size / heads
    num_key_value_heads: int = 2  # GQA: each K/V head serves heads / kv_heads query heads
    max_position_embeddings: int = 32768  # longest sequence the checkpoint claims to support
    rope_theta: float = 1_000_000.0  # RoPE base; raised for long context (ABF)
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = True  # lm_head shares embed_tokens (small sizes only)
    initializer_range: float = 0.02  # std of the normal init, as in transformers

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def replace(self, **changes: Any) -> ModelConfig:
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            valid = ", ".join(f.name for f in fields(self))
            raise ConfigError(f"unknown model field(s) {sorted(unknown)}; valid: {valid}")
        return ModelConfig(**{**asdict(self), **changes})

    def validate(self) -> ModelConfig:
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError("model.hidden_size must be a multiple of num_attention_heads")
        if self.num_attention_heads % self.num_key_value_heads:
            raise ConfigError("model.num_attention_heads must be a multiple of num_key_value_heads")
        if self.head_dim % 2:
            raise ConfigError("model head_dim (hidden_size / heads) must be even for RoPE")
        return self

    def num_params(self, *, embedding: bool = True) -> int:
        """Parameter count (with or without the embedding and untied lm_head)."""
        h, f, n_layers = self.hidden_size, self.intermediate_size, self.num_hidden_layers
        kv = self.num_key_value_heads * self.head_dim
        attn = h * h + 2 * h * kv + (h + 2 * kv) + h * h  # q,k,v,o weights + qkv biases
        per_layer = attn + 3 * h * f + 2 * h
        body = n_layers * per_layer + h
        emb = self.vocab_size * h * (1 if self.tie_word_embeddings else 2)
        return body + (emb if embedding else 0)

    def flops_per_token(self, seq_len: int) -> float:
        """Training FLOPs per token (forward + backward): 6N plus the attention scores.

        N counts the lm_head but not the embedding lookup; attention adds 12*L*h*T
        (QK^T and AV, forward and backward), the convention of PaLM/nanoGPT MFU.
        """
        n = self.num_params(embedding=False) + self.vocab_size * self.hidden_size
        return 6.0 * n + 12.0 * self.num_hidden_layers * self.hidden_size * seq_len

    def max_rope_len(self) -> int:
        """Longest sequence the RoPE base can tell apart: the slowest rotation's wavelength.

        Beyond 2*pi*theta^((d-2)/d) positions even the lowest frequency wraps around, so two
        distant positions look identical to attention; ABF raises theta to push this out.
        """
        d = self.head_dim
        return int(2 * math.pi * self.rope_theta ** ((d - 2) / d))

    def check_seq_len(self, seq_len: int) -> None:
        """Refuse a sequence length the positional setup cannot support."""
        if seq_len > self.max_position_embeddings:
            raise ConfigError(
                f"seq_len {seq_len} exceeds max_position_embeddings "
                f"{self.max_position_embeddings}; raise it in the model config or use a shorter seq_len"
            )
        if seq_len > self.max_rope_len():
            raise ConfigError(
                f"seq_len {seq_len} is beyond what rope_theta {self.rope_theta:g} supports "
                f"({self.max_rope_len()} positions for head_dim {self.head_dim}); "
                "raise rope_theta (ABF) for this stage"
            )


# Qwen2.5 sizes from the technical report (Table 1) and the released config.json files.
# The 7B+ checkpoints pad the embedding to 152,064 rows; the small ones use 151,936.
PRESETS: dict[str, ModelConfig] = {
    # debug sizes for CPU tests and the embedded demo (vocab fits a small trained BPE)
    "tiny": ModelConfig(2048, 64, 192, 2, 4, 2, 4096, 10_000.0),
    "mini": ModelConfig(8192, 256, 704, 4, 8, 2, 4096, 10_000.0),
    "0.5B": ModelConfig(151936, 896, 4864, 24, 14, 2),
    "1.5B": ModelConfig(151936, 1536, 8960, 28, 12, 2),
    "3B": ModelConfig(151936, 2048, 11008, 36, 16, 2),
    "7B": ModelConfig(152064, 3584, 18944, 28, 28, 4, tie_word_embeddings=False),
    "14B": ModelConfig(152064, 5120, 13824, 48, 40, 8, tie_word_embeddings=False),
    "32B": ModelConfig(152064, 5120, 27648, 64, 40, 8, tie_word_embeddings=False),
    "72B": ModelConfig(152064, 8192, 29568, 80, 64, 8, tie_word_embeddings=False),
}


def preset(name: str) -> ModelConfig:
    """The preset called ``name``; an unknown name lists the valid ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}") from None


def config_from_hf(hf: dict[str, Any]) -> ModelConfig:
    """Our config from a Hugging Face ``config.json`` dict; refuses anything but plain Qwen2."""
    if hf.get("model_type") != "qwen2":
        raise BadInputError(
            f"not a Qwen2 checkpoint: config.json has model_type={hf.get('model_type')!r}, "
            "expected 'qwen2'"
        )
    rope = hf.get("rope_parameters") or hf.get("rope_scaling") or {}
    rope_type = rope.get("rope_type", rope.get("type", "default"))
    if rope_type not in ("default", None):
        raise BadInputError(f"RoPE scaling {rope_type!r} is not supported; only plain RoPE")
    if hf.get("use_sliding_window"):
        raise BadInputError("sliding-window attention checkpoints are not supported")
    theta = rope.get("rope_theta", hf.get("rope_theta", 10_000.0))
    names = {f.name for f in fields(ModelConfig)} - {"rope_theta"}
    kwargs = {k: hf[k] for k in names if k in hf}
    return ModelConfig(**kwargs, rope_theta=float(theta)).validate()


def config_to_hf(cfg: ModelConfig, **extra: Any) -> dict[str, Any]:
    """A ``config.json`` dict that transformers and vLLM read as ``Qwen2ForCausalLM``."""
    out = asdict(cfg)
    theta = out.pop("rope_theta")
    out.update(
        architectures=["Qwen2ForCausalLM"],
        model_type="qwen2",
        hidden_act="silu",
        attention_dropout=0.0,
        use_sliding_window=False,
        sliding_window=None,
        max_window_layers=cfg.num_hidden_layers,
        use_cache=True,
        rope_theta=theta,  # transformers <5 and vLLM read this key ...
        rope_parameters={"rope_type": "default", "rope_theta": theta},  # ... transformers 5 this
        torch_dtype="float32",
        **extra,
    )
    return out


# ------------------------------------------------------------------------------- layers


class RMSNorm(nn.Module):
    """Root-mean-square norm in fp32 (bf16 variance is too coarse), scaled by a weight."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


class Rotary(nn.Module):
    """RoPE tables. Inverse frequencies stay fp32 even under bf16 autocast: at a base of 1e6
    and 32k positions, bf16 angles would be off by whole radians."""

    def __init__(self, head_dim: int, theta: float) -> None:
        super().__init__()
        self.head_dim = head_dim
        self.set_theta(theta)

    def set_theta(self, theta: float) -> None:
        """Change the base (adjusted base frequency between long-context stages)."""
        self.theta = theta
        exps = torch.arange(0, self.head_dim, 2, dtype=torch.int64).float() / self.head_dim
        self.register_buffer("inv_freq", 1.0 / (theta**exps), persistent=False)
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None

    def tables(self, length: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """cos/sin for positions 0..length-1, cached and grown on demand."""
        if (
            self._cache is None
            or self._cache[0].shape[0] < length
            or self._cache[0].device != device
        ):
            pos = torch.arange(length, device=device, dtype=torch.float32)
            freqs = pos[:, None] * self.inv_freq.to(device)[None, :]
            emb = torch.cat((freqs, freqs), dim=-1)
            self._cache = (emb.cos(), emb.sin())
        return self._cache

    def forward(self, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """cos, sin of shape (B, 1, T, head_dim) for the given positions, in fp32.

        Positions are below the row length T (they restart per document), so the table size
        follows from the shape: no device sync and no graph break under torch.compile.
        """
        with torch.autocast(device_type=position_ids.device.type, enabled=False):
            cos, sin = self.tables(position_ids.shape[-1], position_ids.device)
            return cos[position_ids].unsqueeze(1), sin[position_ids].unsqueeze(1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate the two halves of each head: (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin)."""
    x1, x2 = x.chunk(2, dim=-1)
    rotated = torch.cat((-x2, x1), dim=-1)
    return (x * cos + rotated * sin).to(x.dtype)


class Attention(nn.Module):
    """Grouped-query attention; q/k/v carry a bias (a Qwen detail), o does not.

    The three projections keep their HF names but run as one matmul over the concatenated
    weights (one pass over the activations instead of three), and RoPE rotates q and k in
    one go.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_heads, self.n_kv, self.head_dim = (
            cfg.num_attention_heads,
            cfg.num_key_value_heads,
            cfg.head_dim,
        )
        self.q_proj = nn.Linear(cfg.hidden_size, self.n_heads * self.head_dim, bias=True)
        self.k_proj = nn.Linear(cfg.hidden_size, self.n_kv * self.head_dim, bias=True)
        self.v_proj = nn.Linear(cfg.hidden_size, self.n_kv * self.head_dim, bias=True)
        self.o_proj = nn.Linear(self.n_heads * self.head_dim, cfg.hidden_size, bias=False)

    def forward(
        self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor | None
    ) -> torch.Tensor:
        b, t, _ = x.shape
        h, kv, d = self.n_heads, self.n_kv, self.head_dim
        w = torch.cat((self.q_proj.weight, self.k_proj.weight, self.v_proj.weight))
        bias = torch.cat((self.q_proj.bias, self.k_proj.bias, self.v_proj.bias))
        qkv = F.linear(x, w, bias).view(b, t, h + 2 * kv, d).transpose(1, 2)
        qk = apply_rope(qkv[:, : h + kv], *rope)
        q, k, v = qk[:, :h], qk[:, h:], qkv[:, h + kv :]
        # SDPA's own GQA is the fastest path on CPU and without a mask; with a mask on GPU
        # only the memory-efficient kernel applies, and it wants K/V expanded per head
        gqa = kv != h and (mask is None or x.device.type == "cpu")
        if kv != h and not gqa:
            k = k.repeat_interleave(h // kv, dim=1)
            v = v.repeat_interleave(h // kv, dim=1)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=mask is None, enable_gqa=gqa
        )
        return self.o_proj(y.transpose(1, 2).reshape(b, t, h * d))


class MLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x)), no biases."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # gate and up as one matmul over the concatenated weights (HF names kept)
        gate, up = F.linear(x, torch.cat((self.gate_proj.weight, self.up_proj.weight))).chunk(2, -1)
        return self.down_proj(F.silu(gate) * up)


class Block(nn.Module):
    """Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = MLP(cfg)

    def forward(
        self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor | None
    ) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), rope, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Backbone(nn.Module):
    """Embedding, blocks and final norm: HF's ``model.*`` namespace."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.rotary = Rotary(cfg.head_dim, cfg.rope_theta)


# -------------------------------------------------------------------------------- model


def doc_mask(doc_ids: torch.Tensor) -> torch.Tensor:
    """Boolean (B, 1, T, T) mask: causal and within the same document."""
    t = doc_ids.shape[1]
    causal = torch.ones(t, t, dtype=torch.bool, device=doc_ids.device).tril()
    same = doc_ids[:, :, None] == doc_ids[:, None, :]
    return (same & causal).unsqueeze(1)


def doc_positions(doc_ids: torch.Tensor) -> torch.Tensor:
    """Position ids that restart at 0 at every document start in a packed row."""
    b, t = doc_ids.shape
    idx = torch.arange(t, device=doc_ids.device).expand(b, t)
    start = torch.ones_like(doc_ids, dtype=torch.bool)
    start[:, 1:] = doc_ids[:, 1:] != doc_ids[:, :-1]
    # index of the most recent document start at or before each token
    last_start = torch.where(start, idx, torch.zeros_like(idx)).cummax(dim=1).values
    return idx - last_start


class Qwen2(nn.Module):
    """The causal language model: ``Qwen2ForCausalLM`` with HF parameter names."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.config = cfg.validate()
        self.model = Backbone(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.apply(self._init)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    def _init(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=self.config.initializer_range)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def set_rope_theta(self, theta: float) -> None:
        """Switch the RoPE base (a long-context stage); weights are unchanged."""
        self.model.rotary.set_theta(theta)
        self.config = self.config.replace(rope_theta=theta)

    def forward(
        self,
        input_ids: torch.Tensor,
        labels: torch.Tensor | None = None,
        doc_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits (B, T, V), or, when ``labels`` are given, the *summed* token loss.

        A sum (not a mean) lets the trainer divide by the token count of the whole global
        batch, so gradient accumulation and data parallelism give the same update as one
        big batch whatever the padding.
        """
        mask = doc_mask(doc_ids) if doc_ids is not None else None
        if position_ids is None:
            if doc_ids is not None:
                position_ids = doc_positions(doc_ids)
            else:
                position_ids = torch.arange(input_ids.shape[1], device=input_ids.device)
                position_ids = position_ids.expand_as(input_ids)
        rope = self.model.rotary(position_ids)
        x = self.model.embed_tokens(input_ids)
        for layer in self.model.layers:
            x = layer(x, rope, mask)
        h = self.model.norm(x)
        if labels is None:
            return self.lm_head(h)
        # the head and the loss fused in token chunks: the full logits never exist
        return lm_loss(h.reshape(-1, h.shape[-1]), self.lm_head.weight, labels.reshape(-1))

    def hf_state_dict(self) -> dict[str, torch.Tensor]:
        """The state dict as HF saves it: without ``lm_head.weight`` when tied."""
        sd = {k: v for k, v in self.state_dict().items()}
        if self.config.tie_word_embeddings:
            sd.pop("lm_head.weight", None)
        return sd

    def load_hf_state_dict(self, sd: dict[str, torch.Tensor]) -> None:
        """Load HF-named weights; a missing or misshapen tensor is a clear error."""
        sd = dict(sd)
        if self.config.tie_word_embeddings:
            sd.pop("lm_head.weight", None)  # some tied checkpoints still store it
            sd["lm_head.weight"] = sd.get("model.embed_tokens.weight")  # type: ignore[assignment]
        own = self.state_dict()
        missing = sorted(k for k in own if sd.get(k) is None)
        unexpected = sorted(k for k in sd if k not in own)
        bad = sorted(
            f"{k} {tuple(sd[k].shape)} vs {tuple(v.shape)}"
            for k, v in own.items()
            if sd.get(k) is not None and sd[k].shape != v.shape
        )
        if missing or unexpected or bad:
            detail = "; ".join(
                part
                for part in (
                    f"missing {missing[:3]}" if missing else "",
                    f"unexpected {unexpected[:3]}" if unexpected else "",
                    f"shape mismatch {bad[:3]}" if bad else "",
                )
                if part
            )
            raise BadInputError(f"weights do not match the model config: {detail}")
        with torch.no_grad():
            for k, v in own.items():
                v.copy_(sd[k])
