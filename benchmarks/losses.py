"""Loss and stabiliser benchmark: one change at a time from a base recipe, at a fixed image budget.

    python benchmarks/losses.py                              # every group (about an hour, 1 thread)
    python benchmarks/losses.py --only toy-ring,mnist --kimg 16 --toy-kimg 384

Groups and their base recipes:
- mnist, fashion: the `dcgan-mnist` / `dcgan-fashion` presets (BCE, EMA of G); each row
  changes one thing (a loss, or a stabiliser added) and trains for --kimg thousand real images;
- toy-ring, toy-grid: the `toy-*-plain` presets (BCE, no R1, no EMA), where a plain GAN
  collapses; each row adds one loss or stabiliser and trains for --toy-kimg thousand points.
The budget counts real samples D sees (batch * d_steps per G step), so a d_steps 5 run makes a
fifth of the G steps. Every row is recorded in docs/benchmarks.md as soon as it is measured.
"""

import argparse
import sys
from pathlib import Path

from gankit.config import apply_overrides, load_preset

sys.path.insert(0, str(Path(__file__).parent))
from measure import train_and_measure  # noqa: E402
from record import machine, markdown_table, record  # noqa: E402

FASHION = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist-70k.npz"
NO_BN = "model.d_bn=false"
WGAN = ["loss.d_loss=wgan-gp", NO_BN, "train.d_steps=5"]
SN = [NO_BN, "model.d_spectral_norm=true"]


def image_rows(kimg: int) -> list[tuple[str, list[str]]]:
    return [
        ("BCE (the preset)", []),
        ("hinge", ["loss.d_loss=hinge"]),
        ("least squares", ["loss.d_loss=least-squares"]),
        ("WGAN-GP (λ 10, d_steps 5, critic without BatchNorm)", WGAN),
        ("hinge + spectral norm, D without BatchNorm (SNGAN)", ["loss.d_loss=hinge", *SN]),
        ("BCE + spectral norm, D without BatchNorm", SN),
        ("BCE + R1 (γ 1)", ["loss.r1_gamma=1"]),
        (f"BCE + instance noise (σ 0.2 → 0 over {kimg} kimg)",
         ["loss.instance_noise=0.2", f"loss.noise_kimg={kimg}"]),
        ("BCE + one-sided label smoothing 0.1", ["loss.label_smoothing=0.1"]),
        ("BCE + DiffAugment (color, translation, cutout)",
         ["train.diffaugment=color,translation,cutout"]),
        ("BCE + TTUR (lr_d 4e-4, lr_g 1e-4)", ["optim.lr_d=4e-4", "optim.lr_g=1e-4"]),
        ("BCE without the EMA of G", ["train.ema_decay=0"]),
    ]


def toy_rows(kimg: int, r1_gamma: float) -> list[tuple[str, list[str]]]:
    return [
        ("plain BCE (the -plain preset)", []),
        ("hinge", ["loss.d_loss=hinge"]),
        ("least squares", ["loss.d_loss=least-squares"]),
        ("WGAN-GP (λ 0.1, d_steps 5, Adam β2 0.9: the -wgan-gp preset)",
         ["loss.d_loss=wgan-gp", "loss.gp_lambda=0.1", "train.d_steps=5", "optim.beta2=0.9"]),
        ("hinge + spectral norm", ["loss.d_loss=hinge", "model.d_spectral_norm=true"]),
        ("BCE + spectral norm", ["model.d_spectral_norm=true"]),
        (f"BCE + R1 (γ {r1_gamma})", [f"loss.r1_gamma={r1_gamma}"]),
        (f"BCE + instance noise (σ 0.5 → 0 over {kimg} kimg)",
         ["loss.instance_noise=0.5", f"loss.noise_kimg={kimg}"]),
        ("BCE + one-sided label smoothing 0.1", ["loss.label_smoothing=0.1"]),
        ("BCE + TTUR (lr_d 4e-3, lr_g 1e-3)", ["optim.lr_d=4e-3", "optim.lr_g=1e-3"]),
        ("BCE + EMA of G (0.999)", ["train.ema_decay=0.999"]),
        ("BCE + R1 + EMA (the toy-* preset's recipe)",
         [f"loss.r1_gamma={r1_gamma}", "train.ema_decay=0.999"]),
    ]


