"""A big folder streams: a folder of 100,000 images trains with bounded memory.

    python benchmarks/stream_folder.py [--n 100000] [--steps 300] [--keep DIR] [--record]
    python benchmarks/stream_folder.py --n 300 --steps 5    # a check that it runs

Builds N 64x64 PNGs by augmenting the emoji-64 folder (`--source`; each file one source emoji,
mirrored at random, shifted by up to 4 pixels and its hue turned a little, seeded by (--seed,
file number), so a rebuild makes the same bytes) under its class subfolders, in a temporary
directory, or in --keep DIR, which is reused when a previous build there is complete (and
finished when it is not). Then it times the whole command

    python -m gankit train --preset dcgan32-folder --set data.path=DIR --set data.stream_mb=0
        --set train.steps=S --set train.report=false [--set ...]

in a process of its own, sampling every 0.2 s the resident memory of that process and of its
children (the DataLoader workers that decode the images) with psutil, or /proc where psutil
is missing, and their proportional set size (/proc/PID/smaps_rollup). For comparison
(unless --no-compare) the same command runs on the source folder itself, streamed and in
memory (data.stream_mb large): if streaming is bounded, the big folder's peak is the small
streamed folder's, not the size of its decoded images.

images/s is read from the run's stats.jsonl: the images of the lines after the first over
their time (the first line holds the workers' start and the warm-up), or the one line's own
figure when there is only one. The resident memory of forked workers counts the pages they
share with the training process (torch's libraries, the parent's heap) once per process, so
main + workers is an upper bound; the summed PSS divides each shared page among its sharers,
which makes it the tree's real footprint (though a library page is shared with any process
mapping it, so other torch processes on the machine lower it: compare within one table).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from record import machine, markdown_table, record  # noqa: E402

from gankit import rundir

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "emoji-64"
PRESET = "dcgan32-folder"
SIDE, SHIFT, HUE = 64, 4, 12  # the files' side; the largest shift in pixels and hue turn (of 256)
MARKER = ".stream-folder.json"  # in a built folder: what was built (not an image: never read)
SAMPLE_S = 0.2


# ---- the folder ---------------------------------------------------------------------------

def source_files(source: Path) -> list[tuple[str, Path]]:
    """(class, file) of every image one level down in `source`, sorted."""
    files = sorted((p.parent.name, p) for p in source.glob("*/*")
                   if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if not files:
        raise SystemExit(f"no images in class subfolders of {source}: give --source FOLDER")
    return files


def augment(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """RGBA (SIDE, SIDE): mirrored half the time, shifted by up to SHIFT pixels (the uncovered
    edge transparent) and its hue turned by up to HUE of 256."""
    im = im.convert("RGBA").resize((SIDE, SIDE), Image.Resampling.BICUBIC)
    if rng.random() < 0.5:
        im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    dx, dy = (int(v) for v in rng.integers(-SHIFT, SHIFT + 1, size=2))
    moved = Image.new("RGBA", im.size, (0, 0, 0, 0))
    moved.paste(im, (dx, dy))
    hsv = np.array(moved.convert("RGB").convert("HSV"))           # (SIDE, SIDE, 3) uint8
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + int(rng.integers(-HUE, HUE + 1))) % 256
    rgb = Image.fromarray(hsv, "HSV").convert("RGB")
    rgb.putalpha(moved.getchannel("A"))
    return rgb


def build(folder: Path, n: int, source: Path, seed: int) -> None:
    """N augmented files under folder/<class>/; a complete build there is reused, a partial one
    finished (every file is a function of its number, so the kept files are the right ones)."""
    want = {"n": n, "seed": seed, "source": str(source.resolve()), "side": SIDE}
    marker = folder / MARKER
    if marker.is_file():
        have = json.loads(marker.read_text())
        if have == want:
            print(f"reusing the complete folder {folder} ({n:,} files)")
            return
        raise SystemExit(f"{folder} holds another build ({have}): give another --keep DIR, "
                         "or delete that one")
    files = source_files(source)
    order = np.random.default_rng(seed).permutation(len(files))  # every class from the start
    start = time.perf_counter()
    for i in range(n):
        cls, src = files[order[i % len(files)]]
        out = folder / cls / f"{i:06d}.png"
        if out.is_file():
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(src) as im:
            picture = augment(im, np.random.default_rng([seed, i]))
        tmp = out.with_name(out.name + ".part")  # an interrupted build leaves no broken PNG
        picture.save(tmp, format="PNG")
        os.replace(tmp, out)
        if (i + 1) % 10_000 == 0:
            print(f"  {i + 1:,} of {n:,} files ({time.perf_counter() - start:.0f} s)")
    marker.write_text(json.dumps(want))
    print(f"built {n:,} files in {folder} in {time.perf_counter() - start:.0f} s")


def folder_size(folder: Path) -> tuple[int, float, float]:
    """(image files, MB on disk as du counts it, MB of the files' bytes)."""
    count, blocks, size = 0, 0, 0
    for p in folder.rglob("*"):
        if p.suffix.lower() in (".png", ".jpg", ".jpeg") and p.is_file():
            st = p.stat()
            count, blocks, size = count + 1, blocks + st.st_blocks * 512, size + st.st_size
    return count, blocks / 1e6, size / 1e6


# ---- resident memory of a process tree ----------------------------------------------------

def _proc_kb(pid: int, file: str, key: str) -> int:
    """A "Key:   N kB" line of /proc/PID/<file> in bytes; 0 when the process has gone."""
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _proc_children(pid: int) -> list[int]:
    """Every descendant of `pid`, from each process's parent in /proc/*/stat."""
    parents = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:  # "pid (name) state ppid ...": the name may hold spaces, so split after ")"
                parents[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found += kids
        todo += kids
    return found


def tree_memory(pid: int) -> tuple[int, int, int, int]:
    """(the process's RSS, its descendants' RSS summed, how many descendants, the PSS of all
    of them summed) in bytes. PSS divides each shared page among the processes sharing it, so
    the sum is the tree's real footprint; 0 where /proc/PID/smaps_rollup cannot be read."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is None:
        kids = _proc_children(pid)
        rss = [_proc_kb(p, "status", "VmRSS") for p in (pid, *kids)]
    else:
        try:
            kids = [k.pid for k in psutil.Process(pid).children(recursive=True)]
        except psutil.Error:  # it has just exited
            return 0, 0, 0, 0
        rss = []
        for p in (pid, *kids):
            try:
                rss.append(psutil.Process(p).memory_info().rss)
            except psutil.Error:
                rss.append(0)
    pss = sum(_proc_kb(p, "smaps_rollup", "Pss") for p in (pid, *kids))
    return rss[0], sum(rss[1:]), len(kids), pss


# ---- one run ------------------------------------------------------------------------------

def images_per_s(stats: list[dict]) -> float:
    """The images of the stats.jsonl lines after the first over their time; one line: its own."""
    if len(stats) < 2:
        return stats[-1]["img_per_s"]
    a, b = stats[0], stats[-1]
    return (b["kimg"] - a["kimg"]) * 1000 / (b["time_s"] - a["time_s"])


def train(data: Path, streamed: bool, steps: int, out: Path, extra: list[str]) -> dict:
    """Run `gankit train` on `data` in its own process; its wall time, images/s, steps and
    peak resident memory (the process tree's, sampled every SAMPLE_S)."""
    sets = [f"data.path={data}", f"data.stream_mb={0 if streamed else 1e9:g}",
            f"train.steps={steps}", "train.report=false", *extra]
    cmd = [sys.executable, "-m", "gankit", "train", "--preset", PRESET,
           *[a for kv in sets for a in ("--set", kv)], "--out", str(out)]
    log = out.with_suffix(".log")
    peak = (0, 0)  # (main, workers) RSS at the highest total
    most_workers = peak_pss = 0
    start = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            main, kids, n_kids, pss = tree_memory(proc.pid)
            most_workers, peak_pss = max(most_workers, n_kids), max(peak_pss, pss)
            if main + kids > sum(peak):
                peak = (main, kids)
            time.sleep(SAMPLE_S)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-20:])
        raise SystemExit(f"{' '.join(cmd)}\nexited with {proc.returncode}:\n{tail}")
    stats = rundir.read_jsonl(out / rundir.STATS)
    config = json.loads((out / rundir.CONFIG).read_text())
    return {"wall_s": wall, "images_per_s": images_per_s(stats), "steps": stats[-1]["step"],
            "batch": config["train"]["batch_size"], "size": config["data"]["image_size"],
            "channels": config["data"]["channels"] or 3, "workers": most_workers,
            "main_mb": peak[0] / 1e6, "workers_mb": peak[1] / 1e6, "pss_mb": peak_pss / 1e6,
            "command": " ".join(["python", *cmd[1:]])}


def row(name: str, folder: Path, mode: str, r: dict) -> list:
    files, disk_mb, _ = folder_size(folder)
    # what the folder's images take decoded (float32 at the run's side), as load_data holds them
    decoded = files * r["channels"] * r["size"] ** 2 * 4 / 1e6
    workers = f" + {r['workers_mb']:.0f} ({r['workers']} workers)" if r["workers"] else ""
    return [name, f"{files:,}", f"{disk_mb:.0f}", f"{decoded:.0f}", mode, r["steps"],
            f"{r['images_per_s']:.0f}", f"{r['wall_s']:.0f}",
            f"{r['main_mb'] + r['workers_mb']:.0f}", f"{r['main_mb']:.0f}{workers}",
            f"{r['pss_mb']:.0f}" if r["pss_mb"] else "n/a"]


HEADER = ["folder", "files", "MB on disk", "MB decoded", "mode", "steps", "images/s",
          "wall s (whole command)", "peak RSS MB", "main + workers MB", "peak PSS MB"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="files to build (default 100000)")
    ap.add_argument("--steps", type=int, default=300, help="training steps per run (default 300)")
    ap.add_argument("--source", type=Path, default=SOURCE,
                    help=f"the folder of class subfolders to augment (default {SOURCE})")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="build into DIR and keep it (reused when complete) instead of a "
                    "temporary directory")
    ap.add_argument("--tmp", type=Path, help="where the temporary directory goes (default: "
                    "the system's; the full build takes about 0.5 GB)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="another override for every run, e.g. data.workers=4 (repeatable)")
    ap.add_argument("--no-compare", action="store_true",
                    help="skip the source folder's streamed and in-memory runs")
    ap.add_argument("--record", action="store_true", help="write the table into docs/")
    args = ap.parse_args()
    if args.n < 1 or args.steps < 1:
        raise SystemExit("--n and --steps must be at least 1")

    with tempfile.TemporaryDirectory(prefix="gankit-stream-", dir=args.tmp) as tmp:
        tmp = Path(tmp)
        big = args.keep or tmp / "folder"
        build(big, args.n, args.source, args.seed)
        files, disk_mb, bytes_mb = folder_size(big)
        print(f"{big}: {files:,} files, {disk_mb:.0f} MB on disk ({bytes_mb:.0f} MB of bytes)")
        runs = [("augmented", big, True)]
        if not args.no_compare:
            name = args.source.name
            runs += [(name, args.source, True), (name, args.source, False)]
        rows, commands = [], []
        for i, (name, folder, streamed) in enumerate(runs):
            mode = "streamed" if streamed else "in memory"
            print(f"training on {name} ({mode}) for {args.steps} steps ...", flush=True)
            r = train(folder, streamed, args.steps, tmp / f"run-{i}", args.set)
            rows.append(row(name, folder, mode, r))
            commands.append(r["command"].replace(str(folder), "DIR")
                            .replace(str(tmp / f"run-{i}"), "RUN"))
            print(markdown_table(HEADER, rows[-1:]), flush=True)
    table = markdown_table(HEADER, rows)
    print(table)
    if not args.record:
        return
    argv = " ".join(sys.argv[1:])
    record("stream-folder", "## A big folder streams (`python benchmarks/stream_folder.py`)\n\n"
           f"Command: `python benchmarks/stream_folder.py {argv}`. Machine: {machine()}.\n\n"
           f"{args.n:,} 64x64 PNGs made by augmenting `{args.source.name}` (mirrored, shifted "
           f"up to {SHIFT} px, hue turned up to {HUE}/256), then `{commands[0]}`"
           + ("" if args.no_compare else "; beside it the source folder itself, streamed and "
              "in memory (data.stream_mb=1e9)") + ". Peak resident memory of the "
           f"training process and its DataLoader workers, sampled every {SAMPLE_S} s: RSS "
           "counts a forked worker's shared pages once per process (main + workers is an "
           "upper bound), PSS divides them among the sharers (the real footprint, lowered "
           "a little by other processes mapping the same libraries); images/s "
           "from stats.jsonl after its first line; MB decoded is what "
           "holding the folder in memory would take (float32 at the run's side).\n\n"
           f"{table}")


if __name__ == "__main__":
    main()
