"""The model's shape: ``ModelConfig``, the named presets, and HF ``config.json`` conversion.

Field names are transformers' (``Qwen2Config`` for the dense fields, ``Qwen2MoeConfig`` for the
mixture-of-experts ones), so a ``config.json`` maps onto this dataclass key for key. A config
with ``num_experts == 0`` is a dense Qwen2.5 model; with experts, every layer that
``is_sparse_layer`` names replaces its SwiGLU MLP by routed experts plus a shared expert
(Qwen1.5-MoE / Qwen2-MoE, the architecture behind Qwen2.5-Turbo and -Plus).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from qurate.errors import BadInputError, ConfigError

MOE_FIELDS = (
    "num_experts",
    "num_experts_per_tok",
    "moe_intermediate_size",
    "shared_expert_intermediate_size",
    "norm_topk_prob",
    "decoder_sparse_step",
    "mlp_only_layers",
    "router_aux_loss_coef",
)


_SIZES = (
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "max_position_embeddings",
)


@dataclass(frozen=True)
class ModelConfig:
    """The architecture. Field names match transformers' ``Qwen2Config`` / ``Qwen2MoeConfig``."""

    vocab_size: int = 151936  # embedding rows; Qwen2.5's tokenizer uses 151,646 of them
    hidden_size: int = 896  # residual stream width
    intermediate_size: int = 4864  # SwiGLU inner width (dense layers)
    num_hidden_layers: int = 24
    num_attention_heads: int = 14  # query heads; head_dim = hidden_size / heads
    num_key_value_heads: int = 2  # GQA: each K/V head serves heads / kv_heads query heads
    max_position_embeddings: int = 32768  # longest sequence the checkpoint claims to support
    rope_theta: float = 1_000_000.0  # RoPE base; raised for long context (ABF)
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = True  # lm_head shares embed_tokens (small sizes only)
    initializer_range: float = 0.02  # std of the normal init, as in transformers
    # --- mixture of experts (0 experts: the dense model) ---
    num_experts: int = 0  # routed experts per sparse layer
    num_experts_per_tok: int = 0  # top-k: experts each token is sent to
    moe_intermediate_size: int = 0  # SwiGLU inner width of one routed expert
    shared_expert_intermediate_size: int = 0  # the always-on shared expert's inner width
    norm_topk_prob: bool = False  # renormalise the top-k router probabilities to sum to 1
    decoder_sparse_step: int = 1  # every step-th layer is sparse (layer i: (i+1) % step == 0)
    mlp_only_layers: tuple[int, ...] = ()  # layers that stay dense whatever the step says
    router_aux_loss_coef: float = 0.001  # weight of the load-balancing loss; 0 turns it off

    def __post_init__(self) -> None:
        # JSON and YAML give lists; a frozen config keeps a hashable tuple
        object.__setattr__(self, "mlp_only_layers", tuple(int(i) for i in self.mlp_only_layers))

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    def is_sparse_layer(self, index: int) -> bool:
        """Whether layer ``index`` uses routed experts (transformers' rule, word for word)."""
        return (
            index not in self.mlp_only_layers
            and self.num_experts > 0
            and (index + 1) % self.decoder_sparse_step == 0
        )

    def replace(self, **changes: Any) -> ModelConfig:
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            valid = ", ".join(f.name for f in fields(self))
            raise ConfigError(f"unknown model field(s) {sorted(unknown)}; valid: {valid}")
        return ModelConfig(**{**asdict(self), **changes})

    def validate(self) -> ModelConfig:
        for name in _SIZES:  # a config.json's -1 layers built a model that trained on complex
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"model.{name} must be a positive integer, not {v!r}")
        for name in ("rope_theta", "rms_norm_eps"):  # rope_theta -1 trained on complex numbers
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < math.inf:
                raise ConfigError(f"model.{name} must be a positive number, not {v!r}")
        v = self.initializer_range
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < math.inf:
            raise ConfigError(f"model.initializer_range must be a number >= 0, not {v!r}")
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError("model.hidden_size must be a multiple of num_attention_heads")
        if self.num_attention_heads % self.num_key_value_heads:
            raise ConfigError("model.num_attention_heads must be a multiple of num_key_value_heads")
        if self.head_dim % 2:
            raise ConfigError("model head_dim (hidden_size / heads) must be even for RoPE")
        if self.num_experts < 0 or self.router_aux_loss_coef < 0:
            raise ConfigError("model.num_experts and router_aux_loss_coef must be >= 0")
        if self.is_moe:
            if not 1 <= self.num_experts_per_tok <= self.num_experts:
                raise ConfigError(
                    f"model.num_experts_per_tok ({self.num_experts_per_tok}) must be between 1 "
                    f"and num_experts ({self.num_experts})"
                )
            if self.moe_intermediate_size <= 0 or self.decoder_sparse_step < 1:
                raise ConfigError(
                    "an MoE model needs moe_intermediate_size > 0 and decoder_sparse_step >= 1"
                )
        return self

    def _mlp_params(self, index: int, *, active: bool) -> int:
        """Parameters of layer ``index``'s MLP; ``active``: those one token passes through."""
        h = self.hidden_size
        if not self.is_sparse_layer(index):
            return 3 * h * self.intermediate_size
        routed = self.num_experts_per_tok if active else self.num_experts
        shared = 3 * h * self.shared_expert_intermediate_size + h  # plus its sigmoid gate
        return routed * 3 * h * self.moe_intermediate_size + shared + self.num_experts * h

    def num_params(self, *, embedding: bool = True, active: bool = False) -> int:
        """Parameter count (with or without the embedding and untied lm_head).

        ``active``: only what one token uses (top-k routed experts, not all of them), the N
        that compute and the scaling laws see in an MoE model; equal to the total for dense.
        """
        h, n_layers = self.hidden_size, self.num_hidden_layers
        kv = self.num_key_value_heads * self.head_dim
        attn = h * h + 2 * h * kv + (h + 2 * kv) + h * h  # q,k,v,o weights + qkv biases
        mlps = sum(self._mlp_params(i, active=active) for i in range(n_layers))
        body = n_layers * (attn + 2 * h) + mlps + h
        emb = self.vocab_size * h * (1 if self.tie_word_embeddings else 2)
        return body + (emb if embedding else 0)

    def flops_per_token(self, seq_len: int) -> float:
        """Training FLOPs per token (forward + backward): 6N plus the attention scores.

        N is the *active* parameter count (for MoE: top-k routed experts, the shared expert
        and the router) with the lm_head but not the embedding lookup; attention adds
        12*L*h*T (QK^T and AV, forward and backward), the convention of PaLM/nanoGPT MFU.
        """
        n = self.num_params(embedding=False, active=True) + self.vocab_size * self.hidden_size
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
_QWEN = dict(vocab_size=151936, num_key_value_heads=2)
_BIG = dict(vocab_size=152064, tie_word_embeddings=False)
PRESETS: dict[str, ModelConfig] = {
    # debug sizes for CPU tests and the embedded demo (vocab fits a small trained BPE)
    "tiny": ModelConfig(
        vocab_size=2048,
        hidden_size=64,
        intermediate_size=192,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        rope_theta=10_000.0,
    ),
    "mini": ModelConfig(
        vocab_size=8192,
        hidden_size=256,
        intermediate_size=704,
        num_hidden_layers=4,
        num_attention_heads=8,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        rope_theta=10_000.0,
    ),
    "0.5B": ModelConfig(
        **_QWEN,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
    ),
    "1.5B": ModelConfig(
        **_QWEN,
        hidden_size=1536,
        intermediate_size=8960,
        num_hidden_layers=28,
        num_attention_heads=12,
    ),
    "3B": ModelConfig(
        **_QWEN,
        hidden_size=2048,
        intermediate_size=11008,
        num_hidden_layers=36,
        num_attention_heads=16,
    ),
    "7B": ModelConfig(
        **_BIG,
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
    ),
    "14B": ModelConfig(
        **_BIG,
        hidden_size=5120,
        intermediate_size=13824,
        num_hidden_layers=48,
        num_attention_heads=40,
        num_key_value_heads=8,
    ),
    "32B": ModelConfig(
        **_BIG,
        hidden_size=5120,
        intermediate_size=27648,
        num_hidden_layers=64,
        num_attention_heads=40,
        num_key_value_heads=8,
    ),
    "72B": ModelConfig(
        **_BIG,
        hidden_size=8192,
        intermediate_size=29568,
        num_hidden_layers=80,
        num_attention_heads=64,
        num_key_value_heads=8,
    ),
    # MoE: a debug size, then the released Qwen MoE shapes (config.json of each checkpoint)
    "moe-tiny": ModelConfig(
        vocab_size=2048,
        hidden_size=64,
        intermediate_size=192,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        rope_theta=10_000.0,
        num_experts=8,
        num_experts_per_tok=2,
        moe_intermediate_size=64,
        shared_expert_intermediate_size=128,
    ),
    "moe-A2.7B": ModelConfig(  # Qwen1.5-MoE-A2.7B: 14.3B total, 2.7B active
        vocab_size=151936,
        hidden_size=2048,
        intermediate_size=5632,
        num_hidden_layers=24,
        num_attention_heads=16,
        num_key_value_heads=16,
        max_position_embeddings=8192,
        tie_word_embeddings=False,
        num_experts=60,
        num_experts_per_tok=4,
        moe_intermediate_size=1408,
        shared_expert_intermediate_size=5632,
    ),
    "moe-57B-A14B": ModelConfig(  # Qwen2-57B-A14B: 57.4B total, 14.2B active
        vocab_size=151936,
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
        max_position_embeddings=32768,
        tie_word_embeddings=False,
        num_experts=64,
        num_experts_per_tok=8,
        moe_intermediate_size=2560,
        shared_expert_intermediate_size=20480,
    ),
}


