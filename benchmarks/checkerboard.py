"""Checkerboard benchmark: transposed-convolution vs resize-convolution up-sampling in G.

    python benchmarks/checkerboard.py              # 32 kimg each, about 10 minutes on 2 cores
    python benchmarks/checkerboard.py --kimg 8

The DCGAN-28 preset (dcgan-mnist) is trained twice on the same image budget and seed, once with
`model.upsample=transposed` and once with `resize` (nearest up-sampling + convolution); each is
measured with the checkerboard measure (gankit.metrics.spectrum: power at the stride-2
frequencies over the azimuthal average there, 1 = no peak) and FID/coverage on 10,000 samples.
The real data gives the reference row. The table is printed and recorded in docs/benchmarks.md.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import torch

from gankit.config import apply_overrides, load_preset
from gankit.data import load_data
from gankit.metrics import evaluate, spectrum
from gankit.generator import Generator
from gankit.train import run
from gankit.models.snapshot import load_snapshot

sys.path.insert(0, str(Path(__file__).parent))
from record import machine, markdown_table, record  # noqa: E402

HEADER = ["G up-sampling", "budget", "checkerboard", "period 2", "period 4", "FID", "classes"]

PRESET = "dcgan-mnist"  # the DCGAN-28 with resize up-sampling: the MLP default has no up-sampling


def fmt_ratios(images: torch.Tensor) -> list[str]:
    r = spectrum.checkerboard_ratios(images)
    return [f"{max(r.values()):.2f}", f"{r[2]:.2f}", f"{r[4]:.2f}"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kimg", type=int, default=32, help="real images seen per run, thousands")
    ap.add_argument("--n", type=int, default=10_000, help="generated images measured")
    ap.add_argument("--record", action="store_true", help="write the table into docs/benchmarks.md")
    args = ap.parse_args()
    rows = []
    for upsample in ("transposed", "resize"):
        cfg = load_preset(PRESET)
        steps = args.kimg * 1000 // cfg.train.batch_size
        cfg = apply_overrides(cfg, [f"model.upsample={upsample}", f"train.steps={steps}",
                                    "train.time_limit=0", f"train.sample_every={steps}",
                                    "train.report=false"])
        with tempfile.TemporaryDirectory() as tmp:
            run_dir, _ = run.start(cfg, str(Path(tmp) / "run"))
            G, meta = load_snapshot(run_dir)
        m = evaluate(G, meta, ["fid", "coverage"], n=args.n)["metrics"]
        fake = Generator(G, meta).generate(args.n, seed=123)      # the images evaluate() measured
        rows.append([f"`{upsample}`", f"{args.kimg} kimg", *fmt_ratios(fake), f"{m['fid']:.1f}",
                     f"{m['coverage']['covered']}/10"])
        print(rows[-1], flush=True)
    real = load_data("mnist").images
    rows.append(["real data (bundled MNIST, 10,000)", "", *fmt_ratios(real), "", "10/10"])
    table = markdown_table(HEADER, rows)
    print(table)
    if args.record:
        record("checkerboard",
               "## Checkerboard artifacts (`python benchmarks/checkerboard.py`)\n\n"
               f"Machine: {machine()}. The `{PRESET}` preset trained on "
               f"{args.kimg} kimg with each G up-sampling, same seed; {args.n:,} samples "
               "each. `checkerboard` is the largest ratio of spectral power at the stride-2 "
               "frequencies (periods 2 and 4 pixels: the patterns a stride-2 layer leaves) to "
               "the azimuthal average of the power at the same radius; 1 means no peak "
               "(`gankit eval --metrics checkerboard`).\n\n" + table)


if __name__ == "__main__":
    main()
