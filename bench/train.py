"""Training throughput: qurate's model vs transformers' on the same loop, same run.

Dense: ``Qwen2ForCausalLM``; ``--moe``: ``Qwen2MoeForCausalLM`` (router logits on, so both
sides compute the load-balancing loss). Same config, same initial weights, same batch,
same loop (forward with labels, backward, clip, AdamW step). The two models alternate round
by round, and each thread setting in ``--threads`` is its own set of rounds, so load on a
shared machine hits both alike; per-round tokens/s are reduced to medians. Prints tokens/s
of each and, last, ``ratio=<qurate/baseline>`` for the first thread setting.

    python bench/train.py [--moe] [--threads 0,1] [--rounds 5] [--steps 3] [--seq 256]

``--threads 0`` is torch's default (all cores). ``--compile`` adds a third row, ours with
its blocks compiled (needs g++ on CPU; the warm-up then includes the compile time).
``--profile`` ends with one profiled step of each: time in GEMMs and in the optimizer, and
the ratio a step with the same GEMMs and optimizer cannot beat (baseline / (GEMMs + opt)). MFU on a GPU: ``--preset 0.5B --seq 4096
--bf16`` (``--moe --preset moe-A2.7B`` for the MoE) prints the MFU of each model.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2MoeConfig, Qwen2MoeForCausalLM

from qurate.train.compiled import compile_blocks, compile_unavailable
from qurate.train.model import PRESETS, ModelConfig, Qwen2, config_to_hf

# Qwen2.5-0.5B's shape scaled to a CPU: head_dim 64, FFN 5.5x hidden, vocab 170x hidden
# (0.5B: 151936 / 896), tied embeddings. The vocabulary share matters: at Qwen's ratio the
# LM head and the loss are a large part of a step.
_SHAPE = dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2)
_SHAPE.update(max_position_embeddings=4096, rope_theta=1_000_000.0)
BENCH = ModelConfig(vocab_size=43520, intermediate_size=1408, **_SHAPE)
SMALL_VOCAB = ModelConfig(vocab_size=8192, intermediate_size=704, **_SHAPE)  # --config small
# Qwen1.5-MoE-A2.7B's proportions on the same body: 60 -> 16 experts, top-4, expert width
# hidden * 0.69, a shared expert 4x an expert (1408 / 5632 in the released model)
BENCH_MOE = BENCH.replace(
    num_experts=16,
    num_experts_per_tok=4,
    moe_intermediate_size=176,
    shared_expert_intermediate_size=704,
)


def step_fn(model: torch.nn.Module, ours: bool, bf16: bool, device: str):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=device == "cuda")
    coef = model.config.router_aux_loss_coef if hasattr(model.config, "num_experts") else 0.0

    def step(ids: torch.Tensor) -> float:
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
            if ours:  # summed loss over the shifted targets, as the trainer uses it
                n = ids[:, 1:].numel()
                loss = model(ids[:, :-1], labels=ids[:, 1:]) / n
                if model.router_stats is not None:  # what the trainer adds for MoE
                    loss = loss + coef * model.router_stats.aux_loss
            else:
                loss = model(input_ids=ids, labels=ids).loss  # includes coef * aux for MoE
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(loss.detach())

    return step


def build(cfg: ModelConfig, device: str) -> tuple[torch.nn.Module, Qwen2]:
    torch.manual_seed(0)
    if cfg.is_moe:
        hf_cfg = Qwen2MoeConfig(**{**config_to_hf(cfg), "output_router_logits": True})
        hf: torch.nn.Module = Qwen2MoeForCausalLM(hf_cfg)
    else:
        hf = Qwen2ForCausalLM(Qwen2Config(**config_to_hf(cfg), attn_implementation="sdpa"))
    ours = Qwen2(cfg)
    ours.load_hf_state_dict(hf.state_dict())
    return hf.to(device).train(), ours.to(device).train()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default=None, help="a qurate preset instead of the bench config")
    ap.add_argument("--config", choices=["qwen-ratio", "small"], default="qwen-ratio")
    ap.add_argument("--moe", action="store_true", help="the MoE bench config / baseline")
    ap.add_argument("--layers", type=int, default=0, help="override num_hidden_layers (fit a GPU)")
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3, help="steps per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", default="0", help="comma-separated; 0 = torch's default")
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="profile one step of each: matmul and optimizer time, and the ratio they cap",
    )
    ap.add_argument(
        "--compile",
        action="store_true",
        help="also time a third model: ours with its blocks compiled (qurate.train.compiled)",
    )
    ap.add_argument("--peak-flops", type=float, default=989e12, help="for MFU on GPU")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.preset:
        cfg = PRESETS[args.preset]
    elif args.moe:
        cfg = BENCH_MOE
    else:
        cfg = BENCH if args.config == "qwen-ratio" else SMALL_VOCAB
    if args.layers:
        cfg = cfg.replace(num_hidden_layers=args.layers)
    hf, ours = build(cfg, device)
    steps = {
        "qurate": step_fn(ours, True, args.bf16, device),
        "transformers": step_fn(hf, False, args.bf16, device),
    }
    if args.compile:  # same weights again, blocks compiled in place
        why = compile_unavailable(torch.device(device))
        if why is not None:
            print(f"compile: {why}; no compiled row")
        else:
            fast = Qwen2(cfg).to(device).train()
            fast.load_state_dict(ours.state_dict())
            compile_blocks(fast.model.layers)
            steps["qurate+compile"] = step_fn(fast, True, args.bf16, device)
    ids = torch.randint(0, cfg.vocab_size, (args.batch, args.seq + 1), device=device)
    t0 = time.perf_counter()
    first = {name: fn(ids) for name, fn in steps.items()}  # warm-up; same weights, same loss
    print(
        "first-step loss: "
        + ", ".join(f"{name} {v:.6f}" for name, v in first.items())
        + f" (warm-up incl. any compile {time.perf_counter() - t0:.0f} s)"
    )
    print(
        f"config: {'MoE ' if cfg.is_moe else ''}hidden {cfg.hidden_size}, layers "
        f"{cfg.num_hidden_layers}, vocab {cfg.vocab_size}, seq {args.seq}, batch {args.batch}, "
        f"{device}; {args.rounds} rounds x {args.steps} steps, medians"
    )
    default_threads = torch.get_num_threads()
    tokens = args.batch * args.seq * args.steps
    ratios = []
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads or default_threads)
        per_round: dict[str, list[float]] = {name: [] for name in steps}
        for _ in range(args.rounds):
            for name, fn in steps.items():
                if device == "cuda":
                    torch.cuda.synchronize()
                t = time.perf_counter()
                for _ in range(args.steps):
                    fn(ids)
                if device == "cuda":
                    torch.cuda.synchronize()
                per_round[name].append(tokens / (time.perf_counter() - t))
        tps = {name: statistics.median(v) for name, v in per_round.items()}
        for name, v in tps.items():
            line = f"threads {torch.get_num_threads()}: {name}: {v:,.0f} tokens/s"
            if device == "cuda":
                line += f", MFU {cfg.flops_per_token(args.seq) * v / args.peak_flops:.1%}"
            print(line)
        # ratio of each round's pair, then the median: robust to load that shifts between rounds
        for name in [n for n in steps if n != "transformers"]:
            base = per_round["transformers"]
            pairs = [a / b for a, b in zip(per_round[name], base, strict=True)]
            if name == "qurate":
                ratios.append(statistics.median(pairs))
            print(
                f"threads {torch.get_num_threads()}: {name} ratio "
                f"{statistics.median(pairs):.3f} (per round: "
                + ", ".join(f"{r:.2f}" for r in pairs)
                + f"); load average {os.getloadavg()[0]:.1f}"
            )
    if args.profile:
        profile(steps, ids)
    print(f"ratio={ratios[0]:.3f}")


_MATMUL = {"aten::mm", "aten::addmm", "aten::addmm_", "aten::bmm", "aten::_grouped_mm"}


def profile(steps: dict, ids: torch.Tensor) -> None:
    """One profiled step of each model: the time in matmuls (self CPU time of the GEMM ops)
    and in the optimizer. Both models run the same GEMMs at the same shapes, so the best
    any implementation of the same step can reach is baseline / (its matmuls + optimizer)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    for name, fn in steps.items():
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            t = time.perf_counter()
            fn(ids)
            total = time.perf_counter() - t
        ev = prof.key_averages()
        mm = sum(e.self_cpu_time_total for e in ev if e.key in _MATMUL) / 1e6
        opt = sum(e.cpu_time_total for e in ev if e.key.startswith("Optimizer.step")) / 1e6
        print(
            f"profile {name}: step {total:.3f} s, matmuls {mm:.3f} s ({mm / total:.0%}), "
            f"optimizer {opt:.3f} s; step / (matmuls + optimizer) = {total / (mm + opt):.2f} "
            "(for the baseline: the most any step with the same GEMMs and optimizer can gain)"
        )


if __name__ == "__main__":
    main()
