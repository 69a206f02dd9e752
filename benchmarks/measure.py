"""The benchmarks' one way to train and to measure: `gankit.train` with its hooks, then the
metric registry (`gankit.metrics.evaluate`). No benchmark patches a class or computes a metric
of its own.

    result = train_and_measure("dcgan-mnist", ["train.steps=500"], ["fid", "pr", "coverage"])
    result.metrics["fid"], result.wall, result.steps

`CPUBudget` ends a run after so many seconds of process CPU time (the `abort` hook) and
measures G on the way (the `progress` hook), its own measuring left out of the count.
`held_out` measures a generator, or images drawn elsewhere (the course's own loop), on the
MNIST evaluator's held-out digits.
"""

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

import gankit
from gankit import rundir
from gankit.generator import Generator
from gankit.metrics import evaluate

# The bundled digits: the registry measures them against the MNIST evaluator's held-out test
# split (2,000 images it never trained on; gankit.metrics.real).
MNIST = {"name": "mnist", "path": ""}
HELD_OUT_METRICS = ["fid", "pr", "coverage"]


class Replay(torch.nn.Module):
    """Images drawn elsewhere, handed out in order as a generator's output, so that they are
    measured by the same registry as a gankit generator (Generator.generate asks in order)."""

    def __init__(self, images: torch.Tensor):
        super().__init__()
        self.images, self.at, self.z_dim = images, 0, 1
        self.anchor = torch.nn.Parameter(torch.zeros(()), requires_grad=False)  # its device

    def forward(self, z, y=None):
        out = self.images[self.at:self.at + len(z)]
        self.at += len(z)
        return out


def held_out(G, n: int = 10_000, seed: int = 123) -> dict:
    """FID, precision/recall (k=3) and classes covered of n samples of G (a module of 28x28
    digits, run in eval mode in batches from `seed`; or (n, 1, 28, 28) images already drawn)
    against the held-out MNIST digits: {"fid", "precision", "recall", "classes"}."""
    if isinstance(G, torch.Tensor):
        n, G = len(G), Replay(G.clamp(-1, 1))
    m = evaluate(Generator(G, {"data_shape": [1, 28, 28], "data": MNIST}), None,
                 HELD_OUT_METRICS, n=n, seed=seed)["metrics"]
    return {"fid": m["fid"], "precision": m["precision"], "recall": m["recall"],
            "classes": m["coverage"]["covered"]}


@dataclass
class CPUBudget:
    """The hooks that end a run after `budget` CPU seconds of training (0: never) and measure
    G at each of `at` CPU seconds on the way (at the first logged step past each); the CPU
    time of those measurements, and of the run's setup before its first step, is not counted."""
    budget: float = 0.0
    at: list = field(default_factory=list)
    curve: list = field(default_factory=list)   # (CPU s, FID) at each measurement
    excluded: float = 0.0
    t0: float | None = None
    end: float = 0.0                            # CPU s when training ended

    def __post_init__(self):
        self.at = sorted(a for a in self.at if 0 < a and (not self.budget or a < self.budget))

    def cpu(self) -> float:
        return 0.0 if self.t0 is None else time.process_time() - self.t0 - self.excluded

    def abort(self, step: int) -> bool:
        if self.t0 is None:  # after the first step: the setup before it is not training
            self.t0 = time.process_time()
        return bool(self.budget) and self.cpu() >= self.budget

    def progress(self, tick) -> None:
        used = self.cpu()
        if self.at and used >= self.at[0]:
            while self.at and used >= self.at[0]:
                self.at.pop(0)
            e0 = time.process_time()
            fid = held_out(tick.generator().module)["fid"]
            self.curve.append((round(used), round(fid, 1)))
            print(f"  CPU {used:.0f} s, step {tick.step}: FID {fid:.1f}", flush=True)
            self.excluded += time.process_time() - e0


@dataclass
class Result:
    wall: float               # seconds from the call to the end of training (setup included)
    cpu: float                # process CPU seconds over the same span (a budget's measuring not)
    steps: int                # G steps trained
    generator: Generator      # the run's snapshot (the EMA where there is one)
    metrics: dict             # the registry's values


def train_and_measure(preset: str, overrides: list[str], metrics: list[str], n: int | None = None,
                      seed: int = 123, budget: CPUBudget | None = None, keep: Path | None = None,
                      name: str = "") -> Result:
    """Train `preset` with `overrides` ("key=value" strings) in a throw-away run directory
    (no report), then measure its snapshot with the registry's `metrics` (n samples from
    `seed`; n None: the registry's default). `budget`: its hooks drive the run. `keep`: copy
    the final sample grid there as `name`.png."""
    sets = dict(o.split("=", 1) for o in overrides)
    sets["train.report"] = "false"
    hooks = {"progress": budget.progress, "abort": budget.abort} if budget else {}
    with tempfile.TemporaryDirectory() as tmp:
        w0, c0 = time.perf_counter(), time.process_time()
        run = gankit.train(preset, sets, out=Path(tmp) / "run", **hooks)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        if budget is not None:
            budget.end, cpu = budget.cpu(), cpu - budget.excluded
        g = run.generator
        grids = sorted((run.dir / rundir.SAMPLES).glob(rundir.SAMPLE_GRIDS))
        if keep is not None and grids:  # the last grid the run drew
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(grids[-1], keep / f"{name[:180]}.png")
    values = evaluate(g, None, metrics, n=n, seed=seed)["metrics"]
    return Result(wall, cpu, int(g.card.get("step") or 0), g, values)


class HeldOut:
    """`held_out` as the checkerboard benchmark calls it."""

    def measure(self, G, n: int = 10_000, seed: int = 123) -> dict:
        return held_out(G, n, seed)

    def measure_images(self, fake: torch.Tensor) -> dict:
        return held_out(fake)
