"""The trainer's evaluation loss (``lm_loss`` without gradients): in-place log-softmax per
chunk (now) vs ``logsumexp - target`` per chunk (before), same tensors, same run.

Both take the head's chunked logits (``_chunk_rows`` rows at a time); only the loss
arithmetic differs. Interleaved rounds, medians; last line ``ratio=<before / now>``.

    python bench/train_eval_loss.py [--tokens 8192] [--vocab 8192] [--hidden 256] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from qurate.train import loss as lossmod


def before(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The no-grad branch as it was: ``logsumexp`` (a logits-sized temporary) minus target."""
    step = lossmod._chunk_rows(weight.shape[0])
    total = torch.zeros((), dtype=torch.float32)
    for s in range(0, hidden.shape[0], step):
        logits = (hidden[s : s + step] @ weight.t()).float()
        lab = labels[s : s + step]
        lse = torch.logsumexp(logits, dim=-1)
        valid = lab != lossmod.IGNORE_INDEX
        target = logits.gather(1, lab.clamp(min=0)[:, None]).squeeze(1)
        total += ((lse - target) * valid).sum()
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=8192)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=7)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    h = torch.randn(a.tokens, a.hidden) * 0.5
    w = torch.randn(a.vocab, a.hidden) * 0.05
    labels = torch.randint(0, a.vocab, (a.tokens,))
    labels[::7] = lossmod.IGNORE_INDEX
    fns = {"before (logsumexp)": before, "now (in-place log_softmax)": lossmod.lm_loss}
    with torch.no_grad():
        ref = float(before(h, w, labels))
        now = float(lossmod.lm_loss(h, w, labels))
        print(f"loss before {ref:.4f}, now {now:.4f} (rel. diff {abs(now - ref) / ref:.1e})")
        times: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(a.rounds):
            for name, fn in fns.items():
                t = time.perf_counter()
                fn(h, w, labels)
                times[name].append(time.perf_counter() - t)
    print(
        f"{a.tokens} tokens x hidden {a.hidden} x vocab {a.vocab}, {torch.get_num_threads()} "
        f"threads, {a.rounds} rounds, load {os.getloadavg()[0]:.1f}"
    )
    for name, v in times.items():
        print(f"{name}: {statistics.median(v) * 1000:.1f} ms")
    pairs = [b / n for b, n in zip(*times.values(), strict=True)]
    print(f"ratio={statistics.median(pairs):.3f}")


if __name__ == "__main__":
    main()
