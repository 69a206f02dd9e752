"""Recipe benchmark: train a preset with --set-style overrides, measure it on held-out MNIST.

    python benchmarks/recipe.py                                   # the default preset as it is
    python benchmarks/recipe.py --cpu 240 --run "" --run "loss.d_loss=hinge loss.r1_gamma=0.1"
    python benchmarks/recipe.py --preset mlp-mnist --seeds 0,1 --record course

Each --run is one recipe: space-separated key=value overrides on top of the preset ("" for the
preset itself). With --cpu S a run stops after S seconds of *process CPU time* in training
(time.process_time; sample grids, checkpoints and the health monitor count, the metric
evaluations below do not), so recipes are compared at equal cost on a shared machine where
wall time is noisy: the loop's abort hook ends it (benchmarks/measure.py's CPUBudget).
Without --cpu a run trains for the preset's own steps (and time limit). --at lists extra CPU
times at which the generator is measured mid-run (at the first logged step past each).

Metrics come from the metric registry, in the MNIST evaluator's feature space, against its
held-out split (2,000 bundled digits the evaluator never trained on): FID, precision/recall
(k=3) and class coverage of 10,000 samples (seed 123) from G (its EMA when the recipe keeps
one), in eval mode.
Prints a table with wall and CPU seconds; --record TAG writes it to docs/benchmarks.md.
"""

import argparse
import sys
from pathlib import Path

from gankit.config import DEFAULT_PRESET, apply_overrides, load_preset

sys.path.insert(0, str(Path(__file__).parent))
from measure import HELD_OUT_METRICS, CPUBudget, train_and_measure  # noqa: E402
from record import machine, markdown_table, record  # noqa: E402

HEADER = ["preset", "overrides", "seed", "steps", "kimg", "CPU s", "wall s", "FID", "precision",
          "recall", "classes", "FID at CPU s"]


def recipe_row(preset: str, overrides: list[str], seed: int, cpu_budget: float, at: list[float],
               keep: Path | None) -> list:
    cfg = load_preset(preset)
    base = [f"train.seed={seed}", f"train.sample_every={min(cfg.train.sample_every, 250)}"]
    if cpu_budget:  # the CPU budget ends the run; a wall limit only as a guard
        base += ["train.steps=1000000", f"train.time_limit={4 * cpu_budget}"]
    budget = CPUBudget(cpu_budget, at)
    name = "_".join([preset, *[o.replace("/", "-") for o in overrides], f"s{seed}"])
    r = train_and_measure(preset, base + overrides, HELD_OUT_METRICS, n=10_000, seed=123,
                          budget=budget, keep=keep, name=name)
    m, t = r.metrics, apply_overrides(cfg, overrides).train  # the recipe's batch and d_steps
    kimg = r.steps * t.batch_size * t.d_steps / 1000
    return [preset, " ".join(overrides) or "(preset)", seed, r.steps, f"{kimg:.0f}",
            f"{r.cpu:.0f}", f"{r.wall:.0f}", f"{m['fid']:.1f}", f"{m['precision']:.3f}",
            f"{m['recall']:.3f}", f"{m['coverage']['covered']}/10",
            ", ".join(f"{c}: {f}" for c, f in budget.curve)]


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
    rows = []
    for overrides in runs:
        for seed in (int(s) for s in args.seeds.split(",")):
            rows.append(recipe_row(args.preset, overrides.split(), seed, args.cpu, at,
                                   Path(args.keep) if args.keep else None))
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
