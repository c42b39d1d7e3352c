"""Fused linear + cross-entropy: the LM head and the loss in token chunks.

With Qwen's 151,936-row vocabulary the logits are the largest tensor of a training step:
a 4096-token row has 4096 x 151936 of them, 2.5 GB in fp32, and the plain path keeps the
logits, their log-softmax and their gradient alive at once. Here the head is applied to
``chunk`` tokens at a time; each chunk's loss *and* its gradients (for the hidden states and
the head weight) are computed right away, so only one chunk of logits ever exists, and the
softmax gradient ``softmax - onehot`` is formed in place instead of through a zero-filled
one-hot scatter and a separate log-softmax backward (the idea of Liger-Kernel's
FusedLinearCrossEntropy, in plain PyTorch).

The gradients are computed during the forward pass, so the function is used only when a
backward will follow; evaluation takes the chunked loss without gradients.
"""

from __future__ import annotations

from typing import Any

import torch

IGNORE_INDEX = -100


def _chunk_rows(vocab: int) -> int:
    """Tokens per chunk: about 8M logits (32 MB in fp32), at least 64 rows."""
    return max(64, (1 << 23) // vocab)


def _chunk_loss(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(summed loss, log-sum-exp) of one chunk, in fp32; ignored labels contribute 0."""
    logits = logits.float()
    lse = torch.logsumexp(logits, dim=-1)
    valid = labels != IGNORE_INDEX
    target = logits.gather(1, labels.clamp(min=0)[:, None]).squeeze(1)
    return ((lse - target) * valid).sum(), lse


class FusedLinearCrossEntropy(torch.autograd.Function):
    """sum over tokens of CE(hidden @ weight.T, labels), with gradients for both inputs."""

    @staticmethod
    def forward(
        ctx: Any, hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor
    ) -> torch.Tensor:
        n = hidden.shape[0]
        step = _chunk_rows(weight.shape[0])
        grad_h = torch.empty_like(hidden)
        grad_w = torch.zeros_like(weight, dtype=torch.float32)
        total = torch.zeros((), dtype=torch.float32, device=hidden.device)
        for s in range(0, n, step):
            h, lab = hidden[s : s + step], labels[s : s + step]
            logits = h @ weight.t()
            valid = lab != IGNORE_INDEX
            safe = lab.clamp(min=0)
            # one exp pass serves both the loss (log-sum-exp) and the gradient (softmax)
            g = logits.float()  # the logits are not needed after this: work in place
            target = g.gather(1, safe[:, None]).squeeze(1)
            top = g.amax(dim=-1, keepdim=True)
            g.sub_(top).exp_()
            norm = g.sum(dim=-1, keepdim=True)
            lse = (top + norm.log()).squeeze(1)
            total += ((lse - target) * valid).sum()
            # d(sum CE)/d logits = softmax - onehot, zero on ignored tokens; built in place
            g.div_(norm)
            rows = torch.arange(len(lab), device=lab.device)[valid]
            g[rows, lab[valid]] -= 1.0
            g.mul_(valid[:, None])
            g = g.to(logits.dtype)  # bf16 under autocast, so the two matmuls run in bf16
            grad_h[s : s + step] = g @ weight
            grad_w += (g.t() @ h).float()
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
        total += _chunk_loss(hidden[s : s + step] @ weight.t(), labels[s : s + step])[0]
    return total
