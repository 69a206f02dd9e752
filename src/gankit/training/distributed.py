"""Data-parallel training on PyTorch's own engine: DistributedDataParallel, launched by torchrun.

    torchrun --nproc-per-node 4 -m gankit train --preset dcgan-mnist

torchrun starts one process per device and sets RANK, WORLD_SIZE and LOCAL_RANK; gankit
manages no processes itself. Every process trains on its own batches of `train.batch_size`
(so the effective batch is batch_size x world size, which config.json records), DDP averages
G's and D's gradients across processes, and only rank 0 writes the run directory.

Two GAN-specific details:
- D's update calls the DDP-wrapped D twice (real, then fake) before one backward: each
  parameter's gradient is accumulated once per backward, so DDP reduces it once.
- G's update goes through the *unwrapped* D: D is frozen there, no gradient of D is
  reduced, and DDP would otherwise wait for D gradients that never come.
Each process shuffles its own copy of the data with its own seed (seed + rank), as
StyleGAN2-ADA does, rather than partitioning it; BatchNorm statistics stay per process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gankit.errors import GankitError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def device(self, name: str) -> torch.device:
        """The device this process trains on: its own GPU under torchrun when there are GPUs."""
        if name == "cuda" and not torch.cuda.is_available():
            raise GankitError("train.device=cuda but no CUDA device is available: use "
                              "train.device=cpu or auto")
        if name == "auto":
            name = "cuda" if torch.cuda.is_available() else "cpu"
        if name == "cuda" and self.distributed:
            torch.cuda.set_device(self.local_rank)
            return torch.device("cuda", self.local_rank)
        return torch.device(name)

    def wrap(self, module: nn.Module, device: torch.device) -> nn.Module:
        """`module` itself when training alone, else its DDP wrapper (which syncs its weights)."""
        if not self.distributed:
            return module
        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids)

    def mean(self, t: torch.Tensor) -> torch.Tensor:
        """The mean of `t` over every process (a copy; `t` itself when training alone)."""
        if not self.distributed:
            return t
        t = t.clone()
        dist.all_reduce(t)
        return t / self.size

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        """The sum of `t` over every process (a copy; `t` itself when training alone)."""
        if not self.distributed:
            return t
        t = t.clone()
        dist.all_reduce(t)
        return t

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every process when `flag` is true on any (so all stop at the same step)."""
        if not self.distributed:
            return flag
        t = torch.tensor([float(flag)], device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def gather(self, obj) -> list | None:
        """Every process's `obj`, as a list on rank 0 (None elsewhere)."""
        if not self.distributed:
            return [obj]
        out = [None] * self.size if self.is_main else None
        dist.gather_object(obj, out, dst=0)
        return out

    def share(self, obj):
        """Rank 0's `obj` on every process."""
        if not self.distributed:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def init_world(device_name: str = "auto") -> World:
    """Join the process group torchrun describes in the environment; alone without torchrun."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    world = World(rank=int(os.environ["RANK"]), size=size,
                  local_rank=int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        use_nccl = device_name != "cpu" and torch.cuda.is_available()
        dist.init_process_group(backend="nccl" if use_nccl else "gloo")
    return world


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