GROUPS = {  # name -> (base preset, rows(kimg), image data?)
    "mnist": ("dcgan-mnist", image_rows, True),
    "fashion": ("dcgan-fashion", image_rows, True),
    "toy-ring": ("toy-ring-plain", lambda k: toy_rows(k, 0.1), False),
    "toy-grid": ("toy-grid-plain", lambda k: toy_rows(k, 0.05), False),
}
IMAGE_HEADER = ["change from the base", "kimg", "G steps", "wall s", "FID", "KID", "precision",
                "recall", "classes"]
TOY_HEADER = ["change from the base", "kimg", "G steps", "wall s", "modes", "high-quality %"]


def train_and_count(preset: str, overrides: list[str], kimg: int) -> tuple[int, float, dict]:
    """(G steps for kimg thousand real samples, wall seconds, the registry's metrics)."""
    cfg = apply_overrides(load_preset(preset), overrides)
    steps = max(1, kimg * 1000 // (cfg.train.batch_size * cfg.train.d_steps))
    more = [f"train.steps={steps}", f"train.sample_every={steps}", f"train.ckpt_every={steps}",
            "train.time_limit=0", "train.threads=1", "train.eval_every=0"]
    if cfg.data.name == "fashion":
        more.append(f"data.path={FASHION}")
    toy = cfg.data.name.startswith("toy")
    r = train_and_measure(preset, overrides + more,
                          ["modes"] if toy else ["fid", "kid", "pr", "coverage"])
    return steps, r.wall, r.metrics


def row(label: str, kimg: int, steps: int, wall: float, m: dict) -> list:
    if "modes" in m:
        mm = m["modes"]
        return [label, kimg, steps, f"{wall:.0f}", f"{mm['modes_covered']}/{mm['n_modes']}",
                f"{mm['high_quality_pct']:.1f}"]
    c = m["coverage"]
    return [label, kimg, steps, f"{wall:.0f}", f"{m['fid']:.1f}",
            f"{m['kid']:.3g} ± {m['kid_std']:.2g}", f"{m['precision']:.3f}",
            f"{m['recall']:.3f}", f"{c['covered']}/{c['n_classes']}"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(GROUPS)}")
    ap.add_argument("--kimg", type=int, default=16, help="real images per image run (k)")
    ap.add_argument("--toy-kimg", type=int, default=384, help="real points per toy run (k)")
    ap.add_argument("--rows", default="", help="comma-separated row numbers (0-based) to run")
    ap.add_argument("--record", action="store_true", help="write the table into docs/benchmarks.md")
    args = ap.parse_args()
    groups = [g for g in args.only.split(",") if g] or list(GROUPS)
    pick = {int(i) for i in args.rows.split(",") if i}
    for group in groups:
        preset, make_rows, image = GROUPS[group]
        kimg = args.kimg if image else args.toy_kimg
        table = []
        for i, (label, overrides) in enumerate(make_rows(kimg)):
            if pick and i not in pick:
                continue
            steps, wall, m = train_and_count(preset, overrides, kimg)
            table.append(row(label, kimg, steps, wall, m))
            print(table[-1], flush=True)
            text = markdown_table(IMAGE_HEADER if image else TOY_HEADER, table)
            if args.record:
                what = ("FID, KID, precision/recall in the domain evaluator's feature space, "
                        "10,000 generated images against 10,000 real" if image else
                        "modes covered and high-quality share of 2,500 generated points")
                command = (f"python benchmarks/losses.py --only {group} "
                           f"--{'kimg' if image else 'toy-kimg'} {kimg}"
                           + (f" --rows {args.rows}" if args.rows else ""))
                # A subset of rows gets its own section, so runs side by side never clash.
                record(f"losses-{group}" + (f"-rows-{args.rows.replace(',', '-')}"
                                            if args.rows else ""),
                       f"## Losses and stabilisers: {group} (`{command}`)\n\nBase: `{preset}`; every run {kimg} kimg (real "
                       f"{'images' if image else 'points'} shown to D), one thread. "
                       f"Machine: {machine()}. Metrics: {what}.\n\n{text}")


if __name__ == "__main__":
    main()
