"""The health monitor on whole runs: every preset at its own length should stay quiet, and the
planted failures should be diagnosed in time.

    python benchmarks/health.py                          # every preset, then the planted runs
    python benchmarks/health.py --presets dcgan-mnist,toy-ring --planted none
    python benchmarks/health.py --record
    python benchmarks/health.py --record --resume        # keep the rows already recorded
    python benchmarks/health.py --presets dcgan-course --planted all --record --resume \
        --rerun dcgan-course                             # these rows again, the others kept

Presets whose trainer the monitor does not watch (the VAEs, the video GANs) are left out.

Each row is one `gankit train` process (the preset's defaults, health monitor on) and the
diagnoses it wrote to health.jsonl, with the step of each. Planted rows add the overrides
named in the house issue: an overpowering D, a frozen G, transposed up-sampling that never
learns within 500 steps.
"""

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from record import machine, markdown_table, record, section_body  # noqa: E402

from gankit import rundir

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FASHION = SHARED / "fashion-mnist-70k.npz"
EMOJI = SHARED / "emoji-64"  # the folder presets' rows: the user's folder of the colour issue
# Plants that fail under the presets' own recipes (as tests/test_health.py plants them): the
# DCGAN's R1 penalty keeps its D from winning, so taking it away is part of that plant. (The
# dead D and dead G plants of the tests zero a network's output, which --set cannot do.)
PLANTED = {
    "overpowering D (default preset)": ("mlp-mnist", ["loss.g_loss=minimax", "optim.lr_d=0.01",
                                                      "train.steps=300"]),
    "overpowering D (DCGAN-28)": ("dcgan-mnist", ["loss.r1_gamma=0", "loss.g_loss=minimax",
                                                  "optim.lr_d=0.01", "train.steps=300"]),
    "frozen G": ("dcgan-mnist", ["optim.lr_g=1e-8", "train.steps=500"]),
    "never learns (transposed)": ("dcgan-mnist", ["model.upsample=transposed", "train.steps=500"]),
}


# The course-exact presets train for the course's own length (over an hour, many hours for the
# MLP's 93,800 steps): the benchmark watches their first CAP steps, which is where the course's
# settings would fail if they fail (D winning, collapse) and what a user watches too.
CAP = 1500


def run(preset: str, overrides: list[str], tmp: Path) -> tuple[float, list[dict], list[dict]]:
    out = tmp / f"{preset}-{time.monotonic_ns()}"
    cmd = [str(Path(sys.executable).parent / "gankit"), "train", "--preset", preset,
           "--out", str(out), "--set", "train.report=false"]
    if preset.endswith("-folder"):  # their own length is their 9-minute guard: kept
        cmd += ["--set", f"data.path={EMOJI}"]
    else:  # time_limit=0: the guard for slow machines would cut a run short on this shared one
        cmd += ["--set", "train.time_limit=0"]
    if "fashion" in preset:
        cmd += ["--set", f"data.path={FASHION}"]
    for o in overrides:
        cmd += ["--set", o]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    rows = rundir.read_jsonl(out / rundir.HEALTH)  # [] where there is none
    stats = rundir.read_jsonl(out / rundir.STATS)
    return wall, [r for r in rows if "diagnosis" in r], stats


