"""Hugging Face tensor names on disk vs in memory, for the MoE experts.

transformers 5 holds a Qwen2-MoE layer's experts as two stacked tensors
(``mlp.experts.gate_up_proj`` (E, 2I, H) and ``mlp.experts.down_proj`` (E, H, I)) and converts
from and to the on-disk layout of Qwen's checkpoints, one tensor per expert
(``mlp.experts.N.{gate,up,down}_proj.weight``): its ``conversion_mapping`` entry for
``qwen2_moe`` merges the experts along a new dim 0 and concatenates gate and up along dim 1.
Our model holds them the same way in memory; these two functions are that conversion, so our
files and transformers' are the same files. Dense tensors pass through unchanged.
"""

from __future__ import annotations

import re

import torch

from qurate.errors import BadInputError
from qurate.train.presets import ModelConfig

_STACKED = re.compile(r"(.*\.mlp\.experts)\.(gate_up_proj|down_proj)$")


def to_hf_disk(sd: dict[str, torch.Tensor], cfg: ModelConfig) -> dict[str, torch.Tensor]:
    """Stacked experts -> ``experts.N.{gate,up,down}_proj.weight``; drop a tied lm_head."""
    out: dict[str, torch.Tensor] = {}
    for name, t in sd.items():
        m = _STACKED.match(name)
        if m is None:
            out[name] = t
            continue
        for e in range(t.shape[0]):
            if m.group(2) == "down_proj":
                out[f"{m.group(1)}.{e}.down_proj.weight"] = t[e].clone()
            else:
                gate, up = t[e].chunk(2, dim=0)
                out[f"{m.group(1)}.{e}.gate_proj.weight"] = gate.clone()  # own storage:
                out[f"{m.group(1)}.{e}.up_proj.weight"] = up.clone()  # safetensors wants it
    if cfg.tie_word_embeddings:
        out.pop("lm_head.weight", None)
    return out


def from_hf_disk(sd: dict[str, torch.Tensor], cfg: ModelConfig) -> dict[str, torch.Tensor]:
    """Per-expert tensors -> the stacked ones; an expert tensor missing is an error naming it.

    Per-expert tensors no sparse layer asks for (an expert beyond ``num_experts``, experts
    in a dense layer) are passed through, so the shape check reports them as unexpected.
    """
    out = dict(sd)
    for i in range(cfg.num_hidden_layers):
        prefix = f"model.layers.{i}.mlp.experts"
        if not cfg.is_sparse_layer(i) or f"{prefix}.gate_up_proj" in sd:
            continue
        gate_up, down = [], []
        for e in range(cfg.num_experts):
            names = [f"{prefix}.{e}.{p}_proj.weight" for p in ("gate", "up", "down")]
            absent = [n for n in names if n not in sd]
            if absent:
                raise BadInputError(
                    f"the checkpoint has no tensor {absent[0]} (an expert is missing)"
                )
            gate_up.append(torch.cat((out.pop(names[0]), out.pop(names[1]))))
            down.append(out.pop(names[2]))
        out[f"{prefix}.gate_up_proj"] = torch.stack(gate_up)
        out[f"{prefix}.down_proj"] = torch.stack(down)
    return out