# What a preset trains with when the user sets neither seq_len nor batch_tokens (see
# ``qurate.train.prepare.preset_train_defaults``). The tiny preset: the scaling-law plan
# gives ~2k tokens a step for its 0.1M body parameters, and at that batch 60 steps took the
# held-out loss only ~11% below the first steps' on the bundled docs; gradient noise, not lr,
# width, depth or vocabulary, was the limit. 16k tokens a step in 128-token rows and a
# warmup-stable-decay schedule to 0 reach ~20% (bench/RESULTS.md, "Tiny preset defaults
# that learn"; bench/train_tiny.py). At that batch the seed still decided (14.9%-21.4% over
# seeds 0-3): some seeds sat on the unigram plateau (~6.6 nats) for 30+ steps. Two changes,
# neither of which touches a step's compute (bench/RESULTS.md, "Tiny preset, every seed"):
# - init std 0.05, not 0.02 (GPT-2's, for width 768): at width 64 every block's output is a
#   product of two matrices drawn near zero, a saddle that the steps leave slowly. Width
#   scaling of GPT-2's 0.02 would give ~0.07, but with tied embeddings the first logits'
#   std is sqrt(64) x std (0.55 at 0.07: the first three steps' mean starts above ln V);
#   at 0.05 (0.4) step 1 sits ~0.08 nats above ln V (+std^2/2) and the mean of steps 1-3
#   below it.
# - AdamW beta1 0.8, not 0.9: momentum averages over ~1/(1-beta1) steps, 10 at 0.9, a sixth
#   of a 60-step run and most of its 12-step decay; 0.8 halves that lag.
TRAIN_DEFAULTS: dict[str, dict[str, Any]] = {
    "tiny": {
        "seq_len": 128,
        "batch_tokens": 16384,
        "micro_batch_size": 32,
        "optim": {"schedule": "wsd", "min_lr_ratio": 0.0, "beta1": 0.8},
        "model": {"initializer_range": 0.05},
    },
}


