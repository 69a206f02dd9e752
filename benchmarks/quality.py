"""Quality benchmark: train presets on the CPU for a fixed image budget, then measure them.

    python benchmarks/quality.py                      # everything (about an hour on 2 cores)
    python benchmarks/quality.py --only toy-ring,toy-grid
    python benchmarks/quality.py --only default-vs-course

Rows:
- each preset trained for --kimg thousand real images (toys: --toy-kimg), measured with
  `gankit.metrics.evaluate` (10,000 samples for images, 2,500 for toys);
- the default preset and the course's week-2 DCGAN (`dcgan-course`), each trained for the same
  wall time (--seconds), as the issue's target compares them;
- a real-vs-real floor for each data set: two disjoint halves of the real data.
The table is printed and recorded in docs/benchmarks.md.
"""

import argparse
import sys
from pathlib import Path

import torch

from gankit.config import DEFAULT_PRESET, load_preset
from gankit.data import load_data
from gankit.metrics import image
from gankit.metrics.evaluator import featurize, load_evaluator

sys.path.insert(0, str(Path(__file__).parent))
from measure import train_and_measure  # noqa: E402
from record import machine, markdown_table, record  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DATA_PATHS = {"dcgan-fashion": SHARED / "fashion-mnist-70k.npz"}
HEADER = ["run", "data", "budget", "wall s", "FID", "KID", "IS", "precision", "recall",
          "classes", "modes", "high-quality %"]


def quality_row(preset: str, overrides: list[str], label: str, budget: str) -> list:
    if preset in DATA_PATHS:
        overrides = [*overrides, f"data.path={DATA_PATHS[preset]}"]
    toy = load_preset(preset).data.name.startswith("toy")
    r = train_and_measure(preset, overrides, ["modes"] if toy else
                          ["fid", "kid", "is", "pr", "coverage"])
    m, data = r.metrics, r.generator.card["data"]["name"]
    if toy:
        mm = m["modes"]
        return [label, data, budget, f"{r.wall:.0f}", "", "", "", "", "", "",
                f"{mm['modes_covered']}/{mm['n_modes']}", f"{mm['high_quality_pct']:.1f}"]
    c = m["coverage"]
    return [label, data, budget, f"{r.wall:.0f}", f"{m['fid']:.2f}",
            f"{m['kid']:.4g} ± {m['kid_std']:.2g}", f"{m['is']:.2f}",
            f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{c['covered']}/{c['n_classes']}",
            "", ""]


def floor_row(dataset: str, path: str) -> list:
    """Real vs real: the best a generator could score, two disjoint halves of up to 20k images."""
    data = load_data(dataset, path or None)
    perm = torch.randperm(len(data.images), generator=torch.Generator().manual_seed(0))
    half = min(len(perm) // 2, 10_000)
    ev = load_evaluator(dataset)
    fa, la = featurize(ev, data.images[perm[:half]])
    fb, _ = featurize(ev, data.images[perm[half:2 * half]])
    kid, kid_std = image.kid(fa, fb)
    p, r = image.precision_recall(fa, fb)
    c = image.class_coverage(la)
    return [f"real vs real ({half} vs {half})", dataset, "", "", f"{image.fid(fa, fb):.2f}",
            f"{kid:.4g} ± {kid_std:.2g}", f"{image.inception_score(la)[0]:.2f}",
            f"{p:.3f}", f"{r:.3f}", f"{c['covered']}/{c['n_classes']}", "", ""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kimg", type=int, default=64, help="image budget per image preset (k)")
    ap.add_argument("--toy-kimg", type=int, default=0,
                    help="point budget per toy preset (k); 0: the preset's own")
    ap.add_argument("--seconds", type=float, default=270.0,
                    help="wall time for the default-vs-course comparison")
    # --toy-kimg 0: each toy preset's own steps (their recipes are tuned to those).
    ap.add_argument("--only", default="", help="comma-separated subset of: default-vs-course, "
                    "mlp-mnist, dcgan-mnist, dcgan-fashion, toy-ring, toy-grid, floors")
    ap.add_argument("--threads", type=int, default=0,
                    help="train.threads for the per-preset rows (0: each preset's own)")
    ap.add_argument("--record", action="store_true", help="write the table into docs/benchmarks.md")
    args = ap.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    only = set(filter(None, args.only.split(",")))
    want = lambda name: not only or name in only  # noqa: E731
    rows = []

    if want("default-vs-course"):
        for preset in (DEFAULT_PRESET, "dcgan-course"):
            over = ["train.steps=1000000", f"train.time_limit={args.seconds}",
                    "train.sample_every=1000000"]
            label = f"{preset} ({args.seconds:.0f} s)" + (" (default)" if preset == DEFAULT_PRESET else "")
            rows.append(quality_row(preset, over, label, f"{args.seconds:.0f} s"))
            print(rows[-1], flush=True)
    for preset in ("mlp-mnist", "dcgan-mnist", "dcgan-fashion", "toy-ring", "toy-grid"):
        if not want(preset):
            continue
        cfg = load_preset(preset)
        kimg = args.toy_kimg if preset.startswith("toy") else args.kimg
        if not kimg:
            kimg = cfg.train.steps * cfg.train.batch_size * cfg.train.d_steps // 1000
        steps = max(1, kimg * 1000 // (cfg.train.batch_size * cfg.train.d_steps))
        over = [f"train.steps={steps}", f"train.sample_every={steps}"]
        if args.threads:
            over.append(f"train.threads={args.threads}")
        rows.append(quality_row(preset, over, preset, f"{kimg} kimg"))
        print(rows[-1], flush=True)
    if want("floors"):
        rows.append(floor_row("mnist", ""))
        rows.append(floor_row("fashion", str(SHARED / "fashion-mnist-70k.npz")))
        print(rows[-2:], flush=True)

    table = markdown_table(HEADER, rows)
    print(table)
    if args.record:
        record(f"quality{'-' + '-'.join(sorted(only)) if only else ''}",
               f"## Quality (`python benchmarks/quality.py{' --only ' + args.only if only else ''}`)\n\n"
               f"Machine: {machine()}. Metrics in the domain evaluator's feature space; "
               f"10,000 generated images (toys: 2,500 points) against up to 10,000 real.\n\n{table}")


if __name__ == "__main__":
    main()
