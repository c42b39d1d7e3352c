"""Evaluation throughput: ``qurate eval`` bits per byte vs a bare forward pass, same run.

The input is a stage directory made from the bundled sample's real text
(``qurate/data/sample/docs.jsonl``); the model is the tiny (or ``--shape mini``) Qwen2.5
preset at vocab 8,192 with random weights and the bundled tokenizer (throughput does not
depend on what the weights know).

- qurate: ``evaluate_model`` on the stage directory, end to end: read the shards, tokenize,
  pack windows, forward, per-token loss, per-document sums, bits per byte;
- bare: the forward pass alone (``model(input_ids, doc_ids)``: embedding, blocks, final norm
  and the head's logits, under ``torch.inference_mode``, the same rows per pass) over the
  same packed rows, already tokenized and on the device: the work no evaluation can avoid.
  It does not include the log-softmax that bits per byte needs; that is qurate's cost.
  The ratio is against this bare forward. qurate's evaluation writes the logits into one
  reused buffer (``scoring.head_nll``), which a plain forward cannot (each call allocates a
  fresh logits tensor, and on CPU its page faults cost more than the log-softmax), so the
  ratio can pass 1. For what qurate's own work costs, the script also times
- bare_buf: the same forward through ``hidden_states`` with the head written into a reused
  buffer (qurate's forward without the loss, the reading and the tokenizing), printed as
  ``bare_buf/qurate``, not the ratio.

The three alternate round by round so load on a shared machine hits both alike; the median
round of each is compared. Prints tokens/s of each and, last, ``ratio=<qurate/bare>``.

    python bench/ablate.py [--rounds 5] [--seq 512] [--batch 8] [--docs 40] [--shape tiny|mini] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import torch

from qurate.ablate.config import AblateConfig
from qurate.ablate.runner import evaluate_model, load_evals
from qurate.ablate.scoring import load_model, pack, rows_per_pass
from qurate.contract.stagedir import write_manifest
from qurate.run import DATA, SAMPLE
from qurate.train.checkpoint import write_hf_model
from qurate.train.model import ModelConfig, Qwen2
from qurate.train.tokenizer import load_tokenizer, save_tokenizer_dir

# the tiny and mini presets with the bundled tokenizer's vocabulary (8,192)
SHAPES = {
    "tiny": ModelConfig(8192, 64, 192, 2, 4, 2, 4096, 10_000.0),
    "mini": ModelConfig(8192, 256, 704, 4, 8, 2, 4096, 10_000.0),
}


def build(work: Path, docs: int, shape: ModelConfig) -> tuple[Path, Path]:
    rows = [json.loads(line) for line in (SAMPLE / "docs.jsonl").open()][:docs]
    stage = work / "stage"
    stage.mkdir()
    pq.write_table(pa.table({"text": [r["text"] for r in rows]}), stage / "part-00000.parquet")
    write_manifest(
        stage,
        stage="bench",
        config_hash="b",
        inputs=[],
        n_in=len(rows),
        n_kept=len(rows),
        rejected_by_reason={},
    )
    ckpt = work / "model"
    ckpt.mkdir()
    torch.manual_seed(0)
    write_hf_model(ckpt, Qwen2(shape), None)
    save_tokenizer_dir(load_tokenizer(DATA / "tokenizer.json"), ckpt)
    return stage, ckpt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--docs", type=int, default=40)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    with tempfile.TemporaryDirectory() as tmp:
        stage, ckpt = build(Path(tmp), a.docs, SHAPES[a.shape])
        cfg = AblateConfig(evals={"docs": str(stage)}, eval_seq_len=a.seq, eval_batch_size=a.batch)
        evals = load_evals(cfg)
        lm = load_model(ckpt, device="cpu")
        toks = lm.encode([r["text"] for r in evals["docs"].rows])
        seqs = [
            (torch.cat((torch.tensor([lm.eos]), torch.from_numpy(t.astype("int64")))).numpy(), 1)
            for t in toks
        ]
        p = pack(seqs, a.seq, lm.eos)
        n_tokens = int((p.owner >= 0).sum())
        step = rows_per_pass(a.seq, SHAPES[a.shape].vocab_size, a.batch)
        ids = torch.from_numpy(p.input_ids)
        seg = torch.from_numpy(p.segments)

        @torch.inference_mode()
        def bare() -> None:
            for r0 in range(0, len(ids), step):
                lm.model(ids[r0 : r0 + step], doc_ids=seg[r0 : r0 + step])

        buf = torch.empty(step * a.seq, SHAPES[a.shape].vocab_size)
        w = lm.model.lm_head.weight

        @torch.inference_mode()
        def bare_buf() -> None:
            for r0 in range(0, len(ids), step):
                h = lm.model.hidden_states(ids[r0 : r0 + step], doc_ids=seg[r0 : r0 + step])
                h = h.reshape(-1, h.shape[-1])
                torch.mm(h, w.t(), out=buf[: h.shape[0]])

        def ours() -> float:
            return evaluate_model(ckpt, evals, cfg)["docs"]["value"]

        bare()  # warm-up (allocator, kernels)
        times: dict[str, list[float]] = {"bare": [], "qurate": [], "bare_buf": []}
        for _ in range(a.rounds):
            for name, fn in (("bare", bare), ("qurate", ours), ("bare_buf", bare_buf)):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(
            f"{len(toks)} docs, {n_tokens:,} tokens scored, {len(ids)} rows of {a.seq}, "
            f"model {sum(x.numel() for x in lm.model.parameters()) / 1e6:.1f}M params, "
            f"{torch.get_num_threads()} threads, {a.rounds} rounds"
        )
        for k in ("bare", "qurate", "bare_buf"):
            print(
                f"{k:7s} median {med[k]:.3f} s  {n_tokens / med[k]:,.0f} tokens/s  "
                f"(rounds: {', '.join(f'{x:.2f}' for x in times[k])})"
            )
        per_round = [b / q for b, q in zip(times["bare"], times["qurate"], strict=True)]
        print(
            f"per-round bare/qurate median {statistics.median(per_round):.3f}; "
            f"bare_buf/qurate {med['bare_buf'] / med['qurate']:.3f} (qurate's own cost "
            "against the best forward we know)"
        )
        print(f"ratio={med['bare'] / med['qurate']:.3f}")


if __name__ == "__main__":
    main()
