"""Switches that make the same step run faster on a GPU: bf16 autocast, channels_last, compile.

Each is a `train.*` config value and none changes what is computed, only how: the models
keep float32 weights (autocast casts matrix products to bf16 on the fly, and their outputs
back to float32 here, so the losses stay float32); channels_last only reorders memory.
They are off by default. The DCGAN presets turn channels_last on: with two threads on this
project's 2-core CPU their steps ran 1.16x to 1.39x faster with it (torch 2.14; the transposed
and resize convolutions of G gain most). bf16 was 14x slower there and compile added a little
after minutes of compilation (docs/benchmarks.md); bf16 rounding also changes results in the
last bits.
"""

import torch
from torch import nn


class Autocast(nn.Module):
    """Runs `module` under bf16 autocast and hands back float32 (each of a tuple's tensors)."""

    def __init__(self, module: nn.Module, device_type: str):
        super().__init__()
        self.module, self.device_type = module, device_type

    def forward(self, *args, **kwargs):
        with torch.autocast(self.device_type, dtype=torch.bfloat16):
            out = self.module(*args, **kwargs)
        return tuple(o.float() for o in out) if isinstance(out, tuple) else out.float()


def accelerate(module: nn.Module, train, device: torch.device) -> nn.Module:
    """What the training step calls instead of `module` (the same weights)."""
    if train.precision == "bf16":
        module = Autocast(module, device.type)
    if train.compile:
        module = torch.compile(module)
    return module


def memory_format(train) -> torch.memory_format:
    return torch.channels_last if train.channels_last else torch.contiguous_format