def main() -> None:
    # A killed benchmark must not leave its training run behind: as an exception, SIGTERM
    # reaches subprocess.run, which kills the child before re-raising.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from gankit.config import preset_names
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="", help="comma list (default: every preset the "
                    "monitor watches; the folder presets train on ../shared/data/emoji-64)")
    ap.add_argument("--planted", default="all", help="'all' or 'none'")
    ap.add_argument("--record", action="store_true", help="write the table into docs/benchmarks.md")
    ap.add_argument("--section", default="health-runs", help="its section in docs/benchmarks.md")
    ap.add_argument("--resume", action="store_true", help="reuse the rows already recorded in "
                    "the section (a run cut short goes on where it stopped), and keep the "
                    "recorded rows of presets not run now")
    ap.add_argument("--keep", help="write the runs into this directory and keep them (to look "
                    "at a diagnosed run's sample grids), not into a temporary one")
    ap.add_argument("--rerun", default="", help="comma list of run labels to run again even "
                    "where --resume finds them recorded")
    args = ap.parse_args()
    presets = (args.presets.split(",") if args.presets else
               [p for p in preset_names() if monitored(p)])
    from gankit.config import DEFAULT_PRESET
    presets.sort(key=lambda p: p != DEFAULT_PRESET)  # the default first, the rest in order
    jobs = [(p, p, [f"train.steps={CAP}"] if p.endswith("-course-exact") else []) for p in presets]
    if args.planted == "all":  # the planted runs are short: first
        jobs = [(label, preset, o) for label, (preset, o) in PLANTED.items()] + jobs
    recorded_rows = recorded(args.section) if args.resume else {}
    rerun = set(filter(None, args.rerun.split(",")))
    done = {k: v for k, v in recorded_rows.items() if k[0] not in rerun}
    labels = {label for label, _, _ in jobs}
    # kept as recorded: the rows of presets and planted runs not run now (not the planted
    # runs of an older benchmark, whose plant differs)
    others = [v for (label, cell), v in recorded_rows.items() if label not in labels and (
        label in set(preset_names()) or label in PLANTED and cell == run_cell(*PLANTED[label]))]
    keys = [(label, run_cell(preset, overrides)) for label, preset, overrides in jobs]
    n_runs = len(jobs) + len(others)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(args.keep or tmp)
        where.mkdir(parents=True, exist_ok=True)
        for (label, cell), (_, preset, overrides) in zip(keys, jobs):
            if (label, cell) in done:
                rows.append(done[label, cell])
                continue
            wall, diagnoses, stats = run(preset, overrides, where)
            steps = max((s["step"] for s in stats), default=0)
            said = ", ".join(f"{d['diagnosis']} at {d['step']}" for d in diagnoses) or "none"
            rows.append([label, cell, steps, f"{wall:.0f}", said])
            print(rows[-1], flush=True)
            if args.record:  # after every row: a long benchmark cut short keeps what it ran,
                # and the recorded rows it has not reached yet
                write(table(rows + [done[k] for k in keys[len(rows):] if k in done], others),
                      n_runs, args.section, len(others))
    if args.record:  # and at the end: rows reused after the last run are written too
        write(table(rows, others), n_runs, args.section, len(others))
    print(markdown_table(HEADER, table(rows, others)))


def table(rows: list, others: list) -> list:
    """The planted runs first, then every preset's row, the default's first."""
    from gankit.config import DEFAULT_PRESET
    planted = sorted((r for r in rows + others if r[0] in PLANTED),
                     key=lambda r: list(PLANTED).index(r[0]))
    presets = [r for r in rows + others if r[0] not in PLANTED]
    return planted + sorted(presets, key=lambda r: (r[0] != DEFAULT_PRESET, r[0]))


HEADER = ["run", "preset and overrides", "steps", "wall s", "diagnoses"]


def run_cell(preset: str, overrides: list) -> str:
    """The table's "preset and overrides" cell, also the key of a recorded row."""
    return f"`{preset}`" + (" " + " ".join(overrides) if overrides else "")


def monitored(preset: str) -> bool:
    """Whether the health monitor watches this preset's trainer (not a VAE's or a video GAN's)."""
    from gankit.config import load_preset
    from gankit.training.protocol import trainer_class
    return trainer_class(load_preset(preset)).monitored


def recorded(section: str) -> dict:
    """The rows of the section's table in docs/benchmarks.md, by (run, preset and overrides)."""
    body = section_body(section) or ""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in body.splitlines() if line.startswith("| ") and not line.startswith("| run")]
    return {(r[0], r[1]): [r[0], r[1], int(r[2]), r[3], r[4]] for r in rows if len(r) == 5}


def write(rows: list, n_jobs: int, section: str, kept: int = 0) -> None:
    done = "" if len(rows) == n_jobs else f" ({len(rows)} of {n_jobs} runs done so far)"
    kept = (f"; the rows of {kept} other runs are kept as an earlier run recorded them"
            if kept else "")
    record(section, f"Command: `python benchmarks/health.py {' '.join(sys.argv[1:])}`"
           f"{done}{kept}. Machine: {machine()}. The planted failures, then each preset at its own "
           f"length with the health monitor at its defaults (the course-exact presets: their "
           f"first {CAP} steps).\n\n{markdown_table(HEADER, rows)}")


if __name__ == "__main__":
    main()
