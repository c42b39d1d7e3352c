#!/usr/bin/env bash
# The trainer's GPU check, prepared for the first session with an H100/H200-class GPU.
# A few minutes in all; each part has its own timeout and a failure does not stop the rest.
#
#   1. dense: Qwen2.5-0.5B shape, seq 4096, bf16 autocast: tokens/s and MFU of qurate's
#      model and of transformers' Qwen2ForCausalLM in the same loop (target: >= 45% MFU)
#   2. MoE: Qwen1.5-MoE-A2.7B's layer shape (60 experts, top-4, shared expert) cut to 4
#      layers so that two copies with AdamW states fit one GPU, vs Qwen2MoeForCausalLM.
#      On CUDA our experts run the per-expert loop (the grouped GEMM is used on CPU only).
#   3. the vLLM parity test of the reward models (needs the `gpu` extra installed)
#
#   bash bench/gpu_check.sh [python]      # e.g. bash bench/gpu_check.sh .venv/bin/python
# Record what it prints in bench/RESULTS.md with the GPU's name and the date.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY="${1:-python}"
status=0
run() {  # run <seconds> <label> <command...>
    local limit="$1" label="$2"
    shift 2
    echo "== $label"
    if ! timeout "$limit" "$@"; then
        echo "!! $label failed or timed out (limit ${limit}s)"
        status=1
    fi
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
"$PY" -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, torch.cuda.get_device_name())"
# peak bf16 dense FLOP/s for MFU: 989e12 is H100/H200 SXM; pass PEAK=... for another GPU
PEAK="${PEAK:-989e12}"
run 240 "dense 0.5B seq 4096 bf16" "$PY" bench/train.py --preset 0.5B --seq 4096 --batch 2 \
    --bf16 --rounds 3 --steps 5 --peak-flops "$PEAK"
run 240 "MoE A2.7B shape (4 layers) seq 4096 bf16" "$PY" bench/train.py --moe --preset moe-A2.7B \
    --layers 4 --seq 4096 --batch 2 --bf16 --rounds 3 --steps 5 --peak-flops "$PEAK"
run 180 "vLLM vs transformers reward parity" "$PY" -m pytest -q -rs \
    tests/synth/test_reward.py -k test_vllm_and_transformers_agree
exit "$status"
