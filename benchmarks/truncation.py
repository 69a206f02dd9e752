"""Truncation: what psi does to the shipped generators' samples, norm kept or raw.

    python benchmarks/truncation.py [--n 5000] [--psi 0,0.25,0.5,0.75,1,1.5,inf] [--record]

For each shipped image generator and each psi, N samples (seed 123, as `gankit eval`) are drawn
with z truncated the default way (`gankit.generator.truncate`: per coordinate to [-psi, psi],
then scaled back to the seed's own norm) and BigGAN's raw way (`keep_norm=False`, what
`explore truncation --to-zero` draws), and measured as `gankit eval` measures: FID,
precision and recall in the data set's evaluator's feature space against its held-out split,
classes covered, and for a conditional G the share drawn as the class asked for. With
--record the table goes into docs/benchmarks.md and each generator's truncation sheet (as
`explore truncation` draws it: both forms side by side, a row per psi with its measured
precision and recall under it) into docs/truncation-NAME.png.
"""

import argparse
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import DOC, machine, markdown_table, record  # noqa: E402

from gankit import pretrained  # noqa: E402
from gankit.explore import pictures  # noqa: E402
from gankit.generator import Generator, load  # noqa: E402
from gankit.metrics import evaluate  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FASHION = SHARED / "fashion-mnist-70k.npz"
EMOJI = SHARED / "emoji-64"  # emoji-cdcgan's folder: its evaluator and held-out split come from it
HEADER = ["generator", "psi", "FID", "precision", "recall", "classes", "class acc.",
          "FID raw", "precision raw", "recall raw", "classes raw", "class acc. raw"]


def measure(g: Generator, psi: float, keep_norm: bool, n: int) -> dict:
    """`gankit eval`'s default metrics of `g` with every z truncated at psi (`evaluate` draws
    through `g.noise`, which `truncated_noise` wraps for the block)."""
    with pictures.truncated_noise(g, psi, keep_norm):
        metrics = ["fid", "pr", "coverage"] + (["class_acc"] if g.n_classes else [])
        return evaluate(g, None, metrics, n=n)["metrics"]


def cells(m: dict) -> list:
    acc = m.get("class_acc", {}).get("overall")
    return [f"{m['fid']:.1f}", f"{m['precision']:.2f}", f"{m['recall']:.2f}",
            f"{m['coverage']['covered']}/{m['coverage']['n_classes']}",
            "" if acc is None else f"{acc:.1%}"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=5000, help="samples per measurement")
    p.add_argument("--psi", default="0,0.25,0.5,0.75,1,1.5,inf")
    p.add_argument("--only", help="comma list of shipped generators (default: every image one)")
    p.add_argument("--fashion", default=str(FASHION), help="fashion-mnist-70k.npz")
    p.add_argument("--emoji", default=str(EMOJI), help="the emoji-64 folder")
    p.add_argument("--record", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    psis = [float(v) for v in args.psi.split(",")]
    names = args.only.split(",") if args.only else pretrained.names()
    rows, drawn = [], []
    for name in names:
        g = load(None, name)
        if g.is_video:
            continue
        if g.card["data"]["name"] == "fashion":  # its card names the file, not where it is here
            g.card["data"]["path"] = args.fashion
        if g.card["data"]["name"] == "folder":  # as `gankit eval --data FOLDER`
            g.card["data"]["path"] = args.emoji
        drawn.append(name)
        measures = {}
        for psi in psis:
            kept, raw = (measure(g, psi, keep, args.n) for keep in (True, False))
            measures["sphere", psi], measures["zero", psi] = kept, raw
            rows.append([f"`{name}`", "inf" if math.isinf(psi) else f"{psi:g}",
                         *cells(kept), *cells(raw)])
            print(" | ".join(rows[-1]), flush=True)
        if args.record:
            y = 3 if g.n_classes else None  # one class per grid: the row is the seed's change
            # `explore truncation`'s sheet: both forms, each row's precision and recall under it
            sheet = pictures.truncation_sheet(g, psis, list(range(8)), y, measures=measures)
            print(f"wrote {pictures.write_picture(sheet, DOC.parent / f'truncation-{name}.png')}")
    table = markdown_table(HEADER, rows)
    print(table)
    if args.record:
        record("truncation", (
            f"## Truncation (`python benchmarks/truncation.py --n {args.n} --record`)\n\n"
            f"Machine: {machine()}. {args.n:,} samples (seed 123) per cell, each z truncated at "
            "psi per coordinate and then scaled back to its own norm (the default), or left inside "
            "[-psi, psi]^d (raw, BigGAN's, `explore truncation --to-zero`); FID, precision and "
            "recall in the data set's evaluator's feature space against its held-out split; "
            "class acc.: the share drawn as the class asked for (conditional G). Grids: "
            + ", ".join(f"[{n}](truncation-{n}.png)" for n in drawn) + " (class 3 for a "
            "conditional G; both forms side by side, as `explore truncation` draws them, with each "
            "row's precision and recall under it).\n\n" + table))


if __name__ == "__main__":
    main()