def preset(name: str) -> ModelConfig:
    """The preset called ``name``; an unknown name lists the valid ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}") from None


def config_from_hf(hf: dict[str, Any]) -> ModelConfig:
    """Our config from a Hugging Face ``config.json`` dict: Qwen2 or Qwen2-MoE, nothing else."""
    kind = hf.get("model_type")
    if kind not in ("qwen2", "qwen2_moe"):
        raise BadInputError(
            f"not a Qwen2 checkpoint: config.json has model_type={kind!r}, "
            "expected 'qwen2' or 'qwen2_moe'"
        )
    rope = hf.get("rope_parameters") or hf.get("rope_scaling") or {}
    rope_type = rope.get("rope_type", rope.get("type", "default"))
    if rope_type not in ("default", None):
        raise BadInputError(f"RoPE scaling {rope_type!r} is not supported; only plain RoPE")
    if hf.get("use_sliding_window"):
        raise BadInputError("sliding-window attention checkpoints are not supported")
    if hf.get("qkv_bias") is False:
        raise BadInputError("checkpoints without q/k/v biases are not Qwen2; not supported")
    theta = rope.get("rope_theta", hf.get("rope_theta", 10_000.0))
    names = {f.name for f in fields(ModelConfig)} - {"rope_theta"}
    if kind == "qwen2":
        names -= set(MOE_FIELDS)  # a dense config.json may carry MoE keys; they mean nothing
    kwargs = {k: hf[k] for k in names if hf.get(k) is not None}
    if kind == "qwen2_moe":  # transformers' defaults where the file is silent
        kwargs.setdefault("tie_word_embeddings", False)
        for key in ("num_experts", "num_experts_per_tok", "moe_intermediate_size"):
            if key not in kwargs:
                raise BadInputError(f"a qwen2_moe config.json needs {key}")
    return ModelConfig(**kwargs, rope_theta=float(theta)).validate()


def config_to_hf(cfg: ModelConfig, **extra: Any) -> dict[str, Any]:
    """A ``config.json`` dict that transformers and vLLM read as ``Qwen2ForCausalLM``, or as
    ``Qwen2MoeForCausalLM`` when the config has experts."""
    out = asdict(cfg)
    theta = out.pop("rope_theta")
    if cfg.is_moe:
        out["mlp_only_layers"] = list(cfg.mlp_only_layers)
        out.update(
            architectures=["Qwen2MoeForCausalLM"],
            model_type="qwen2_moe",
            output_router_logits=False,
            qkv_bias=True,
        )
    else:
        for key in MOE_FIELDS:
            out.pop(key)
        out.update(architectures=["Qwen2ForCausalLM"], model_type="qwen2")
    out.update(
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
