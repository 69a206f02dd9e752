"""Checkerboard benchmark: transposed-convolution vs resize-convolution up-sampling in G.

    python benchmarks/checkerboard.py                    # about 15 minutes on one thread
    python benchmarks/checkerboard.py --band 150 --record

The course's week-2 network (`dcgan-course`: G with transposed convolutions) is trained twice
from the same seed, once as the course draws it (`model.upsample=transposed`) and once with
nearest up-sampling + convolution (`resize`), and the two are compared at *matched training
progress*, so the measure shows the up-sampling and not how far training got:

  * untrained: each G as built (step 0), its pattern before any learning;
  * FID band: each run is measured every `--chunk` steps (FID of 10,000 samples against the
    MNIST evaluator's 2,000 held-out digits) and compared at the first point where its FID is
    at or below `--band`; runs are continued with `--resume`, bit-identically.

Each G is measured with the checkerboard measure (gankit.metrics.spectrum: power at the
stride-2 frequencies over the azimuthal average at the same radius, 1 = no peak) on the same
10,000 samples. The real data gives the reference row.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import torch

from gankit.config import apply_overrides, load_preset
from gankit.data import load_data
from gankit.generator import Generator
from gankit.metrics import spectrum
from gankit.models.snapshot import load_snapshot
from gankit.training import run

sys.path.insert(0, str(Path(__file__).parent))
from measure import HeldOut  # noqa: E402
from record import machine, markdown_table, record  # noqa: E402

HEADER = ["G up-sampling", "progress", "steps", "FID", "classes", "checkerboard", "period 2",
          "period 4"]

PRESET = "dcgan-course"  # the course's network and its minutes-long recipe; transposed as built


def measure(held_out: HeldOut, G, n: int) -> tuple[dict, list[str]]:
    """FID on the held-out digits and the checkerboard ratios of the same n samples."""
    fake = Generator(G, {"data_shape": [1, 28, 28]}).generate(n, seed=123)  # eval mode
    r = spectrum.checkerboard_ratios(fake)
    return held_out.measure_images(fake), [f"{max(r.values()):.2f}", f"{r[2]:.2f}", f"{r[4]:.2f}"]


def row(upsample: str, progress: str, steps: int, m: dict, ratios: list[str]) -> list[str]:
    return [f"`{upsample}`", progress, f"{steps:,}", f"{m['fid']:.1f}", f"{m['classes']}/10",
            *ratios]


def compare(upsample: str, held_out: HeldOut, args) -> list[list[str]]:
    cfg = apply_overrides(load_preset(PRESET), [
        f"model.upsample={upsample}", f"train.steps={args.chunk}", "train.time_limit=0",
        f"train.sample_every={args.chunk}", "train.report=false", "train.threads=1"])
    _, (G0, _, _) = run.prepare(cfg)                      # built and seeded as the run builds it
    rows = [row(upsample, "untrained", 0, *measure(held_out, G0, args.n))]
    with tempfile.TemporaryDirectory() as tmp:
        run_dir, _ = run.start(cfg, str(Path(tmp) / "run"))
        steps = args.chunk
        while True:
            m, ratios = measure(held_out, load_snapshot(run_dir)[0], args.n)
            print(f"  {upsample}: step {steps}: FID {m['fid']:.1f}, checkerboard {ratios[0]}",
                  flush=True)
            reached = m["fid"] <= args.band
            if reached or steps >= args.max_steps:
                progress = (f"first FID <= {args.band:g}" if reached
                            else f"band not reached by {args.max_steps:,} steps")
                rows.append(row(upsample, progress, steps, m, ratios))
                return rows
            steps += args.chunk
            run.resume(str(run_dir), [f"train.steps={steps}"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--band", type=float, default=100.0, help="the FID both runs must reach")
    ap.add_argument("--chunk", type=int, default=250, help="steps between measurements")
    ap.add_argument("--max-steps", type=int, default=6000, help="give up on the band after this")
    ap.add_argument("--n", type=int, default=10_000, help="generated images measured")
    ap.add_argument("--record", action="store_true", help="write the table into docs/benchmarks.md")
    args = ap.parse_args()
    torch.set_num_threads(1)
    held_out = HeldOut()
    rows = [r for upsample in ("transposed", "resize") for r in compare(upsample, held_out, args)]
    real = load_data("mnist").images[:args.n]
    r = spectrum.checkerboard_ratios(real)
    rows.append(["real data (bundled MNIST)", "", "", "", "10/10", f"{max(r.values()):.2f}",
                 f"{r[2]:.2f}", f"{r[4]:.2f}"])
    table = markdown_table(HEADER, rows)
    print(table)
    if args.record:
        record("checkerboard",
               "## Checkerboard artifacts (`python benchmarks/checkerboard.py "
               f"{' '.join(sys.argv[1:])}`)\n\n"
               f"Machine: {machine()}. The course's week-2 network (`{PRESET}`) trained from "
               "one seed with each G up-sampling, compared untrained and at matched progress: "
               f"the first measurement (every {args.chunk} steps) at which FID, 10,000 samples "
               f"against the evaluator's held-out digits, is at most {args.band:g}. "
               "`checkerboard` is the largest ratio of spectral power at the stride-2 "
               "frequencies (periods 2 and 4 pixels: the patterns a stride-2 layer leaves) to "
               "the azimuthal average of the power at the same radius, on the same 10,000 "
               "samples; 1 means no peak (`gankit eval --metrics checkerboard`).\n\n" + table)


if __name__ == "__main__":
    main()
