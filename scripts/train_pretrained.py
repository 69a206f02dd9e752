"""Train the generators shipped in `src/gankit/pretrained/`, measure them, write their cards.

    python scripts/train_pretrained.py mnist-dcgan
    python scripts/train_pretrained.py fashion-cdcgan --fashion /path/fashion-mnist-70k.npz
    python scripts/train_pretrained.py emoji-cdcgan --emoji /path/emoji-64
    python scripts/train_pretrained.py mnist-cdcgan --card-only runs/pretrained/mnist-cdcgan
    python scripts/train_pretrained.py --tables-only

Each name is a preset plus overrides, trained on one CPU thread for at most `--seconds`
(and `--steps` generator steps) by `gankit.training.run`, exactly as `gankit train` would. The
card step measures the run's snapshot with `gankit.metrics.evaluate` (FID, KID, IS,
precision/recall, coverage; for a conditional G also the evaluator's accuracy on class-k
samples), then copies the weights into the package as NAME.safetensors and writes NAME.json
(the snapshot card plus a `card` entry: how it was trained, and those metrics), both with
`gankit.artifacts.save`, so the card records the weights' sha256. A generator trained on
data with a licence of its own carries its attribution in the card (`card["attribution"]`),
and the tables step prints it under the table.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gankit import artifacts, rundir  # noqa: E402
from gankit.config import apply_overrides, load_preset  # noqa: E402
from gankit.errors import GankitError  # noqa: E402
from gankit.metrics import default_metrics, evaluate  # noqa: E402
from gankit.models.snapshot import load_snapshot  # noqa: E402
from gankit.training import checkpoint as ckpt  # noqa: E402
from gankit.training import run  # noqa: E402

PACKAGE_DIR = ROOT / "src" / "gankit" / "pretrained"
DEFAULT_FASHION = ROOT.parent / "shared" / "data" / "fashion-mnist-70k.npz"
DEFAULT_EMOJI = ROOT.parent / "shared" / "data" / "emoji-64"

# name -> (preset, overrides beyond the common ones, what it is)
RECIPES = {
    "mnist-dcgan": ("dcgan-mnist", [], "DCGAN-28 on MNIST (unconditional)"),
    "mnist-cdcgan": ("cdcgan-mnist", [], "conditional DCGAN-28 on MNIST, digits 0-9"),
    "fashion-cdcgan": ("cdcgan-fashion", ["data.path={fashion}"],
                       "conditional DCGAN-28 on Fashion-MNIST, 10 clothing classes"),
    "moving-mnist-tgan": ("tgan-moving-mnist-small", [],
                          "TGAN-style G on Moving MNIST, mnist-cdcgan's digits bounced: 16 frames of 32x32"),
    "emoji-cdcgan": ("cdcgan32-folder", ["data.path={emoji}"],
                     "conditional DCGAN-32 on emoji-64, 9 emoji categories, colour"),
}

# Weights trained on images whose licence asks for it ship with the images' attribution beside
# them: in the card, and under the tables (the emoji-64 section of the shared data's README).
ATTRIBUTION = {
    "emoji-cdcgan": (
        "Trained on emoji-64: emoji images from the npm packages emoji-datasource-google and "
        "emoji-datasource-twitter 16.0.0 (packaging: emoji-datasource, MIT licence). Noto "
        "Emoji: Apache License 2.0, Google. Twemoji graphics: CC-BY 4.0, Twitter, Inc and "
        "other contributors (https://creativecommons.org/licenses/by/4.0/)."),
}


def git_commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def train(name: str, out: Path, steps: int, seconds: float, paths: dict) -> list[str]:
    """`paths`: the data files the recipes name, {"fashion": ..., "emoji": ...}."""
    preset, extra, _ = RECIPES[name]
    overrides = [o.format(**paths) for o in extra] + [
        "train.threads=1", "train.ckpt_every=500", f"train.steps={steps}",
        f"train.time_limit={seconds}", "train.device=cpu"]
    commit = git_commit()  # the code that trains: read before training, not after it
    if (out / ckpt.STATE).is_file():  # continue an interrupted run, bit-identically
        run.resume(str(out), overrides[-3:-1])
    else:
        run.start(apply_overrides(load_preset(preset), overrides), str(out))
    (out / "pretrained-recipe.json").write_text(json.dumps(
        {"name": name, "preset": preset, "overrides": overrides, "commit": commit}) + "\n")
    return overrides


def without_path(value, prefix: str):
    """`value` (JSON-like) with `prefix` cut out of every string: a data file by its name only."""
    if isinstance(value, dict):
        return {k: without_path(v, prefix) for k, v in value.items()}
    if isinstance(value, list):
        return [without_path(v, prefix) for v in value]
    return value.replace(prefix, "") if isinstance(value, str) else value


def real_data(name: str, trained_on: str, paths: dict | None) -> str:
    """Where the real data to measure against is: where the run trained, or where this
    machine keeps it (the recipe's --fashion / --emoji), for a run trained elsewhere."""
    if not trained_on or Path(trained_on).exists():
        return trained_on
    keys = [k for k in paths or {} if any("{" + k + "}" in o for o in RECIPES[name][1])]
    return paths[keys[0]] if keys else trained_on


def read_recipe(name: str, run_dir: Path) -> dict:
    """How the run was trained: pretrained-recipe.json where `train` above trained it; for a
    run of `gankit train`, its preset and the values its config.json changes from it."""
    path = run_dir / "pretrained-recipe.json"
    if path.is_file():
        return json.loads(path.read_text())
    cfg = json.loads((run_dir / rundir.CONFIG).read_text())
    preset = load_preset(cfg["preset"]).to_dict()
    overrides = [f"{section}.{key}={json.dumps(value) if not isinstance(value, str) else value}"
                 for section, values in preset.items() if isinstance(values, dict)
                 for key, value in cfg.get(section, {}).items() if values.get(key) != value]
    print(f"note: {run_dir} was not trained by this script: the card names its preset and "
          "config changes, and no commit", file=sys.stderr)
    return {"name": name, "preset": cfg["preset"], "overrides": overrides, "commit": "unknown"}


def write_card(name: str, run_dir: Path, n: int, paths: dict | None = None) -> dict:
    recipe = read_recipe(name, run_dir)
    G, meta = load_snapshot(run_dir)
    conditional = bool(meta["kwargs"].get("n_classes"))
    video = len(meta["data_shape"]) == 4
    metrics = default_metrics(points=False, conditional=conditional, video=video)
    trained_on = (meta.get("data") or {}).get("path") or ""
    measured_on = real_data(name, trained_on, paths)
    data = {**meta["data"], "path": measured_on} if measured_on != trained_on else meta["data"]
    # None: the kind's default (500 clips); a folder's metrics need its evaluator (shipped
    # for emoji-64), found by the folder's content wherever it is
    record = evaluate(G, {**meta, "data": data}, metrics, n=n or None)
    last = [rec for rec in rundir.read_jsonl(run_dir / rundir.STATS) if "d_loss" in rec][-1]
    meta["card"] = {
        "name": name, "what": RECIPES[name][2],
        "trained_by": f"python scripts/train_pretrained.py {name}",
        "preset": recipe["preset"], "overrides": recipe["overrides"],
        "steps": last["step"], "kimg": last["kimg"], "wall_time_s": last["time_s"],
        "device": "cpu, 1 thread (shared 2-core machine)", "commit": recipe["commit"],
        "metrics": record["metrics"], "provenance": record["provenance"],
    }
    if name in ATTRIBUTION:
        meta["card"]["attribution"] = ATTRIBUTION[name]
    for path in {trained_on, measured_on} - {""}:  # a card names no path of this machine
        meta = without_path(meta, str(Path(path).parent) + "/")
    PACKAGE_DIR.mkdir(exist_ok=True)
    artifacts.save(PACKAGE_DIR / name, G, {"kind": "generator", **meta})  # old run dirs: no kind
    for suffix in (".json", ".safetensors"):  # package data: readable by every user
        (PACKAGE_DIR / f"{name}{suffix}").chmod(0o644)
    return meta["card"]


def table() -> str:
    """A markdown table of every shipped card."""
    rows = ["| name | what | preset | steps | kimg | wall time | FID | KID | IS | classes | "
            "class accuracy (all / worst class) |", "|---" * 11 + "|"]
    cards = [json.loads(path.read_text())["card"] for path in sorted(PACKAGE_DIR.glob("*.json"))]
    videos = [c for c in cards if "identity" in c["metrics"]]
    for c in cards:
        if c in videos:
            continue
        m = c["metrics"]
        acc = (f"{100 * m['class_acc']['overall']:.1f} % / {100 * m['class_acc']['min']:.1f} %"
               if "class_acc" in m else "(unconditional)")
        rows.append(f"| `{c['name']}` | {c['what']} | `{c['preset']}` | {c['steps']:,} | "
                    f"{c['kimg']:g} | {c['wall_time_s'] / 60:.0f} min | {m['fid']:.1f} | "
                    f"{m['kid']:.3f} | {m['is']:.2f} | {m['coverage']['covered']}/"
                    f"{m['coverage']['n_classes']} | {acc} |")
    images = [c for c in cards if c not in videos]
    n = images[0]["provenance"]
    counts = [c["provenance"]["n_generated"] for c in images]
    usual = max(counts, key=counts.count)
    others = "".join(f"`{c['name']}`: {k:,}; " for c, k in zip(images, counts)
                     if k != usual)  # a card measured on another n says so
    text = ("\n".join(rows) + f"\n\nMetrics: `gankit.metrics.evaluate` on {usual:,} "
            f"samples ({others}seed {n['seed']}) in the data set's evaluator feature space, "
            "against the real images the card names; conditional generators drew balanced "
            "classes. Trained on one thread of a 2-core machine shared with other jobs, so the "
            "wall times say little about speed.\n")
    return text + (video_table(videos) if videos else "") + attributions(cards)


def attributions(cards: list[dict]) -> str:
    """The data's attribution of each card that carries one, a paragraph under the tables."""
    lines = [f"- `{c['name']}`: {c['attribution']}" for c in cards if c.get("attribution")]
    return ("\nAttribution (the images these generators were trained on):\n\n"
            + "\n".join(lines) + "\n") if lines else ""


def video_table(cards: list[dict]) -> str:
    """The shipped video generators' cards as a table of their own (other measures)."""
    rows = ["| name | what | preset | steps | kimg | wall time | per-frame FID (real vs real) | "
            "identity consistency (real) | motion, px/frame (real) |", "|---" * 9 + "|"]
    for c in cards:
        m = c["metrics"]
        rows.append(f"| `{c['name']}` | {c['what']} | `{c['preset']}` | {c['steps']:,} | "
                    f"{c['kimg']:g} | {c['wall_time_s'] / 60:.0f} min | {m['frame_fid']:.1f} "
                    f"({m['frame_fid_real']:.1f}) | {100 * m['identity']:.1f} % "
                    f"({100 * m['identity_real']:.1f} %) | {m['motion']:.2f} "
                    f"({m['motion_real']:.2f}) |")
    n = cards[0]["provenance"]
    return ("\nVideo generators:\n\n" + "\n".join(rows) + f"\n\nMetrics: "
            f"`gankit.metrics.evaluate` on {n['n_generated']:,} clips (seed {n['seed']}) "
            "against as many real clips of held-out digits (`gankit.metrics.video`).\n")


def write_tables() -> None:
    """The cards as a table, in pretrained/README.md and between the README's markers."""
    text = table()
    artifacts.atomic_write(PACKAGE_DIR / "README.md", lambda tmp: Path(tmp).write_text(
        "# Pretrained generators shipped with gankit\n\nWritten by "
        "scripts/train_pretrained.py from the JSON cards beside this file.\n\n" + text))
    (PACKAGE_DIR / "README.md").chmod(0o644)
    readme = ROOT / "README.md"
    start, end = "<!-- pretrained:start -->", "<!-- pretrained:end -->"
    body = readme.read_text()
    if start in body and end in body:
        head, rest = body.split(start, 1)
        readme.write_text(head + start + "\n" + text + rest[rest.index(end):])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name", choices=sorted(RECIPES), nargs="?")
    p.add_argument("--out", help="run directory (default runs/pretrained/NAME); one that holds "
                   "an interrupted run is resumed with the new --steps/--seconds")
    p.add_argument("--steps", type=int, default=8000, help="generator steps at most")
    p.add_argument("--seconds", type=float, default=3600, help="training time limit (wall seconds)")
    p.add_argument("--fashion", default=str(DEFAULT_FASHION), help="fashion-mnist-70k.npz")
    p.add_argument("--emoji", default=str(DEFAULT_EMOJI), help="the emoji-64 folder (9 class "
                   "subfolders of RGBA PNGs)")
    p.add_argument("--n", type=int, default=0, help="samples for the metrics (default: "
                   "10,000 images, 500 clips)")
    p.add_argument("--card-only", metavar="RUN_DIR", help="skip training; card an existing run")
    p.add_argument("--tables-only", action="store_true",
                   help="only rewrite the tables of the cards (pretrained/README.md, README.md)")
    args = p.parse_args()
    if args.tables_only:
        write_tables()
        return
    if not args.name:
        p.error(f"give a NAME: one of {', '.join(sorted(RECIPES))}")
    run_dir = Path(args.card_only or args.out or ROOT / "runs" / "pretrained" / args.name)
    paths = {"fashion": args.fashion, "emoji": args.emoji}
    if not args.card_only:
        train(args.name, run_dir, args.steps, args.seconds, paths)
    card = write_card(args.name, run_dir, args.n, paths)
    write_tables()
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    try:
        main()
    except GankitError as e:  # one line, as gankit's own commands end (here the real data's
        # place is --fashion / --emoji, where gankit eval's message says --data)
        sys.exit(f"train_pretrained.py: error: {e} (this script: --fashion PATH / --emoji PATH)")
