"""Process-group plumbing for ``torchrun``: DDP by default, FSDP2 where torch has it.

Launched by ``torchrun`` (``WORLD_SIZE`` > 1) the trainer joins a process group: NCCL on
GPUs, gloo on CPU. A single process needs none of this and pays nothing for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from qurate.errors import ConfigError


@dataclass(frozen=True)
class Dist:
    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def sum(self, value: float | int) -> float:
        """Sum a number over processes (a no-op for one)."""
        if not self.active:
            return float(value)
        t = torch.tensor([float(value)], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return float(t.item())

    def sum_tensor(self, value: torch.Tensor) -> torch.Tensor:
        """Sum a tensor over processes (a no-op for one)."""
        if not self.active:
            return value
        t = value.to(self.device, torch.float64)
        dist.all_reduce(t)
        return t

    def broadcast_object(self, obj: object) -> object:
        if not self.active:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def setup() -> Dist:
    """Join the process group torchrun describes, or run alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(rank, world, local, device)


def wrap(model: nn.Module, d: Dist, parallel: str) -> nn.Module:
    """DDP, or FSDP2 (``fully_shard`` per block, then the root) when asked."""
    if not d.active:
        return model
    if parallel == "fsdp":
        try:
            from torch.distributed.fsdp import fully_shard
        except ImportError:
            raise ConfigError("this torch has no FSDP2 (fully_shard); use parallel: ddp") from None
        for block in model.model.layers:  # type: ignore[union-attr]
            fully_shard(block)
        fully_shard(model)
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [d.local_rank] if d.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def set_grad_sync(model: nn.Module, sync: bool) -> None:
    """Skip the gradient all-reduce on all but the last accumulation micro-step."""
    if hasattr(model, "require_backward_grad_sync"):  # DDP
        model.require_backward_grad_sync = sync
    elif hasattr(model, "set_requires_gradient_sync"):  # FSDP2
        model.set_requires_gradient_sync(sync)


def unwrap(model: nn.Module) -> nn.Module:
    inner = getattr(model, "module", model)
    return getattr(inner, "_orig_mod", inner)
