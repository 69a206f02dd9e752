"""Your own colour folder: `gankit train` against pytorch/examples' DCGAN loop, time to quality.

    python benchmarks/folder_quality.py --data ../shared/data/emoji-64             # 32x32
    python benchmarks/folder_quality.py --data ../shared/data/emoji-64 --preset cdcgan32-folder
    python benchmarks/folder_quality.py --data IMGS --size 64 --preset dcgan64-folder \\
        --device cuda --seconds 600 --gankit-set train.time_limit=570      # the GPU machine
    python benchmarks/folder_quality.py ... --record                       # docs/benchmarks.md

One after the other, each alone as a whole process, as a user runs them:
  1. `gankit train --preset PRESET --set data.path=DATA` with its own recipe and time guard.
     A watcher copies the run's generator snapshot each time the run writes one (every
     `train.ckpt_every` steps, set here to --every-steps), with the wall time since the
     command started: gankit's checkpoints are part of its time.
  2. The peer: pytorch/examples' dcgan/main.py loop written plainly
     (benchmarks/plain_dcgan64.py --size S --white --preload: the DCGAN paper's networks for
     that side, 64 wide, batch 64, Adam 2e-4 (0.5, 0.999), BCE, transparency composited onto
     white, the folder decoded once into a tensor: with main.py's two DataLoader workers
     decoding every epoch it took 1,439 steps in 600 s here, preloaded 1,483), for
     --seconds of training, writing G every --every seconds (not counted).
Then every snapshot is measured alike with `gankit.metrics.evaluate` (FID, precision/recall,
class coverage of --n samples, G in eval mode) in the folder's evaluator's features against
its held-out split (`gankit evaluator train --data DATA` first, if the folder has none). The
peer trains on every image of the folder, the held-out ones included; gankit on its train split.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from record import machine, markdown_table, record  # noqa: E402

from gankit import rundir

HERE = Path(__file__).resolve().parent
GANKIT = [sys.executable, "-m", "gankit"]
LEVELS = (150.0, 100.0, 75.0, 50.0)


class Watcher(threading.Thread):
    """Copies RUN/generator.* into INTO/t-SECONDS whenever the run writes a new step."""

    def __init__(self, run_dir: Path, into: Path, start: float):
        super().__init__(daemon=True)
        self.run_dir, self.into, self.start_time = run_dir, into, start
        self.seen, self.halt = None, threading.Event()

    def grab(self) -> None:
        card = self.run_dir / rundir.SNAPSHOT_CARD
        try:
            step = json.loads(card.read_text()).get("step")
        except (OSError, ValueError):
            return
        if step is None or step == self.seen:
            return
        dest = self.into / f"t-{time.perf_counter() - self.start_time:.0f}"
        dest.mkdir(parents=True, exist_ok=True)
        try:  # the weights first: the card is renamed into place after them
            shutil.copy(self.run_dir / rundir.SNAPSHOT_WEIGHTS, dest)
            shutil.copy(card, dest)
            self.seen = step
        except OSError:
            shutil.rmtree(dest, ignore_errors=True)

    def run(self) -> None:
        while not self.halt.wait(0.25):
            self.grab()


def run_gankit(args, tmp: Path) -> tuple[float, Path, Path]:
    """(whole-command wall seconds, run directory, snapshots folder)."""
    run_dir, snaps = tmp / "run", tmp / "gankit-snaps"
    snaps.mkdir()
    cmd = GANKIT + ["train", "--preset", args.preset, "--out", str(run_dir),
                    "--set", f"data.path={args.data}", "--set", f"train.ckpt_every={args.every_steps}",
                    "--device", args.device]
    for s in args.gankit_set:
        cmd += ["--set", s]
    print("  $", " ".join(cmd), flush=True)
    start = time.perf_counter()
    watcher = Watcher(run_dir, snaps, start)
    watcher.start()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    watcher.halt.set()
    watcher.join()
    watcher.grab()  # the end-of-run snapshot, if the last poll came before it
    return wall, run_dir, snaps


def run_peer(args, tmp: Path) -> tuple[float, Path]:
    snaps = tmp / "peer-snaps"
    times = [args.every * i for i in range(1, int(args.seconds // args.every) + 1)]
    if not times or times[-1] < args.seconds:
        times.append(args.seconds)
    cmd = [sys.executable, str(HERE / "plain_dcgan64.py"), "--data", args.data, "--size",
           str(args.size), "--seconds", str(args.seconds), "--white", "--preload",
           "--device", args.device,
           "--snapshots", ",".join(f"{t:g}" for t in times), "--snapshot-dir", str(snaps),
           "--out", str(tmp / "peer-samples.png")]
    print("  $", " ".join(cmd), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start, snaps


def _seconds(p: Path) -> float:
    return float(p.name.removeprefix("t-"))


def measure(snaps: Path, data: str, n: int) -> list[tuple[float, int, dict]]:
    """[(seconds, step, metrics)] of every snapshot under `snaps`, in time order."""
    from gankit.generator import load
    from gankit.metrics import evaluate

    out = []
    for d in sorted(snaps.iterdir(), key=_seconds):
        g = load(str(d))
        g.card["data"] = {**g.card["data"], "path": data}
        names = ["fid", "pr", "coverage"] + (["class_acc"] if g.n_classes else [])
        m = evaluate(g, None, names, n=n)["metrics"]
        out.append((_seconds(d), g.card.get("step"), m))
        print(f"    {d.parent.name} {d.name}: step {g.card.get('step')}, FID {m['fid']:.1f}",
              flush=True)
    return out


def first_below(curve, level: float) -> str:
    hit = [t for t, _, m in curve if m["fid"] <= level]
    return f"{hit[0]:.0f}" if hit else "-"


def row(name: str, wall: float, curve) -> list:
    t, step, m = curve[-1]
    cov = m["coverage"]
    acc = f"{100 * m['class_acc']['overall']:.1f} %" if "class_acc" in m else "-"
    return [name, f"{wall:.0f}", step, f"{m['fid']:.1f}", f"{m['precision']:.3f}",
            f"{m['recall']:.3f}", f"{cov['covered']}/{cov['n_classes']}", acc,
            *[first_below(curve, lv) for lv in LEVELS],
            ", ".join(f"{t:.0f}: {m['fid']:.0f}" for t, _, m in curve)]


def plot(curves: dict, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, curve in curves.items():
        ax.plot([t for t, _, _ in curve], [m["fid"] for _, _, m in curve], marker="o", label=name)
    ax.set(xlabel="wall seconds since the command started", ylabel="FID (folder evaluator)",
           yscale="log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="a labelled image folder (class subfolders)")
    ap.add_argument("--preset", default="dcgan32-folder")
    ap.add_argument("--size", type=int, default=32, help="the peer's image side (the preset's)")
    ap.add_argument("--seconds", type=float, default=600.0, help="the peer's training seconds")
    ap.add_argument("--every", type=float, default=60.0, help="peer snapshot every S seconds")
    ap.add_argument("--every-steps", type=int, default=500, help="gankit snapshot every N steps")
    ap.add_argument("--n", type=int, default=5000, help="samples per measurement")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--gankit-set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--no-peer", action="store_true", help="gankit only")
    ap.add_argument("--keep", type=Path, help="copy the final sample grids and gankit's run "
                    "directory (resumable) into this folder")
    ap.add_argument("--reuse-gankit", action="store_true", help="take gankit's run from --work "
                    "(an earlier run of this script) and run only the peer")
    ap.add_argument("--work", type=Path, help="working folder to keep (default: a temporary one)")
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    args.data = str(Path(args.data).resolve())

    with tempfile.TemporaryDirectory() as t:
        tmp = args.work or Path(t)
        tmp.mkdir(parents=True, exist_ok=True)
        print(f"gankit train --preset {args.preset}:", flush=True)
        if args.reuse_gankit:  # the gankit side of an earlier --work run of the same preset
            wall_g = float((tmp / "gankit-wall.txt").read_text())
            run_dir, snaps_g = tmp / "run", tmp / "gankit-snaps"
        else:
            wall_g, run_dir, snaps_g = run_gankit(args, tmp)
            (tmp / "gankit-wall.txt").write_text(f"{wall_g}\n")
        curves, walls = {f"gankit {args.preset}": None}, {}
        if not args.no_peer:
            print(f"peer (pytorch/examples' loop, {args.size}x{args.size}):", flush=True)
            wall_p, snaps_p = run_peer(args, tmp)
        print("measuring:", flush=True)
        curves[f"gankit {args.preset}"] = measure(snaps_g, args.data, args.n)
        walls[f"gankit {args.preset}"] = wall_g
        if not args.no_peer:
            name = f"pytorch/examples DCGAN loop {args.size}x{args.size}"
            curves[name], walls[name] = measure(snaps_p, args.data, args.n), wall_p
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            grids = sorted((run_dir / rundir.SAMPLES).glob(rundir.SAMPLE_GRIDS))
            shutil.copy(grids[-1], args.keep / f"{args.preset}-samples.png")
            shutil.copytree(run_dir, args.keep / f"run-{args.preset}", dirs_exist_ok=True)
            if not args.no_peer:
                shutil.copy(tmp / "peer-samples.png", args.keep / f"peer-{args.size}-samples.png")

    header = ["run", "wall s (whole command)", "steps", "FID", "precision", "recall",
              "classes", "class acc", *[f"s to FID {lv:g}" for lv in LEVELS], "FID at s"]
    table = markdown_table(header, [row(k, walls[k], v) for k, v in curves.items()])
    print(table)
    if args.record:
        doc_png = Path(__file__).resolve().parents[1] / "docs" / f"folder-{args.preset}-ttq.png"
        plot(curves, doc_png)
        cmd = "python benchmarks/folder_quality.py " + " ".join(sys.argv[1:])
        body = (f"`{cmd}`\n\nMachine: {machine()}; device {args.device}; {args.n} samples per "
                f"measurement against the folder's held-out split; plot: "
                f"[{doc_png.name}]({doc_png.name}).\n\n{table}\n")
        record(f"folder-quality-{args.preset}{'-peer' if not args.no_peer else ''}", body)


if __name__ == "__main__":
    torch.set_num_threads(torch.get_num_threads())
    main()
