"""Benchmark: `qurate post sft` against bare TRL `SFTTrainer` on the same data, model, settings.

Both train the same small Qwen2 (built on the fly, nothing downloaded) on the same chat rows
with the same SFTConfig (assistant-only loss, best-fit packing, CPU fp32, same steps, batch
and sequence length), in this process, alternating bare / qurate ``--rounds`` times so load
swings on a shared machine hit both. Each side is timed end to end: load the model and
tokenizer, build the dataset, train, save the final model. qurate also reads the chat
stage directory, length-checks every row with the chat template, writes metrics.jsonl and
the manifest. Tokens are TRL's own ``num_tokens`` count.

Also prints `post data` throughput (rows/s) on the same rows, written as a chat file.

Usage: python bench/post.py [--rows 512] [--steps 30] [--rounds 2]
The last line is ``ratio=<qurate/bare tokens/s>`` (target >= 0.95).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path


def build_model(d: Path, hidden: int = 128) -> Path:
    import torch
    from transformers import Qwen2ForCausalLM

    from qurate.llm.testing import _qwen2_config, build_tokenizer

    d.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(d)
    torch.manual_seed(0)
    cfg = _qwen2_config(
        tok, hidden_size=hidden, intermediate_size=4 * hidden, num_attention_heads=4
    )
    Qwen2ForCausalLM(cfg).save_pretrained(str(d))
    return d


def chat_rows(n: int, seed: int = 0) -> list[dict]:
    """Distinct conversations (random word sequences, so dedup keeps them all)."""
    import random

    rng = random.Random(seed)
    words = (
        "river star bread chess rain iron music tree salt cloud stone paper glass field "
        "light sound water fire wind road city market garden winter summer number letter"
    ).split()
    rows = []
    for _ in range(n):
        q = " ".join(rng.choice(words) for _ in range(rng.randint(12, 30)))
        a = " ".join(rng.choice(words) for _ in range(rng.randint(20, 80)))
        rows.append(
            {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        )
    return rows


def bare(model_dir: Path, rows: list[dict], out: Path, steps: int, cfg) -> tuple[float, float]:
    """Bare TRL: the user's own script."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer
    from trl.chat_template_utils import qwen2_5_chat_template

    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    tok.chat_template = qwen2_5_chat_template
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    model.config.use_cache = False
    s = cfg.sft
    args = SFTConfig(
        output_dir=str(out),
        use_cpu=True,
        bf16=False,
        max_steps=steps,
        learning_rate=s.learning_rate,
        per_device_train_batch_size=s.batch_size,
        max_length=s.max_tokens,
        packing=True,
        packing_strategy="bfd",
        assistant_only_loss=True,
        eos_token="<|im_end|>",
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        logging_steps=1,
        seed=s.seed,
        data_seed=s.seed,
    )
    tr = SFTTrainer(
        model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok
    )
    tr.train()
    tr.save_model(str(out / "final"))
    tokens = max(h.get("num_tokens", 0) for h in tr.state.log_history)
    return tokens, time.perf_counter() - t0


def ours(model_dir: Path, data: Path, out: Path, steps: int, cfg) -> tuple[float, float]:
    from qurate.post.runs import read_metrics
    from qurate.post.trainers import run_sft

    t0 = time.perf_counter()
    run_sft(model_dir, [str(data)], out, cfg, max_steps=steps)
    tokens = max(r["tokens"] or 0 for r in read_metrics(out))
    return tokens, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=512)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()

    from qurate.post.config import DataConfig, PostConfig
    from qurate.post.data import build_chat_data
    from qurate.post.trainers import read_chat_rows

    work = Path(tempfile.mkdtemp(prefix="qurate-bench-post-"))
    model = build_model(work / "model")
    rows = chat_rows(a.rows)
    src = work / "chats.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    t0 = time.perf_counter()
    d = build_chat_data([src], work / "sft", DataConfig())
    dt = time.perf_counter() - t0
    print(f"post data: {d.n_in} rows in {dt:.2f}s = {d.n_in / dt:.0f} rows/s ({d.kept} kept)")
    kept = [{"messages": r["messages"]} for r in read_chat_rows(work / "sft")]

    cfg = PostConfig(
        device="cpu",
        sft={"batch_size": 4, "max_tokens": 512, "learning_rate": 1e-4, "save_steps": 10_000},
    )
    rates: dict[str, list[float]] = {"bare": [], "qurate": []}
    for k in range(a.rounds):
        tb, sb = bare(model, kept, work / f"bare-{k}", a.steps, cfg)
        tq, sq = ours(model, work / "sft", work / f"qurate-{k}", a.steps, cfg)
        rates["bare"].append(tb / sb)
        rates["qurate"].append(tq / sq)
        print(
            f"round {k}: bare {tb:.0f} tokens in {sb:.1f}s = {tb / sb:.0f} tok/s; qurate {tq:.0f} tokens in {sq:.1f}s = {tq / sq:.0f} tok/s"
        )
    b, q = statistics.median(rates["bare"]), statistics.median(rates["qurate"])
    print(f"median tokens/s: bare TRL {b:.0f}, qurate post sft {q:.0f}")
    print(f"ratio={q / b:.3f}")


if __name__ == "__main__":
    main()
