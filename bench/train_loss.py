"""The LM head + loss alone: qurate's fused chunked loss vs the plain path, same run.

Plain = what transformers does: ``logits = h @ W.T`` in full, ``F.cross_entropy``, autograd
backward. Ours = ``qurate.train.loss.lm_loss`` (chunked, gradients formed in the forward),
at its default chunk and at the other chunk sizes given in ``--chunks`` (rows per chunk),
and the previous chunk arithmetic (logsumexp + sub + exp, before issue 16's speed round).
Forward + backward, interleaved rounds, medians; last line ``ratio=<plain / ours default>``.

    python bench/train_loss.py [--tokens 512] [--vocab 43520] [--hidden 256] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F

from qurate.train import loss as lossmod


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--vocab", type=int, default=43520)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--threads", type=int, default=0, help="0 = torch's default (all cores)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--chunks", default="256,2048", help="other rows-per-chunk to time")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    h = (torch.randn(args.tokens, args.hidden) * 0.5).requires_grad_()
    w = (torch.randn(args.vocab, args.hidden) * 0.05).requires_grad_()
    labels = torch.randint(0, args.vocab, (args.tokens,))
    default = lossmod._chunk_rows(args.vocab)

    def plain() -> torch.Tensor:
        loss = F.cross_entropy(h @ w.t(), labels, reduction="sum")
        loss.backward()
        return loss

    def fused(rows: int):
        def run() -> torch.Tensor:
            saved = lossmod._chunk_rows
            lossmod._chunk_rows = lambda vocab: rows
            try:
                loss = lossmod.lm_loss(h, w, labels)
            finally:
                lossmod._chunk_rows = saved
            loss.backward()
            return loss

        return run

    def previous() -> torch.Tensor:
        """The fused loss before this round (logsumexp, then sub_ + exp_ in place, a zero-
        filled head gradient), gradients written straight into ``.grad``: the baseline for
        what the in-place softmax contributed."""
        hd, wd = h.detach(), w.detach()
        gh, gw = torch.empty_like(hd), torch.zeros_like(wd)
        total = torch.zeros(())
        for s in range(0, args.tokens, default):
            hh, lab = hd[s : s + default], labels[s : s + default]
            g = hh @ wd.t()
            target = g.gather(1, lab[:, None]).squeeze(1)
            lse = torch.logsumexp(g, dim=-1)
            total += (lse - target).sum()
            g.sub_(lse[:, None]).exp_()
            g.scatter_add_(1, lab[:, None], -torch.ones(len(lab), 1))
            torch.mm(g, wd, out=gh[s : s + default])
            gw.addmm_(g.t(), hh)
        h.grad, w.grad = gh, gw
        return total

    fns = {
        "plain": plain,
        f"ours ({default} rows)": fused(default),
        f"ours before, logsumexp ({default} rows)": previous,
    }
    for rows in (int(r) for r in args.chunks.split(",") if r):
        fns[f"ours ({rows} rows)"] = fused(rows)
    ref = None
    for name, fn in fns.items():  # warm-up, and the same loss from every path
        h.grad = w.grad = None
        v = float(fn().detach())
        ref = v if ref is None else ref
        print(f"{name}: loss {v:.4f} (rel. diff {abs(v - ref) / ref:.1e})")
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(args.rounds):
        for name, fn in fns.items():
            h.grad = w.grad = None
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    print(
        f"{args.tokens} tokens x hidden {args.hidden} x vocab {args.vocab}, "
        f"{torch.get_num_threads()} threads, {args.rounds} rounds, load {os.getloadavg()[0]:.1f}"
    )
    for name, v in times.items():
        print(f"{name}: {statistics.median(v) * 1000:.0f} ms")
    main_name = f"ours ({default} rows)"
    pairs = [a / b for a, b in zip(times["plain"], times[main_name], strict=True)]
    print(f"ratio={statistics.median(pairs):.3f}")


if __name__ == "__main__":
    main()
