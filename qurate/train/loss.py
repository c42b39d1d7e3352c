"""Fused linear + cross-entropy: the LM head and the loss in token chunks.

With Qwen's 151,936-row vocabulary the logits are the largest tensor of a training step:
a 4096-token row has 4096 x 151936 of them, 2.5 GB in fp32, and the plain path keeps the
logits, their log-softmax and their gradient alive at once. Here the head is applied to
``chunk`` tokens at a time; each chunk's loss *and* its gradients (for the hidden states and
the head weight) are computed right away, so only one chunk of logits ever exists, and the
softmax gradient ``softmax - onehot`` is formed in place instead of through a zero-filled
one-hot scatter and a separate log-softmax backward (the idea of Liger-Kernel's
FusedLinearCrossEntropy, in plain PyTorch). The softmax overwrites the logits in place and
the log-sum-exp is read back from it, so a chunk costs one max pass and one softmax pass
(see ``bench/RESULTS.md``, issue 16 speed section, for the measured effect).

The gradients are computed during the forward pass, so the function is used only when a
backward will follow; evaluation takes the chunked loss without gradients (an in-place
log-softmax per chunk, ``_chunk_nll``).
"""

from __future__ import annotations

from typing import Any

import torch

IGNORE_INDEX = -100


def _chunk_rows(vocab: int) -> int:
    """Tokens per chunk: about 32M logits (128 MB in fp32), at least 256 rows.

    Measured on the CPU bench (2,048 tokens, vocab 43,520, hidden 256; 2026-12-04, loaded
    2-core machine): 192-row chunks (the earlier 8M-logit budget) took 7.0 s at 1 thread and
    14.9 s at 2, a 1,024-row chunk 6.8 s / 8.6 s. Each chunk issues a dozen kernels, every
    one a fork-join of the thread pool; with small chunks those joins, not the FLOPs, are
    the step, and on a busy machine a join waits for the slowest thread.
    """
    return max(256, (1 << 25) // vocab)


def _chunk_nll(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Summed loss of one chunk, in fp32; ignored labels contribute 0.

    ``logits`` must be a fresh tensor (the head's output): the log-softmax is written over it
    in place, one row-wise kernel, where ``logsumexp - target`` allocated a logits-sized
    temporary (the same finding as ``qurate.ablate.scoring.token_nll``; measured for this
    path in ``bench/train_loss.py --eval``).
    """
    lp = logits.float()  # a new tensor under bf16 autocast, else the fresh logits themselves
    torch.log_softmax(lp, dim=-1, out=lp)
    valid = labels != IGNORE_INDEX
    picked = lp.gather(1, labels.clamp(min=0)[:, None]).squeeze(1)
    return -(picked * valid).sum()


def _autocast(t: torch.Tensor) -> bool:
    return torch.is_autocast_enabled(t.device.type)


class FusedLinearCrossEntropy(torch.autograd.Function):
    """sum over tokens of CE(hidden @ weight.T, labels), with gradients for both inputs."""

    @staticmethod
    def forward(
        ctx: Any, hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor
    ) -> torch.Tensor:
        n = hidden.shape[0]
        step = _chunk_rows(weight.shape[0])
        grad_h = torch.empty_like(hidden)
        grad_w: torch.Tensor | None = None  # fp32; the first chunk writes it (no zero fill)
        total = torch.zeros((), dtype=torch.float32, device=hidden.device)
        for s in range(0, n, step):
            h, lab = hidden[s : s + step], labels[s : s + step]
            logits = h @ weight.t()
            valid = lab != IGNORE_INDEX
            safe = lab.clamp(min=0)
            g = logits.float()  # the logits are not needed after this: work in place
            target = g.gather(1, safe[:, None]).squeeze(1)
            top, arg = g.max(dim=-1)
            # d(sum CE)/d logits = softmax - onehot. The softmax is written over the logits
            # in place: one kernel that keeps each row in cache, where logsumexp + sub + exp
            # made five passes over the chunk and a temporary of its size.
            torch.softmax(g, dim=-1, out=g)
            # log-sum-exp back from it: the largest logit's probability is >= 1/V, so its
            # log never underflows (lse = max - log p_max)
            lse = top - g.gather(1, arg[:, None]).squeeze(1).log()
            total += ((lse - target) * valid).sum()
            g.scatter_add_(1, safe[:, None], -valid[:, None].to(g.dtype))
            if not bool(valid.all()):
                g.mul_(valid[:, None])
            g = g.to(logits.dtype)  # bf16 under autocast, so the two matmuls run in bf16
            if g.dtype == weight.dtype == hidden.dtype == torch.float32 and not _autocast(g):
                # write and accumulate in place: no temporary (T, H) or (V, H) matrices
                torch.mm(g, weight, out=grad_h[s : s + step])
                if grad_w is None:
                    grad_w = torch.mm(g.t(), h)
                else:
                    grad_w.addmm_(g.t(), h)
            else:
                grad_h[s : s + step] = g @ weight
                part = (g.t() @ h).float()
                grad_w = part if grad_w is None else grad_w.add_(part)
        if grad_w is None:  # no tokens at all
            grad_w = torch.zeros_like(weight, dtype=torch.float32)
        ctx.save_for_backward(grad_h, grad_w.to(weight.dtype))
        return total

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        grad_h, grad_w = ctx.saved_tensors
        return grad_h * grad_out, grad_w * grad_out, None


def lm_loss(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Summed next-token loss of ``hidden`` (N, H) under the head ``weight`` (V, H)."""
    if torch.is_grad_enabled() and (hidden.requires_grad or weight.requires_grad):
        return FusedLinearCrossEntropy.apply(hidden, weight, labels)
    step = _chunk_rows(weight.shape[0])
    total = torch.zeros((), dtype=torch.float32, device=hidden.device)
    for s in range(0, hidden.shape[0], step):
        total += _chunk_nll(hidden[s : s + step] @ weight.t(), labels[s : s + step])
    return total
