"""Qwen2.5 in one file: RMSNorm -> RoPE -> GQA attention -> SwiGLU MLP -> MoE -> block -> model.

Read it top to bottom. The architecture is Qwen2.5's (the same as transformers'
``Qwen2ForCausalLM``): pre-norm RMSNorm computed in fp32, rotary position embeddings with
fp32 inverse frequencies and a configurable base, grouped-query attention with a bias on
the q/k/v projections only, a SwiGLU MLP, and tied input/output embeddings where the preset
says so. The shapes live in ``qurate.train.presets``.

Mixture of experts (``Qwen2MoeForCausalLM``, Qwen1.5-MoE / Qwen2-MoE): in the layers the
config names sparse, the MLP becomes a router (a linear layer whose softmax, in fp32, picks
each token's top-k experts), ``num_experts`` SwiGLU experts, and a shared expert every token
passes through behind a sigmoid gate. Tokens are dispatched by sorting them by expert, so
each expert runs one matmul over a contiguous slice (a loop over experts, never over tokens).
The load-balancing loss (Switch Transformer's, as transformers computes it) comes back from
the forward on ``model.router_stats`` with each expert's share of the routed tokens.

Parameter names are Hugging Face's (``model.embed_tokens``, ``model.layers.N.self_attn.q_proj``,
``model.layers.N.mlp.gate`` for a router, ``model.norm``, ``lm_head``). Experts are held the way
transformers 5 holds them in memory, as two stacked tensors per layer
(``mlp.experts.gate_up_proj`` (E, 2I, H) and ``mlp.experts.down_proj`` (E, H, I)), and written
the way Qwen checkpoints store them on disk, one tensor per expert
(``mlp.experts.N.{gate,up,down}_proj.weight``): ``hf_state_dict`` / ``load_hf_state_dict``
convert, exactly as transformers' own conversion mapping for ``qwen2_moe`` does.

Packed sequences: a training row holds several documents. ``doc_ids`` (one integer per
token) says which document a token belongs to; attention is causal *and* block-diagonal
over documents, so no token attends across a document boundary, and position ids restart
at 0 for every document. Both go through ``F.scaled_dot_product_attention``; without
``doc_ids`` the plain causal path (flash attention on GPU) is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from qurate.errors import BadInputError
from qurate.train.hfnames import from_hf_disk, to_hf_disk
from qurate.train.loss import lm_loss
from qurate.train.presets import (  # noqa: F401  (re-exported: the model's public names)
    PRESETS,
    ModelConfig,
    config_from_hf,
    config_to_hf,
    preset,
)

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

    def __init__(self, cfg: ModelConfig, intermediate_size: int | None = None) -> None:
        super().__init__()
        inner = intermediate_size or cfg.intermediate_size
        self.gate_proj = nn.Linear(cfg.hidden_size, inner, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, inner, bias=False)
        self.down_proj = nn.Linear(inner, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # gate and up as one matmul over the concatenated weights (HF names kept)
        gate, up = F.linear(x, torch.cat((self.gate_proj.weight, self.up_proj.weight))).chunk(2, -1)
        return self.down_proj(F.silu(gate) * up)


# ------------------------------------------------------------------------ mixture of experts


class Router(nn.Module):
    """Top-k routing (``mlp.gate``): softmax over experts in fp32, keep the k largest.

    With ``norm_topk_prob`` the k kept probabilities are rescaled to sum to 1 (Qwen3-MoE);
    Qwen1.5/Qwen2-MoE checkpoints leave them as they are.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.top_k, self.norm_topk_prob = cfg.num_experts_per_tok, cfg.norm_topk_prob
        self.weight = nn.Parameter(torch.empty(cfg.num_experts, cfg.hidden_size))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(fp32 probabilities (N, E), top-k weights (N, k) in x's dtype, top-k experts (N, k))."""
        logits = F.linear(x, self.weight)
        probs = logits.softmax(dim=-1, dtype=torch.float32)
        weights, experts = probs.topk(self.top_k, dim=-1)
        if self.norm_topk_prob:
            weights = weights / weights.sum(dim=-1, keepdim=True)
        return probs, weights.to(logits.dtype), experts


class Experts(nn.Module):
    """``num_experts`` SwiGLU MLPs, stacked: gate_up_proj (E, 2I, H), down_proj (E, H, I).

    Dispatch: the N*k (token, expert) pairs are sorted by expert, so every expert's tokens
    sit in one contiguous slice; each expert runs two matmuls on its slice and the outputs,
    scaled by the routing weights, are added back to their tokens with one ``index_add_``.
    An expert that receives no tokens runs on an empty slice: its weights still take part in
    the graph (with a zero gradient), so DDP and FSDP see every parameter every step.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        e, h, i = cfg.num_experts, cfg.hidden_size, cfg.moe_intermediate_size
        self.num_experts = e
        self.gate_up_proj = nn.Parameter(torch.empty(e, 2 * i, h))
        self.down_proj = nn.Parameter(torch.empty(e, h, i))

    def forward(
        self, x: torch.Tensor, experts: torch.Tensor, weights: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(output (N, H), tokens per expert (E,)) for tokens ``x`` (N, H) and their top-k."""
        k = experts.shape[1]
        flat = experts.reshape(-1)
        order = flat.argsort(stable=True)
        counts = torch.bincount(flat, minlength=self.num_experts)
        token = order // k  # the token behind each sorted (token, expert) pair
        xs = x[token].to(self.gate_up_proj.dtype)
        if _grouped_mm_ok(xs, self.down_proj):  # one grouped GEMM over all experts
            offs = counts.cumsum(0, dtype=torch.int32)
            gate, up = F.grouped_mm(xs, self.gate_up_proj.transpose(1, 2), offs=offs).chunk(2, -1)
            y = F.grouped_mm(F.silu(gate) * up, self.down_proj.transpose(1, 2), offs=offs)
        else:  # one matmul per expert on its slice
            outs = []
            for e, part in enumerate(xs.split(counts.tolist())):
                gate, up = F.linear(part, self.gate_up_proj[e]).chunk(2, dim=-1)
                outs.append(F.linear(F.silu(gate) * up, self.down_proj[e]))
            y = torch.cat(outs)
        y = y * weights.reshape(-1)[order, None]
        return torch.zeros_like(x).index_add_(0, token, y.to(x.dtype)), counts


def _grouped_mm_ok(x: torch.Tensor, down: torch.Tensor) -> bool:
    """Whether torch's grouped GEMM runs here: CPU (torch >= 2.10), every row stride a
    multiple of 16 bytes. The GPU kernel is left to a measured GPU session (the loop runs)."""
    row = 16 // x.element_size()
    return (
        hasattr(F, "grouped_mm")
        and x.device.type == "cpu"
        and x.shape[1] % row == 0
        and down.shape[1] % row == 0
        and down.shape[2] % row == 0
    )


@dataclass
class RouterStats:
    """What the routers did in one forward: the auxiliary loss and each expert's load."""

    aux_loss: torch.Tensor  # Switch-Transformer balance loss, attached to the graph
    expert_share: torch.Tensor  # (layers, E): share of each layer's routed tokens per expert


def load_balancing_loss(
    probs: list[torch.Tensor], counts: list[torch.Tensor], top_k: int
) -> RouterStats:
    """E * sum_e f_e * P_e over all sparse layers pooled, as transformers'
    ``load_balancing_loss_func`` computes it: f_e is expert e's count of top-k assignments
    per token, P_e its mean router probability. 1 * top_k when the load is uniform."""
    n_experts = probs[0].shape[1]
    rows = sum(p.shape[0] for p in probs)
    assigned = torch.stack(counts).float()  # (layers, E)
    f = assigned.sum(0) / rows
    p = torch.stack([q.sum(0) for q in probs]).sum(0) / rows
    share = assigned / assigned.sum(1, keepdim=True).clamp(min=1)
    return RouterStats(aux_loss=(f * p).sum() * n_experts, expert_share=share)


class SparseMoE(nn.Module):
    """Routed experts plus a shared expert behind a sigmoid gate (HF's Qwen2MoeSparseMoeBlock)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.gate = Router(cfg)
        self.experts = Experts(cfg)
        self.shared_expert = MLP(cfg, cfg.shared_expert_intermediate_size)
        self.shared_expert_gate = nn.Linear(cfg.hidden_size, 1, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(output, router probabilities, tokens per expert)."""
        flat = x.reshape(-1, x.shape[-1])
        probs, weights, chosen = self.gate(flat)
        routed, counts = self.experts(flat, chosen, weights)
        shared = torch.sigmoid(self.shared_expert_gate(flat)) * self.shared_expert(flat)
        return (routed + shared).view_as(x), probs, counts


# --------------------------------------------------------------------------- block, model


class Block(nn.Module):
    """Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x)); the MLP is sparse
    in the layers the config names."""

    def __init__(self, cfg: ModelConfig, index: int) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp: nn.Module = SparseMoE(cfg) if cfg.is_sparse_layer(index) else MLP(cfg)

    def forward(
        self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """(output, router probabilities, tokens per expert); the last two None when dense.

        Router results are returned, not collected in a list passed in: FSDP's hooks rebuild
        a block's arguments, so an appended-to argument would be a copy."""
        x = x + self.self_attn(self.input_layernorm(x), rope, mask)
        if isinstance(self.mlp, SparseMoE):
            y, probs, counts = self.mlp(self.post_attention_layernorm(x))
            return x + y, probs, counts
        return x + self.mlp(self.post_attention_layernorm(x)), None, None


class Backbone(nn.Module):
    """Embedding, blocks and final norm: HF's ``model.*`` namespace."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(Block(cfg, i) for i in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.rotary = Rotary(cfg.head_dim, cfg.rope_theta)


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
    """The causal language model: ``Qwen2ForCausalLM`` (or ``Qwen2MoeForCausalLM``) with HF
    parameter names."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.config = cfg.validate()
        self.model = Backbone(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.router_stats: RouterStats | None = None  # set by every forward of an MoE model
        self.apply(self._init)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    def _init(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=std)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, Router):
            nn.init.normal_(module.weight, std=std)
        if isinstance(module, Experts):
            nn.init.normal_(module.gate_up_proj, std=std)
            nn.init.normal_(module.down_proj, std=std)

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
        big batch whatever the padding. An MoE model also leaves ``self.router_stats``
        (the load-balancing loss, still attached to the graph, and the expert loads); the
        trainer adds ``router_aux_loss_coef`` times it, so evaluation stays the plain LM loss.
        """
        h = self.hidden_states(input_ids, doc_ids, position_ids)
        if labels is None:
            return self.lm_head(h)
        # the head and the loss fused in token chunks: the full logits never exist
        return lm_loss(h.reshape(-1, h.shape[-1]), self.lm_head.weight, labels.reshape(-1))

    def hidden_states(
        self,
        input_ids: torch.Tensor,
        doc_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The final norm's output (B, T, H): what the head reads. ``forward`` without the
        head, for callers that apply ``lm_head.weight`` their own way (evaluation writes the
        logits into one reused buffer)."""
        mask = doc_mask(doc_ids) if doc_ids is not None else None
        if position_ids is None:
            if doc_ids is not None:
                position_ids = doc_positions(doc_ids)
            else:
                position_ids = torch.arange(input_ids.shape[1], device=input_ids.device)
                position_ids = position_ids.expand_as(input_ids)
        rope = self.model.rotary(position_ids)
        x = self.model.embed_tokens(input_ids)
        routing: list[tuple[torch.Tensor, torch.Tensor]] = []
        for layer in self.model.layers:
            x, probs, counts = layer(x, rope, mask)
            if probs is not None:
                routing.append((probs, counts))
        if routing:
            probs, counts = zip(*routing, strict=True)
            self.router_stats = load_balancing_loss(
                list(probs), list(counts), self.config.num_experts_per_tok
            )
        return self.model.norm(x)

    # ------------------------------------------------------------ HF state dicts (disk)

    def hf_state_dict(self) -> dict[str, torch.Tensor]:
        """The state dict as HF checkpoints store it: one tensor per expert, and without
        ``lm_head.weight`` when tied."""
        return to_hf_disk(self.state_dict(), self.config)

    def load_hf_state_dict(self, sd: dict[str, torch.Tensor]) -> None:
        """Load HF-named weights (per-expert as on disk, or stacked as transformers holds
        them in memory); a missing or misshapen tensor is a clear error naming it."""
        sd = from_hf_disk(sd, self.config)
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
