"""The main job as a user runs it: `gankit train` with the default preset, timed end to end.

    python benchmarks/default_run.py [--record]

Runs the installed `gankit` command in a fresh directory, then records its wall time (process
start to exit, so imports and data loading count), the training images/s from stats.jsonl,
and `gankit eval`'s FID, precision/recall and class coverage of 10,000 samples against the
MNIST evaluator's held-out digits, in docs/benchmarks.md.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from record import DOC, machine, markdown_table, record  # noqa: E402

from gankit import rundir

DOCS = DOC.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", action="store_true",
                    help="write the table and the final grid into docs/")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        gankit = Path(sys.executable).parent / "gankit"
        t0 = time.perf_counter()
        subprocess.run([str(gankit), "train", "--out", str(out)], check=True)
        wall = time.perf_counter() - t0
        stats = rundir.read_jsonl(out / rundir.STATS)
        steps = [s for s in stats if "img_per_s" in s]
        config = json.loads((out / rundir.CONFIG).read_text())
        ran = json.loads((out / rundir.SNAPSHOT_CARD).read_text())["step"]  # the snapshot's step
        imgs = steps[-1]["kimg"] * 1000
        train_s = steps[-1]["time_s"]
        ev = subprocess.run([str(gankit), "eval", str(out), "--metrics", "fid,pr,coverage"],
                            check=True, capture_output=True, text=True)
        print(ev.stdout)
        m = rundir.read_jsonl(out / rundir.METRICS)[-1]["metrics"]
        grid = sorted((out / rundir.SAMPLES).glob(rundir.SAMPLE_GRIDS))[-1]
        if args.record:
            shutil.copy(grid, DOCS / "default-samples.png")
    # the steps it ran: the time guard (train.time_limit) may stop it before the preset's count
    rows = [[config["preset"], f"{ran} of {config['train']['steps']}",
             config["train"]["batch_size"],
             f"{wall:.0f}", f"{train_s:.0f}", f"{imgs / train_s:.0f}", f"{m['fid']:.2f}",
             f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['coverage']['covered']}/10"]]
    table = markdown_table(["preset", "steps", "batch", "wall s (whole command)",
                            "training s", "images/s", "FID", "precision", "recall",
                            "classes"], rows)
    print(table)
    if not args.record:
        return
    record("default-run", "## The main job (`python benchmarks/default_run.py`)\n\n"
           f"`gankit train` with the default preset, as `make train` runs it. Machine: "
           f"{machine()}.\n\n{table}\n\nIts final sample grid (64 samples from the fixed noise, EMA generator):\n\n"
           "![default run samples](default-samples.png)")


if __name__ == "__main__":
    main()
