"""Does `explore control`'s verdict agree with a person's eye? Judges measured on eye labels.

    python benchmarks/control_agreement.py --sheets DIR      # draw the numbered contact sheets
    python benchmarks/control_agreement.py [--record]        # score the judges on the labels

For a few targets, the same seeded start points (seeds 0..N-1) of the shipped `mnist-dcgan` are
steered the way `explore control` steered them before (with the MNIST evaluator) and the way
it steers now (`control.steering_classifier`), and each "after" image is drawn, numbered, on a
contact sheet (one per steering, a row per target). A person labelled every image by eye
(benchmarks/control_labels.json: the digit seen, or "none"); the table says, for each steering
and each judge, how often the judge's "yes, the target" agrees with the eye's, how many it
accepted that the eye did not see as the target, and the success rate it would print beside
the one the eye gives. Images the labels lack are named, not guessed.
"""

import argparse
import json
import sys
from pathlib import Path

import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import machine, markdown_table, record  # noqa: E402

from gankit.explore import control  # noqa: E402
from gankit.generator import load  # noqa: E402
from gankit.metrics.evaluator import load_evaluator  # noqa: E402
from gankit.viz import font, grid_image  # noqa: E402

LABELS = Path(__file__).resolve().parent / "control_labels.json"
DOCS = Path(__file__).resolve().parents[1] / "docs"


def steerings(g) -> dict:
    """name -> the classifier each steering follows: before this benchmark, and now."""
    return {"evaluator": load_evaluator("mnist"),
            "robust": control.steering_classifier(g)}


def judges(g) -> dict:
    """name -> a judge (images -> class, or -1 for no verdict) as `control.judge` takes it."""
    return {"judge (before)": control.Judge([load_evaluator("mnist", role="judge")], 0.0),
            "robust": control.Judge([control.robust_for(g)], 0.0),
            "control's judge (now)": control.judge_for(g)}


def contact_sheet(rows: list[torch.Tensor], names: list[str], title: str) -> Image.Image:
    """Rows of (N, 1, 28, 28) images, each drawn 4x under its number (row r, column c: r.c)."""
    cells = []
    for r, images in enumerate(rows):
        for c, x in enumerate(images):
            pic = grid_image(x[None], nrow=1, scale=4, padding=0).convert("RGB")
            cell = Image.new("RGB", (pic.width + 8, pic.height + 22), "white")
            cell.paste(pic, (4, 20))
            ImageDraw.Draw(cell).text((cell.width / 2, 10), f"{r}.{c}", fill="black",
                                      font=font(), anchor="mm")
            cells.append(cell)
    n = len(rows[0])
    w, h = cells[0].size
    left = 90
    sheet = Image.new("RGB", (left + n * w, 30 + len(rows) * h), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((8, 15), title, fill="black", font=font(), anchor="lm")
    for i, cell in enumerate(cells):
        sheet.paste(cell, (left + (i % n) * w, 30 + (i // n) * h))
    for r, name in enumerate(names):
        draw.text((8, 30 + r * h + h / 2), name, fill="black", font=font(), anchor="lm")
    return sheet


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pretrained", default="mnist-dcgan")
    p.add_argument("--targets", default="7,1,3,8")
    p.add_argument("--n", type=int, default=16, help="start points per target (seeds 0..n-1)")
    p.add_argument("--labels", default=str(LABELS))
    p.add_argument("--sheets", help="folder to draw the numbered contact sheets into")
    p.add_argument("--record", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    g = load(None, args.pretrained)
    targets = [int(t) for t in args.targets.split(",")]
    z0 = control.start_noise(g, args.n, 0)
    after = {}  # steering -> target -> (n, 1, 28, 28)
    for name, net in steerings(g).items():
        after[name] = {k: control.steer(g, net, z0, k).after for k in targets}
        if args.sheets:
            out = Path(args.sheets) / f"control-{name}.png"
            contact_sheet([after[name][k] for k in targets], [f"to {k}" for k in targets],
                          f"after steering with the {name} classifier (row.column)").save(out)
            print(f"wrote {out}")
    labels = json.loads(Path(args.labels).read_text())["labels"] if Path(args.labels).is_file() else {}
    rows, missing = [], []
    for steering, by_target in after.items():
        keys = [(k, r, c) for r, k in enumerate(targets) for c in range(args.n)]
        eye = {key: labels.get(f"{steering}/{key[1]}.{key[2]}") for key in keys}
        missing += [f"{steering}/{r}.{c}" for (k, r, c), v in eye.items() if v is None]
        if any(v is None for v in eye.values()):
            continue
        seen = torch.tensor([eye[key] == str(key[0]) for key in keys])       # (T*n,) by eye
        for judge_name, judge in judges(g).items():
            said = torch.cat([judge(by_target[k]) == k for k in targets])     # (T*n,)
            rows.append([steering, judge_name, f"{seen.float().mean():.0%}",
                         f"{said.float().mean():.0%}", f"{(said == seen).float().mean():.0%}",
                         f"{(said & ~seen).sum().item()} of {said.sum().item()}",
                         f"{(~said & seen).sum().item()} of {seen.sum().item()}"])
            print(*rows[-1], sep="\t", flush=True)
    if missing:
        print(f"{len(missing)} images have no eye label in {args.labels} (first: "
              f"{', '.join(missing[:5])}): draw the sheets with --sheets DIR and label them")
    table = markdown_table(["steered with", "judge", "target by eye", "judge accepts",
                            "judge agrees with eye", "accepted, not the target by eye",
                            "target by eye, refused"], rows)
    print(table)
    cell = {(r[0], r[1]): r for r in rows}
    verdict = ""
    if ("evaluator", "judge (before)") in cell and ("robust", "control's judge (now)") in cell:
        old, new = cell["evaluator", "judge (before)"], cell["robust", "control's judge (now)"]
        verdict = (f"Before (steered with the evaluator, judged by the judge network alone): the "
                   f"judge agreed with the eye on {old[4]} of the images and accepted {old[5]} "
                   f"that the eye did not see as the target. Now (steered with the robust "
                   f"classifier, judged by all three at probability 0.9 or more): {new[4]}, and "
                   f"{new[5]}; it prints a success rate of {new[3]} where the eye sees {new[2]}.")
        print(verdict)
    if args.record and rows:
        record("control_agreement", f"""## Control: does the judge agree with the eye? (`benchmarks/control_agreement.py`)

`python benchmarks/control_agreement.py --record`: `{args.pretrained}`, {args.n} start points
(seeds 0..{args.n - 1}) steered toward each of {', '.join(map(str, targets))} with `explore control`'s
defaults, once with the MNIST evaluator (what `explore control` steered with before) and once with
the classifier it steers with now; every "after" image labelled by eye from the numbered contact
sheets (`--sheets DIR`; labels and how they were made: `benchmarks/control_labels.json`). "judge
agrees with eye": the share of images where the judge's yes/no (is it the target?) is the eye's;
the next two columns count its false yeses and false noes. Judges: "judge (before)", the judge
network's argmax (what `explore control` judged with before); "robust", the shipped adversarially
trained classifier's argmax; "control's judge (now)", `control.judge_for`: the judge network, the
robust classifier and the evaluator must all name the target, each with probability 0.9 or more.
Machine: {machine()}.

{table}

{verdict} One labeller, {args.n * len(targets)} images per steering: a difference of a
few percent is within what another labeller might change.""")


if __name__ == "__main__":
    main()
