"""Recipe benchmark: train a preset with --set-style overrides, measure it on held-out MNIST.

    python benchmarks/recipe.py                                   # the default preset as it is
    python benchmarks/recipe.py --cpu 240 --run "" --run "loss.d_loss=hinge loss.r1_gamma=0.1"
    python benchmarks/recipe.py --preset mlp-mnist --seeds 0,1 --record course

Each --run is one recipe: space-separated key=value overrides on top of the preset ("" for the
preset itself). With --cpu S a run stops after S seconds of *process CPU time* in training
(time.process_time; sample grids, checkpoints and the health monitor count, the metric
evaluations below do not), so recipes are compared at equal cost on a shared machine where
wall time is noisy. Without --cpu a run trains for the preset's own steps (and time limit).
--at lists extra CPU times at which the generator is measured mid-run.

Metrics are computed here, in the MNIST evaluator's feature space, against its held-out split
(gankit.metrics.evaluator.load_split("mnist", "test", <bundled npz>): 2,000 images the
evaluator never trained on): FID, precision/recall (k=3) and class coverage of 10,000 samples
(seed 123) from G (its EMA when the recipe keeps one), in eval mode.
Prints a table with wall and CPU seconds; --record TAG writes it to docs/benchmarks.md.
"""

import argparse
import shutil
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import torch

from gankit.config import DEFAULT_PRESET, apply_overrides, load_preset
from gankit.metrics import image
from gankit.metrics.evaluator import featurize, load_evaluator, load_split
from gankit.generator import Generator
from gankit.models.snapshot import load_snapshot
from gankit.train import run
from gankit.train.gan import GANTrainer

sys.path.insert(0, str(Path(__file__).parent))
from record import machine, markdown_table, record  # noqa: E402

BUNDLED = resources.files("gankit") / "data" / "bundled" / "mnist-10k.npz"
HEADER = ["preset", "overrides", "seed", "steps", "kimg", "CPU s", "wall s", "FID", "precision",
          "recall", "classes", "FID at CPU s"]


class HeldOut:
    """The evaluator and its features of the held-out test split, computed once."""

    def __init__(self):
        self.ev = load_evaluator("mnist")
        x, _ = load_split("mnist", "test", str(BUNDLED))
        self.real, _ = featurize(self.ev, x)

    @torch.no_grad()
    def measure(self, G, n: int = 10_000, seed: int = 123) -> dict:
        # the handle runs G in eval mode, in batches, from the seed
        return self.measure_images(Generator(G, {"data_shape": [1, 28, 28]}).generate(n, seed))

    def measure_images(self, fake: torch.Tensor) -> dict:
        f, logits = featurize(self.ev, fake.clamp(-1, 1))
        p, r = image.precision_recall(self.real, f)
        c = image.class_coverage(logits)
        return {"fid": image.fid(self.real, f), "precision": p, "recall": r,
                "classes": c["covered"]}


class CPUBudget:
    """Stops training after `budget` CPU seconds, measuring G at each of `at` on the way.

    Wraps Trainer.train_step: when the budget is spent it sets train.steps to the current
    step, so the loop ends normally (final grid, snapshot). Evaluation time is not counted."""

    def __init__(self, held_out: HeldOut, budget: float, at: list[float]):
        self.held_out, self.budget = held_out, budget
        self.at = sorted(a for a in at if 0 < a < budget) if budget else []
        self.curve, self.excluded, self.t0 = [], 0.0, None
        self.original = GANTrainer.train_step

    def cpu(self) -> float:
        return time.process_time() - self.t0 - self.excluded

    def __enter__(self):
        budget = self

        def train_step(t):
            if budget.t0 is None:
                budget.t0 = time.process_time()
            stats = budget.original(t)
            used = budget.cpu()
            if budget.at and used >= budget.at[0]:
                budget.at.pop(0)
                e0 = time.process_time()
                m = budget.held_out.measure(t.generator)
                budget.curve.append((round(used), round(m["fid"], 1)))
                print(f"  CPU {used:.0f} s, step {t.step}: FID {m['fid']:.1f}", flush=True)
                budget.excluded += time.process_time() - e0
            if budget.budget and used >= budget.budget:
                t.cfg.train.steps = t.step
            return stats

        GANTrainer.train_step = train_step
        return self

    def __exit__(self, *exc):
        GANTrainer.train_step = self.original


def train_and_measure(held_out: HeldOut, preset: str, overrides: list[str], seed: int,
                      cpu_budget: float, at: list[float], keep: Path | None) -> list:
    cfg = load_preset(preset)
    base = [f"train.seed={seed}", "train.report=false"]
    if cpu_budget:  # the CPU budget ends the run; a wall limit only as a guard
        base += ["train.steps=1000000", f"train.time_limit={4 * cpu_budget}"]
    cfg = apply_overrides(cfg, base + overrides)
    cfg.train.sample_every = min(cfg.train.sample_every, 250)
    with tempfile.TemporaryDirectory() as tmp, CPUBudget(held_out, cpu_budget, at) as b:
        w0, c0 = time.perf_counter(), time.process_time()
        run_dir, last_grid = run.start(cfg, str(Path(tmp) / "run"))
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0 - b.excluded
        G, meta = load_snapshot(run_dir)
        steps = meta.get("step") or cfg.train.steps
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            name = "_".join([preset, *[o.replace("/", "-") for o in overrides], f"s{seed}"])
            shutil.copy(last_grid, keep / f"{name[:180]}.png")
    m = held_out.measure(G)
    kimg = steps * cfg.train.batch_size * cfg.train.d_steps / 1000
    return [preset, " ".join(overrides) or "(preset)", seed, steps, f"{kimg:.0f}", f"{cpu:.0f}",
            f"{wall:.0f}", f"{m['fid']:.1f}", f"{m['precision']:.3f}", f"{m['recall']:.3f}",
            f"{m['classes']}/10", ", ".join(f"{c}: {f}" for c, f in b.curve)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default=DEFAULT_PRESET)
    ap.add_argument("--run", action="append", default=None,
                    help='space-separated key=value overrides, one recipe per --run ("": none)')
    ap.add_argument("--seeds", default="0", help="comma-separated train.seed values")
    ap.add_argument("--cpu", type=float, default=0.0,
                    help="CPU seconds of training per run (0: the preset's own length)")
    ap.add_argument("--at", default="", help="comma-separated CPU seconds to measure mid-run")
    ap.add_argument("--keep", default="", help="copy each run's final sample grid here")
    ap.add_argument("--record", default="", metavar="TAG",
                    help="write the table to docs/benchmarks.md, section recipe-TAG")
    args = ap.parse_args()
    runs = args.run if args.run is not None else [""]
    at = [float(a) for a in args.at.split(",") if a]
    held_out = HeldOut()
    rows = []
    for overrides in runs:
        for seed in (int(s) for s in args.seeds.split(",")):
            rows.append(train_and_measure(held_out, args.preset, overrides.split(), seed,
                                          args.cpu, at, Path(args.keep) if args.keep else None))
            print(" | ".join(str(c) for c in rows[-1]), flush=True)
    table = markdown_table(HEADER, rows)
    print(table)
    if args.record:
        cmd = " ".join(["python benchmarks/recipe.py", *[
            f'"{a}"' if (" " in a or not a) else a for a in sys.argv[1:]]])
        record(f"recipe-{args.record}",
               f"### Recipe runs: {args.record}\n\n`{cmd}`\n\nMachine: {machine()}. Held-out "
               f"MNIST (evaluator test split, 2,000 images) vs 10,000 samples.\n\n{table}")


if __name__ == "__main__":
    main()
