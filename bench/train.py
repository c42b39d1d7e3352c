"""Training throughput: qurate's Qwen2 vs transformers' Qwen2ForCausalLM, same run.

Same config, same initial weights, same batch, same loop (forward with labels, backward,
clip, AdamW step); the two models alternate round by round so that load on a shared
machine hits both alike. Prints tokens/s of each and, last, ``ratio=<qurate/baseline>``.

    python bench/train.py [--steps 6] [--rounds 4] [--seq 256] [--batch 8] [--threads N]

MFU on a GPU (the 0.5B preset at seq 4096 in bf16): ``--preset 0.5B --seq 4096 --bf16``
prints the MFU of each model instead of measuring only tokens/s.
"""

from __future__ import annotations

import argparse
import time

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

from qurate.train.model import PRESETS, ModelConfig, Qwen2, config_to_hf

# Qwen2.5-0.5B's shape scaled to a CPU: head_dim 64, FFN 5.5x hidden, vocab 170x hidden
# (0.5B: 151936 / 896), tied embeddings. The vocabulary share matters: at Qwen's ratio the
# LM head and the loss are a large part of a step.
BENCH = ModelConfig(43520, 256, 1408, 4, 4, 2, 4096, 1_000_000.0)
SMALL_VOCAB = ModelConfig(8192, 256, 704, 4, 8, 2, 4096, 1_000_000.0)  # --config small


def step_fn(model: torch.nn.Module, ours: bool, bf16: bool, device: str):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=device == "cuda")

    def step(ids: torch.Tensor) -> float:
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
            if ours:  # summed loss over the shifted targets, as the trainer uses it
                loss = model(ids[:, :-1], labels=ids[:, 1:]) / ids[:, 1:].numel()
            else:
                loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(loss.detach())

    return step


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default=None, help="a qurate preset instead of the bench config")
    ap.add_argument("--config", choices=["qwen-ratio", "small"], default="qwen-ratio")
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--peak-flops", type=float, default=989e12, help="for MFU on GPU")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    cfg = (
        PRESETS[args.preset]
        if args.preset
        else (BENCH if args.config == "qwen-ratio" else SMALL_VOCAB)
    )
    torch.manual_seed(0)
    hf = Qwen2ForCausalLM(Qwen2Config(**config_to_hf(cfg), attn_implementation="sdpa"))
    ours = Qwen2(cfg)
    ours.load_hf_state_dict(hf.state_dict())
    hf.to(device).train()
    ours.to(device).train()
    steps = {
        "qurate": step_fn(ours, True, args.bf16, device),
        "transformers": step_fn(hf, False, args.bf16, device),
    }
    ids = torch.randint(0, cfg.vocab_size, (args.batch, args.seq + 1), device=device)
    first = {name: fn(ids) for name, fn in steps.items()}  # warm-up; same weights, same loss
    print(f"first-step loss: qurate {first['qurate']:.6f} transformers {first['transformers']:.6f}")
    elapsed = {name: 0.0 for name in steps}
    for _ in range(args.rounds):
        for name, fn in steps.items():
            if device == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            for _ in range(args.steps):
                fn(ids)
            if device == "cuda":
                torch.cuda.synchronize()
            elapsed[name] += time.perf_counter() - t
    tokens = args.batch * args.seq * args.steps * args.rounds
    tps = {name: tokens / sec for name, sec in elapsed.items()}
    print(
        f"config: hidden {cfg.hidden_size}, layers {cfg.num_hidden_layers}, vocab {cfg.vocab_size}, "
        f"seq {args.seq}, batch {args.batch}, {device}, threads {torch.get_num_threads()}"
    )
    for name, v in tps.items():
        line = f"{name}: {v:,.0f} tokens/s"
        if device == "cuda":
            line += f", MFU {cfg.flops_per_token(args.seq) * v / args.peak_flops:.1%}"
        print(line)
    print(f"ratio={tps['qurate'] / tps['transformers']:.3f}")


if __name__ == "__main__":
    main()
