"""Optional ``torch.compile`` of the decoder blocks, with a one-line fallback to eager.

Why blocks and not the whole model: a dense block has static shapes and no Python control
flow, so inductor fuses its element-wise work (RMSNorm, RoPE, SwiGLU, the residual adds)
into a few kernels; the fused head + loss (a custom autograd function with a Python loop
over chunks) and the MoE dispatch (data-dependent expert slices) would only break the
graph. In a sparse layer only the attention is compiled for that reason.
``nn.Module.compile`` compiles in place, so parameter names (HF's), state dicts,
checkpoints and DDP/FSDP wrapping are unchanged.

Inductor on CPU writes C++ and needs a C++ compiler (``g++``: on Debian/Ubuntu
``apt-get install --no-install-recommends g++``); on CUDA it needs Triton. When either is
missing, or the probe below fails for any other reason, the run says so in one line and
continues eager: compiling is a speed option, never a reason for a run to fail.
Measured effect (CPU, ``bench/train.py``): see ``bench/RESULTS.md``, issue 16 speed section.
"""

from __future__ import annotations

import os
import shutil

import torch
from torch import nn


def compile_unavailable(device: torch.device) -> str | None:
    """Why ``torch.compile`` cannot run on ``device`` here, or None when a probe compiled.

    The probe compiles and runs a two-op function: it exercises the whole tool chain (dynamo,
    inductor, the C++ compiler or Triton) in a few seconds, before hours of training do."""
    if device.type == "cpu":
        cxx = os.environ.get("CXX") or "g++"
        if shutil.which(cxx) is None and shutil.which("c++") is None:
            return f"no C++ compiler ({cxx}) for inductor on CPU; install g++"
    try:
        probe = torch.compile(lambda x: torch.relu(x) * 2 + 1, dynamic=False)
        probe(torch.ones(8, device=device))
    except Exception as exc:  # any failure of the tool chain means: run eager
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"torch.compile failed its probe ({first[:160]})"
    return None


def compile_blocks(layers: nn.ModuleList) -> int:
    """Compile every dense block in place, and the attention of every sparse block.

    Returns how many modules were compiled. Call :func:`compile_unavailable` first."""
    n = 0
    for block in layers:
        target = block if not hasattr(block.mlp, "experts") else block.self_attn
        target.compile(dynamic=False)
        n += 1
    return n
