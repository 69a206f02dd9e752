"""Training statistics: `report(name, value)` from anywhere, one collector the loop reads per tick.

EDM's `torch_utils/training_stats.py`, cut to what gankit needs. Trainers, losses, penalties
and augmentation call `report`; the training loop reads the collector when one of its events
is due, getting the mean, standard deviation and count of every name since the last reset,
summed over processes under torchrun; stats.jsonl, the progress bar, TensorBoard, the health
monitor and the report all read that one result.

    report("d_loss", loss_d)               # a 0-d tensor: one sample per call
    report("d_real", D(x).sigmoid())       # (B,): each element one sample
    report("noise_sigma", 0.1)             # a Python number: kept on the host
    tick = COLLECTOR.read(world.sum)       # {name: Stat(mean, std, count)}; one sync
    COLLECTOR.reset()

The cost per call is a Python append of a detached view: tensors stay on their device, no
kernel runs and nothing syncs until the pending values are folded into the running sums
(sum, sum of squares, count; float64), at a read or every FOLD_AT calls. A caller that hands
in a buffer it later overwrites in place must pass a copy. Every process must report the same
names (their sums are reduced position by position, as EDM requires).
"""

import math
from dataclasses import dataclass
from typing import Callable

import torch

FOLD_AT = 1024  # pending tensors folded into the sums: bounds the memory between reads


@dataclass(frozen=True)
class Stat:
    mean: float
    std: float
    count: int


class Collector:
    def __init__(self):
        self._pending: list = []           # (name, detached tensor) since the last fold
        self._sums: dict = {}              # name -> (2,) float64 [sum, sum of squares]
        self._counts: dict[str, int] = {}  # name -> samples: known on the host, never synced
        self._host: dict = {}              # name -> [sum, sum of squares] of Python numbers

    def report(self, name: str, value) -> None:
        if isinstance(value, torch.Tensor):
            self._pending.append((name, value.detach()))
            self._counts[name] = self._counts.get(name, 0) + value.numel()
            if len(self._pending) >= FOLD_AT:
                self._fold()
        else:
            acc = self._host.setdefault(name, [0.0, 0.0])
            acc[0] += value
            acc[1] += value * value
            self._counts[name] = self._counts.get(name, 0) + 1

    def _fold(self) -> None:
        groups: dict = {}
        for name, v in self._pending:
            groups.setdefault(name, []).append(v.reshape(-1))
        self._pending = []
        for name, vs in groups.items():
            x = torch.cat(vs).double()                                  # (n,)
            moments = torch.stack((x.sum(), x.square().sum()))          # (2,)
            if name in self._sums:
                self._sums[name] += moments.to(self._sums[name].device)
            else:
                self._sums[name] = moments

    def reset(self) -> None:
        """Forget everything reported so far (the loop: after each log line)."""
        self._pending, self._sums, self._counts, self._host = [], {}, {}, {}

    def names(self) -> list[str]:
        return sorted(self._counts)

    def read(self, reduce: Callable[[torch.Tensor], torch.Tensor] | None = None,
             device: torch.device | str = "cpu") -> dict[str, Stat]:
        """{name: Stat} over everything reported since the last reset; `reduce` sums a tensor
        over processes (`World.sum`). One transfer to the host, whatever the number of names."""
        self._fold()
        names = self.names()
        if not names:
            return {}
        if self._sums:  # the device the values live on; else the host numbers'
            device = next(iter(self._sums.values())).device
        table = torch.zeros(len(names), 3, dtype=torch.float64, device=device)  # sum, sq, n
        for i, name in enumerate(names):
            if name in self._sums:
                table[i, :2] += self._sums[name].to(device)
            if name in self._host:
                table[i, :2] += torch.tensor(self._host[name], dtype=torch.float64, device=device)
            table[i, 2] = self._counts[name]
        if reduce is not None:
            table = reduce(table)
        out = {}
        for name, (s, sq, n) in zip(names, table.tolist()):
            mean = s / n if n else math.nan
            # var = E[x^2] - E[x]^2 in float64; rounding may leave it a hair below zero
            var = max(sq / n - mean * mean, 0.0) if n else math.nan
            out[name] = Stat(mean, math.sqrt(var) if math.isfinite(var) else var, int(n))
        return out


# The collector every `report` writes to (one per process, as EDM's).
COLLECTOR = Collector()


# report(name, value): record `value` (a tensor: each element one sample; or a number) under
# `name`. The bound method itself, not a wrapper: one Python call fewer on the step's path.
report = COLLECTOR.report
