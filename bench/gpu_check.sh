#!/usr/bin/env bash
# The GPU check: the trainer's speed and the GPU code paths of the CLI, for a session with an
# H100/H200-class GPU. About five minutes in all; each part has its own time limit and a
# failure does not stop the rest.
#
#   1. dense: Qwen2.5-0.5B shape, seq 4096, bf16 autocast: tokens/s and MFU of qurate's
#      model and of transformers' Qwen2ForCausalLM in the same loop (target: >= 45% MFU)
#   2. MoE: Qwen1.5-MoE-A2.7B's layer shape (60 experts, top-4, shared expert) cut to 4
#      layers so that two copies with AdamW states fit one GPU, vs Qwen2MoeForCausalLM.
#      On CUDA our experts run the per-expert loop (the grouped GEMM is used on CPU only).
#   3. the CLI on the GPU, given a `make demo` output directory (DEMO: its mixed/,
#      train/tokenizer and post/sft, post/prefs are read): `qurate train` (mini preset, then
#      the 0.5B preset at seq 4096) with dtype auto (bf16), `train export`, `qurate eval`,
#      `post sft` and `post dpo` (bf16 auto), `synth generate` with the transformers engine
#      on cuda.
#   4. the vLLM parity test of the reward models (only where vllm is installed)
#
#   bash bench/gpu_check.sh [python] [DEMO]   # e.g. bash bench/gpu_check.sh .venv/bin/python qurate-demo
# QUICK=1 shrinks part 3 to a CPU smoke test of the script (tiny preset, a few steps).
# Record what it prints in bench/RESULTS.md with the GPU's name and the date.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PY="${1:-python}"
DEMO="${2:-}"
QUICK="${QUICK:-0}"
status=0
run() {  # run <seconds> <label> <command...>
    local limit="$1" label="$2" t0=$SECONDS
    shift 2
    echo "== $label"
    if ! timeout "$limit" "$@"; then
        echo "!! $label failed or timed out (limit ${limit}s)"
        status=1
    fi
    echo "   ($((SECONDS - t0)) s)"
}
last_metrics() {  # the last two records of a run's metrics, the fields that matter
    "$PY" - "$1" <<'EOF'
import json, sys
rows = [json.loads(x) for x in open(sys.argv[1])]
for r in [r for r in rows if "loss" in r][-2:] + [r for r in rows if "eval_loss" in r][-1:]:
    print("  ", {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()
                if k in ("step", "loss", "eval_loss", "tokens_per_s", "mfu", "seq_len", "grad_norm")})
EOF
}
if [ "$QUICK" != 1 ]; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
    "$PY" -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, torch.cuda.get_device_name())"
    # peak bf16 dense FLOP/s for MFU: 989e12 is H100/H200 SXM; pass PEAK=... for another GPU
    PEAK="${PEAK:-989e12}"
    run 120 "dense 0.5B seq 4096 bf16" "$PY" bench/train.py --preset 0.5B --seq 4096 --batch 2 \
        --bf16 --rounds 3 --steps 5 --peak-flops "$PEAK"
    run 120 "MoE A2.7B shape (4 layers) seq 4096 bf16" "$PY" bench/train.py --moe --preset moe-A2.7B \
        --layers 4 --seq 4096 --batch 2 --bf16 --rounds 3 --steps 5 --peak-flops "$PEAK"
fi
if [ -n "$DEMO" ]; then
    W=$(mktemp -d)
    Q=("$PY" -m qurate)
    TOK="$DEMO/train/tokenizer"
    if [ "$QUICK" = 1 ]; then small=(--preset tiny --max-steps 5); steps=2; n=2
    else small=(--preset mini --max-steps 300); steps=20; n=32
    fi
    run 120 "qurate train ${small[*]} on the demo mix" "${Q[@]}" train --data "$DEMO/mixed" \
        -o "$W/small" --tokenizer "$TOK" "${small[@]}"
    [ -f "$W/small/metrics.jsonl" ] && last_metrics "$W/small/metrics.jsonl"
    if [ "$QUICK" != 1 ]; then
        run 150 "qurate train --preset 0.5B --seq-len 4096 (64k-token batches)" "${Q[@]}" train \
            --data "$DEMO/mixed" -o "$W/half" --tokenizer "$TOK" --preset 0.5B --seq-len 4096 \
            --micro-batch-size 4 --batch-tokens 65536 --max-steps 12
        [ -f "$W/half/metrics.jsonl" ] && last_metrics "$W/half/metrics.jsonl"
    fi
    run 60 "train export + qurate eval" bash -c "$(printf '%q ' "${Q[@]}") train export $W/small -o $W/hf \
        && $(printf '%q ' "${Q[@]}") eval $W/hf --eval held=$DEMO/mixed -o $W/eval.json"
    run 90 "post sft (bf16 auto)" "${Q[@]}" post sft --model "$W/hf" --data "$DEMO/post/sft" \
        -o "$W/sft" --max-steps "$steps"
    "$PY" -c "from qurate.post.config import PostConfig; from qurate.post.runs import device_args
c = PostConfig(); print('   post device_args (defaults):', device_args(c, c.sft))"
    run 90 "post dpo (bf16 auto)" "${Q[@]}" post dpo --model "$W/sft/final" \
        --data "$DEMO/post/prefs" -o "$W/dpo" --max-steps "$steps"
    run 90 "synth generate, transformers engine" "${Q[@]}" synth generate \
        qurate/synth/seeds/demo_math.jsonl --teacher "$W/sft/final" --limit "$n" \
        --max-tokens 128 -o "$W/gen"
fi
if [ "$QUICK" != 1 ] && "$PY" -c "import vllm" 2>/dev/null; then
    run 180 "vLLM vs transformers reward parity" "$PY" -m pytest -q -rs \
        tests/synth/test_reward.py -k test_vllm_and_transformers_agree
else
    echo "== vLLM parity: skipped (vllm is not installed)"
fi
exit "$status"
