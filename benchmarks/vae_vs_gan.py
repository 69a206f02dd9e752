"""VAE vs GAN at the same image budget: FID, IS, coverage, precision/recall and sharpness.

    python benchmarks/vae_vs_gan.py                          # MNIST: vae-mnist and dcgan-mnist
    python benchmarks/vae_vs_gan.py --data fashion           # vae-fashion and dcgan-fashion
    python benchmarks/vae_vs_gan.py --runs DIR --train-only vae-mnist   # train one, keep it

Each preset is trained for the same number of images (--kimg; the GAN preset's time limit is
lifted so it cannot stop early), then measured with `gankit.metrics.evaluate` on 10,000
samples: FID, IS, class coverage and precision/recall in the domain evaluator's feature
space, and sharpness (variance of the Laplacian) on the pixels, beside the real data's value.
With --runs, trained run directories are kept there and reused, so the two trainings can run
as separate processes and a last call measures both. The table is recorded in
docs/benchmarks.md.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from gankit.config import apply_overrides, load_preset
from gankit.metrics import evaluate
from gankit.training import run
from gankit.models.snapshot import SNAPSHOT_META, load_snapshot

sys.path.insert(0, str(Path(__file__).parent))
from record import machine, markdown_table, record  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
PRESETS = {"mnist": ("vae-mnist", "dcgan-mnist"), "fashion": ("vae-fashion", "dcgan-fashion")}
BATCH = 64


def train(preset: str, kimg: int, runs: Path) -> tuple[Path, float | None]:
    """Train `preset` for kimg thousand images into runs/preset, unless it is there already."""
    out = runs / preset
    steps = round(kimg * 1000 / BATCH)
    if (out / SNAPSHOT_META).is_file():  # kept from an earlier call: reuse it if it is finished
        if json.loads((out / SNAPSHOT_META).read_text())["step"] != steps:
            raise SystemExit(f"{out} holds an unfinished or different run: remove it")
        return out, None
    cfg = apply_overrides(load_preset(preset), [f"train.steps={steps}", f"train.batch_size={BATCH}",
                                                "train.time_limit=0", "train.threads=1",
                                                f"train.sample_every={steps}"])
    if cfg.data.name == "fashion":
        cfg.data.path = str(SHARED / "fashion-mnist-70k.npz")
    t0 = time.perf_counter()
    run.start(cfg, str(out))
    return out, time.perf_counter() - t0


def measure(run_dir: Path, label: str) -> list:
    G, meta = load_snapshot(run_dir)
    m = evaluate(G, meta, ["fid", "is", "pr", "coverage", "sharpness"])["metrics"]
    c = m["coverage"]
    return [label, f"{m['fid']:.1f}", f"{m['is']:.2f}", f"{c['covered']}/{c['n_classes']}",
            f"{m['precision']:.3f}", f"{m['recall']:.3f}",
            f"{m['sharpness']:.4f}", f"{m['sharpness_real']:.4f}"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", choices=sorted(PRESETS), default="mnist")
    p.add_argument("--kimg", type=int, default=96, help="images per model, thousands (default 96, "
                   "the default preset's budget)")
    p.add_argument("--runs", type=Path, help="keep (and reuse) the run directories here")
    p.add_argument("--train-only", metavar="PRESET", help="train this one preset and stop")
    p.add_argument("--record", action="store_true", help="write the table into docs/benchmarks.md")
    args = p.parse_args()
    tmp = None
    runs = args.runs
    if runs is None:
        tmp = tempfile.TemporaryDirectory()
        runs = Path(tmp.name)
    runs.mkdir(parents=True, exist_ok=True)
    if args.train_only:
        print(train(args.train_only, args.kimg, runs))
        return
    rows = [measure(train(preset, args.kimg, runs)[0], f"{preset} ({args.kimg} kimg)")
            for preset in PRESETS[args.data]]
    header = ["model", "FID", "IS", "classes", "precision", "recall", "sharpness",
              "real sharpness"]
    table = markdown_table(header, rows)
    print(table)
    if args.record:
        record(f"vae-vs-gan-{args.data}", f"""## VAE vs GAN (`python benchmarks/vae_vs_gan.py --data {args.data}`)

Machine: {machine()}. Each model trained on {args.kimg} thousand images (batch {BATCH}, one
thread), then 10,000 samples measured: FID, IS, coverage and precision/recall in the
{args.data} evaluator's feature space; sharpness = mean variance of the 3x3 Laplacian of each
sample on the [0, 1] scale, next to the same measure on the real data.

{table}""")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
