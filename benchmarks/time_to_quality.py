"""Time to quality: the default preset against the course's week-2 DCGAN, FID every 30 s.

    python benchmarks/time_to_quality.py                 # prints the table
    python benchmarks/time_to_quality.py --record        # also docs/benchmarks.md + the plot

One process trains, one after the other and on one thread each:
  1. the default preset as `gankit train` runs it (its own steps, recipe and EMA), and
  2. the course's DCGAN (`dcgan-course-exact`'s network and settings) in the course's own loop
     (benchmarks/plain_dcgan.py), sampled as the course samples: G in training mode, batches
     of 128 (BatchNorm on the batch's statistics), up to --limit seconds.
Both are measured every --every seconds of training *CPU time* (time.process_time: the
machine is shared, and one-thread CPU time is what a quiet machine's wall time would be;
the evaluations are not counted), with recipe.py's held-out measure: FID of 10,000 samples
against the MNIST evaluator's 2,000 held-out digits. The table gives the first measured time
at which each model's FID is at or below each level; the plot shows both curves.
"""

import argparse
import sys
import time
from pathlib import Path

import torch

from gankit.config import DEFAULT_PRESET

sys.path.insert(0, str(Path(__file__).parent))
from plain_dcgan import course_loop, load_preset_file, train_digits  # noqa: E402
from measure import HELD_OUT_METRICS, CPUBudget, HeldOut, train_and_measure  # noqa: E402
from record import DOC, machine, markdown_table, record  # noqa: E402

LEVELS = (150.0, 75.0, 30.0)


def default_curve(held_out: HeldOut, every: float, limit: float) -> list[tuple[float, float]]:
    """(CPU s, FID) of the default preset every `every` s, and at its end."""
    b = CPUBudget(limit, [every * i for i in range(1, int(limit / every) + 1)])
    final = train_and_measure(DEFAULT_PRESET, ["train.time_limit=0", "train.threads=1"],
                              HELD_OUT_METRICS, n=10_000, budget=b).metrics["fid"]
    print(f"  default: end of run at CPU {b.end:.0f} s: FID {final:.1f}", flush=True)
    return [(float(c), f) for c, f in b.curve] + [(round(b.end), round(final, 1))]


@torch.no_grad()
def course_samples(gen, z_dim: int, n: int = 10_000, batch: int = 128) -> torch.Tensor:
    """As the course draws them: G left in training mode, a batch of noise at a time."""
    g = torch.Generator().manual_seed(123)
    return torch.cat([gen(torch.randn(min(batch, n - i), z_dim, generator=g))
                      for i in range(0, n, batch)])


def course_curve(held_out: HeldOut, every: float, limit: float) -> list[tuple[float, float]]:
    preset = load_preset_file("dcgan-course-exact")
    z_dim = preset["model"]["z_dim"]
    curve, excluded, next_at = [], 0.0, every
    t0 = time.process_time()
    for step, gen, _, _ in course_loop(preset, train_digits()):
        used = time.process_time() - t0 - excluded
        if used >= next_at:
            e0 = time.process_time()
            fid = held_out.measure_images(course_samples(gen, z_dim))["fid"]
            excluded += time.process_time() - e0
            curve.append((float(round(used)), round(fid, 1)))
            print(f"  course: CPU {used:.0f} s, step {step}: FID {fid:.1f}", flush=True)
            next_at += every
        if used >= limit:
            return curve


def first_reached(curve, level: float) -> float | None:
    return next((t for t, fid in curve if fid <= level), None)


def plot(curves: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for name, curve in curves.items():
        ax.plot([t for t, _ in curve], [f for _, f in curve], marker="o", ms=3, label=name)
    for level in LEVELS:
        ax.axhline(level, color="grey", lw=0.6, ls=":")
    ax.set(yscale="log", xlabel="training CPU seconds (one thread)",
           ylabel="FID (MNIST evaluator, held-out)", title="Time to quality")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=float, default=30.0, help="CPU seconds between evaluations")
    ap.add_argument("--limit", type=float, default=600.0, help="CPU seconds each model may train")
    ap.add_argument("--record", action="store_true",
                    help="write the table to docs/benchmarks.md and the plot to docs/")
    args = ap.parse_args()
    torch.set_num_threads(1)
    held_out = HeldOut()
    curves = {f"default ({DEFAULT_PRESET})": default_curve(held_out, args.every, args.limit),
              "course DCGAN (course loop)": course_curve(held_out, args.every, args.limit)}
    rows = []
    for name, curve in curves.items():
        reached = [first_reached(curve, level) for level in LEVELS]
        rows.append([name, *[f"{t:.0f}" if t is not None else "not reached" for t in reached],
                     f"{curve[-1][1]:.1f} at {curve[-1][0]:.0f} s"])
    (d_name, d_curve), (c_name, c_curve) = curves.items()
    ratios = []
    for level in LEVELS:
        d, c = first_reached(d_curve, level), first_reached(c_curve, level)
        ratios.append("-" if d is None else f"> {args.limit / d:.1f}x" if c is None
                      else f"{c / d:.1f}x")
    rows.append(["course / default", *ratios, ""])
    table = markdown_table(["model", *[f"s to FID {level:.0f}" for level in LEVELS], "last FID"],
                           rows)
    print(table)
    out = DOC.parent / "time-to-quality.png" if args.record else Path("time-to-quality.png")
    plot(curves, out)
    print(f"plot: {out}")
    if args.record:
        record("time-to-quality",
               f"### Time to quality (issue 13 item 2)\n\n`python benchmarks/time_to_quality.py "
               f"{' '.join(sys.argv[1:])}`\n\nMachine: {machine()}. Training CPU seconds (one "
               f"thread; evaluations not counted), FID of 10,000 samples against the MNIST "
               f"evaluator's 2,000 held-out digits, measured every {args.every:.0f} s; "
               f"'not reached' within {args.limit:.0f} s (the default stops at its own preset "
               f"length). Plot: docs/time-to-quality.png.\n\n{table}")


if __name__ == "__main__":
    main()
