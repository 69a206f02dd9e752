"""Speed benchmark: gankit's training step against a plain PyTorch loop, in one process.

    python benchmarks/speed.py                    # all three models, torch's default threads
    python benchmarks/speed.py --threads 1 --rounds 7
    python benchmarks/speed.py --memory           # also peak memory of every preset
    python benchmarks/speed.py --whole --no-speed  # whole `gankit train` vs the lean and course loops
    python benchmarks/speed.py --whole --no-speed --whole-busy --whole-steps 100 --whole-sides gankit,lean
    python benchmarks/speed.py --shared --no-speed # images/s alone and beside a busy process
    python benchmarks/speed.py --startup --no-speed --rounds 5  # start-up against import torch
    python benchmarks/speed.py --layout --no-speed --threads 2  # channels_last per DCGAN preset

For each model both sides get the same initial weights, the same Adam optimizers and the same
batches. The plain loop is the course's week-2 training loop as a student writes it: D's
update on G(z).detach() and a real batch, then G's update on a *second* G(z) (the same z, so
the math is identical: only G's BatchNorm running statistics are updated twice) through a D
whose parameter gradients are computed and thrown away. gankit's step reuses the first G(z)
(its graph is intact) and freezes D while G learns. Timed rounds alternate between the two,
and the table gives the median of the rounds, so load from other processes hits both alike.

Rows: the course DCGAN-28 (`dcgan-course`) at batch 128, the course MLP GAN (`mlp-mnist`) at
batch 128, and the DCGAN paper's DCGAN-64 (`dcgan64-folder`) at batch 64 on random 64x64
RGB images. `--memory` runs each preset for a few steps in its own process and records the
peak resident memory (and the peak CUDA memory on a GPU).

`--whole` times what a user meets: the whole `gankit train --preset P --set train.steps=N`
process (imports, data, models, health monitor, sample grids, checkpoints, the report)
against two plain scripts with the same layers: `benchmarks/lean_dcgan.py`, the loop a
practitioner writes (pytorch/examples' style), and `benchmarks/plain_dcgan.py`, the course's
loop; in rounds of rotating order, median of `--pairs` (`--whole-busy`: beside a busy process).
`--shared` runs each preset for `--shared-steps` steps with its own thread setting (and with
torch's default threads) alone, then beside a competing CPU-bound process, and reads the
training images/s from stats.jsonl.
"""

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

USER_ENV = dict(os.environ)  # before gankit sets OMP_WAIT_POLICY: what the children get
FASHION = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist-70k.npz"

import torch
import torch.nn.functional as F

from torch.utils.flop_counter import FlopCounterMode

from gankit import rundir
from gankit.config import apply_overrides, load_preset, preset_names
from gankit.data import ImageData, load_data
from gankit.models.blocks import as_torch_layers
from gankit.training.gan import GANTrainer as Trainer

sys.path.insert(0, str(Path(__file__).parent))
from record import machine, markdown_table, record, record_rows  # noqa: E402

ABLATIONS = "train.channels_last=false,train.precision=bf16,train.compile=true"
# dcgan64-folder is 16 wide for a CPU; the paper's row times the paper's 64-wide networks.
PAPER_WIDTH = ("model.g_hidden=64", "model.d_hidden=64", "loss.r1_gamma=0")
CASES = [  # (label, preset, batch)
    ("DCGAN-28 (course)", "dcgan-course-exact", 128),
    ("MLP GAN (course)", "mlp-mnist-course-exact", 128),
    ("DCGAN-64 (paper)", "dcgan64-folder", 64),
]


def make_data(preset: str):
    if preset == "dcgan64-folder":  # no folder needed to time it: random RGB images
        g = torch.Generator().manual_seed(0)
        x = torch.rand(1024, 3, 64, 64, generator=g) * 2 - 1
        return ImageData(images=x, labels=None, class_names=None, name="folder")
    return load_data("mnist")


def plain_step(G, D, opt_g, opt_d, real, z):
    """The course's loop: a second G forward for G's update, D's gradients computed anyway."""
    bce = F.binary_cross_entropy_with_logits
    opt_d.zero_grad()
    fake = G(z).detach()
    fake_logits, real_logits = D(fake), D(real)
    loss_d = (bce(fake_logits, torch.zeros_like(fake_logits))
              + bce(real_logits, torch.ones_like(real_logits))) / 2
    loss_d.backward()
    opt_d.step()
    opt_g.zero_grad()
    fake_logits = D(G(z))
    loss_g = bce(fake_logits, torch.ones_like(fake_logits))
    loss_g.backward()
    opt_g.step()


def flops_per_image(trainer, batch: int) -> float:
    """FLOPs of one training step per image, counted from the layer shapes by torch."""
    with FlopCounterMode(display=False) as counter:
        trainer.train_step()
    return counter.get_total_flops() / batch


def matmul_peak(device: torch.device) -> tuple[float, str]:
    """The measured dense matrix-product rate (FLOP/s): bf16 on a GPU, float32 on the CPU."""
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    n = 8192 if device.type == "cuda" else 2048
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    best = 0.0
    for _ in range(5):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(10):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = max(best, 10 * 2 * n ** 3 / (time.perf_counter() - t0))
    return best, str(dtype).removeprefix("torch.")


def time_case(preset: str, batch: int, device: torch.device, steps: int, rounds: int,
              extra: tuple = ()) -> dict:
    cfg = apply_overrides(load_preset(preset), [f"train.batch_size={batch}", "train.ema_decay=0",
                                                *extra])
    data = make_data(preset)
    torch.manual_seed(0)
    trainer = Trainer(cfg, data, device)
    # Same initial weights, in the layout a plain script has (the preset's channels_last is
    # gankit's, not the course's).
    G, D = (as_torch_layers(copy.deepcopy(m)).to(memory_format=torch.contiguous_format)
            for m in (trainer.G, trainer.D))
    o = cfg.optim
    opt_g = torch.optim.Adam(G.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))
    x = data.images.to(device)

    def plain():
        idx = torch.randint(len(x), (batch,), device=device)
        plain_step(G, D, opt_g, opt_d, x[idx], torch.randn(batch, cfg.model.z_dim, device=device))

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def rate(step) -> float:
        sync()
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
        return steps * batch / (time.perf_counter() - t0)

    for _ in range(2):  # warm-up: allocator, oneDNN kernels, compilation
        trainer.train_step()
        plain()
    flops = flops_per_image(trainer, batch)
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(rate(trainer.train_step))
        theirs.append(rate(plain))
    return {"gankit": statistics.median(ours), "plain": statistics.median(theirs),
            "flops": flops}


MEMORY_PROBE = """
import json, resource, sys, torch
from gankit.cli import main
import gankit.training.run, gankit.metrics  # the imports a run needs, before the baseline
base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
code = main(sys.argv[1:])
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
cuda_mb = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None
print(json.dumps({"code": code, "rss_mb": rss_mb, "base_mb": base_mb, "cuda_mb": cuda_mb}))
"""


def peak_memory(preset: str, device: str, tmp: Path) -> dict:
    """Peak resident memory of `gankit train --preset P` for a few steps, in its own process."""
    sets = ["train.steps=5", "train.eval_every=0", "train.time_limit=0", f"train.device={device}"]
    if preset in ("dcgan64-folder",):
        folder = tmp / "images"
        if not folder.exists():
            from PIL import Image
            folder.mkdir(parents=True)
            g = torch.Generator().manual_seed(0)
            for i in range(256):
                pixels = (torch.rand(64, 64, 3, generator=g) * 255).byte().numpy()
                Image.fromarray(pixels).save(folder / f"{i}.png")
        sets.append(f"data.path={folder}")
    if preset in ("dcgan-fashion", "sngan-fashion", "cdcgan-fashion", "vae-fashion"):
        sets.append(f"data.path={FASHION}")
    args = ["train", "--preset", preset, "--out", str(tmp / f"run-{preset}")]
    for s in sets:
        args += ["--set", s]
    p = subprocess.run([sys.executable, "-c", MEMORY_PROBE, *args], capture_output=True,
                       text=True)
    lines = [line for line in p.stdout.splitlines() if line.startswith("{")]
    if p.returncode != 0 or not lines:
        return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(lines[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads, 0: torch's default")
    ap.add_argument("--steps", type=int, default=5, help="steps per timed round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--memory", action="store_true", help="also record every preset's peak memory")
    ap.add_argument("--no-speed", action="store_true", help="skip the timing (with --memory)")
    ap.add_argument("--ablate", nargs="?", const=ABLATIONS, default="",
                    help="also time gankit's DCGAN-28 step with each of these comma-separated "
                    f"overrides (default: {ABLATIONS})")
    ap.add_argument("--whole", action="store_true", help="whole command vs the plain script")
    ap.add_argument("--whole-steps", default="300,3000", help="step counts for --whole")
    ap.add_argument("--whole-presets", default="dcgan-course-exact,mlp-mnist")
    ap.add_argument("--pairs", type=int, default=3, help="rounds for --whole")
    ap.add_argument("--whole-sides", default="gankit,lean,course",
                    help="racers for --whole: gankit, lean (lean_dcgan.py), course (plain_dcgan.py)")
    ap.add_argument("--breakdown", action="store_true",
                    help="where a whole run's time goes (--whole-presets, --whole-steps)")
    ap.add_argument("--breakdown-child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--section", default="",
                    help="docs/benchmarks.md section for --whole (default speed-whole[-busy])")
    ap.add_argument("--whole-merge", action="store_true", help="with --record: replace only "
                    "the rows of these presets, steps and setting in the recorded table")
    ap.add_argument("--whole-busy", action="store_true",
                    help="--whole beside a CPU-bound process")
    ap.add_argument("--shared", action="store_true", help="images/s alone and beside a busy process")
    ap.add_argument("--shared-presets", default="", help="comma list (default: every preset)")
    ap.add_argument("--shared-steps", type=int, default=60)
    ap.add_argument("--layout", action="store_true",
                    help="each DCGAN preset's step with and without channels_last")
    ap.add_argument("--startup", action="store_true",
                    help="gankit --help and a one-step gankit train against import torch")
    ap.add_argument("--record", action="store_true", help="write the table into docs/benchmarks.md")
    args = ap.parse_args()
    if args.breakdown_child:
        preset, steps, out = args.breakdown_child
        return breakdown_child(preset, int(steps), out)
    if args.threads:
        torch.set_num_threads(args.threads)
    name = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device
    device = torch.device("cpu" if name == "auto" else name)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else machine()

    if not args.no_speed:
        record_speed(args, device, where)
    if args.memory:
        record_memory(args, device)
    if args.whole:
        record_whole(args)
    if args.breakdown:
        record_breakdown(args)
    if args.shared:
        record_shared(args)
    if args.startup:
        record_startup(args)
    if args.layout:
        record_layout(args, device)


def timed_child(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float, str]:
    """(wall s, CPU s, stdout) of one child process, start to exit (the user's environment
    unless `env`); a failure stops the benchmark with the child's last lines."""
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env or USER_ENV, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        tail = "\n".join(p.stderr.strip().splitlines()[-15:])
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{tail}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), p.stdout


def median_img_per_s(run_dir: Path) -> float:
    """Median training images/s of a run's stats.jsonl windows after the first (warm-up)."""
    rates = [rec["img_per_s"] for rec in rundir.read_jsonl(run_dir / rundir.STATS)
             if "img_per_s" in rec]
    return statistics.median(rates[1:] or rates)


def publish(args, section: str, text: str, table: str) -> None:
    """Print a table; with --record, write it into docs/benchmarks.md after the command and
    the machine and `text`."""
    print(table)
    if args.record:
        record(section, f"Command: `python benchmarks/{Path(sys.argv[0]).name} "
               f"{' '.join(sys.argv[1:])}`. Machine: {machine()}. {text}\n\n{table}")


FOLDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "emoji-64"


def whole_commands(preset: str, steps: int, tmp: Path, sides: list[str]) -> list[tuple]:
    """(side, argv) of each racer: `gankit train` with everything it writes; the lean twin
    (benchmarks/lean_dcgan.py, pytorch/examples' loop); the course's loop (plain_dcgan.py,
    MNIST presets only)."""
    here = Path(__file__).parent
    folder = load_preset(preset).data.name == "folder"
    cmds = {"gankit": [str(Path(sys.executable).parent / "gankit"), "train", "--preset", preset,
                       "--set", f"train.steps={steps}", "--set", "train.time_limit=0",
                       "--out", str(tmp / "run")]
                      + (["--set", f"data.path={FOLDER}"] if folder else []),
            "lean": [sys.executable, str(here / "lean_dcgan.py"), "--preset", preset, "--steps",
                     str(steps), "--out", str(tmp / "lean.png")]
                    + (["--data", str(FOLDER)] if folder else []),
            "course": [sys.executable, str(here / "plain_dcgan.py"), "--preset", preset,
                       "--steps", str(steps), "--out", str(tmp / "plain.png")]}
    return [(side, cmds[side]) for side in sides if not (side == "course" and folder)]


SIDES = ("gankit", "lean", "course")


def record_whole(args) -> None:
    """Whole processes raced in rounds; each round starts with the next side (gankit, lean,
    course, then lean, course, gankit, ...), so a slow spell of the machine hits each alike.
    With --whole-busy every round runs beside one CPU-bound process."""
    import tempfile
    sides = args.whole_sides.split(",")
    section = args.section or ("speed-whole-busy" if args.whole_busy else "speed-whole")
    rows = []
    for preset in args.whole_presets.split(","):
        for steps in [int(s) for s in args.whole_steps.split(",")]:
            walls = {}
            for pair in range(args.pairs):
                other = busy() if args.whole_busy else None
                try:
                    with tempfile.TemporaryDirectory() as tmp:
                        racers = whole_commands(preset, steps, Path(tmp), sides)
                        shift = pair % len(racers)
                        for side, cmd in racers[shift:] + racers[:shift]:
                            walls.setdefault(side, []).append(timed_child(cmd, Path(tmp))[0])
                finally:
                    if other is not None:
                        other.kill()
                print(preset, steps, "round", pair, {k: round(v[-1], 1) for k, v in walls.items()},
                      flush=True)
            med = {side: statistics.median(v) for side, v in walls.items()}
            ratio = lambda side: f"**{med[side] / med['gankit']:.2f}x**" if side in med else "-"
            rows.append([f"`{preset}`", steps, "busy process" if args.whole_busy else "alone",
                         f"{med['gankit']:.1f}",
                         *(f"{med[s]:.1f}" if s in med else "-" for s in ("lean", "course")),
                         ratio("lean"), ratio("course"),
                         " / ".join(":".join(f"{walls[s][i]:.0f}" for s in SIDES if s in walls)
                                    for i in range(args.pairs))])
            if args.record and args.whole_merge:  # each row as it comes; the others are kept
                record_rows(section, rows[-1:], f"Rows of {preset} at {steps} steps "
                            f"({':'.join(walls)}) rerun on {time.strftime('%Y-%m-%d')}: "
                            f"`python benchmarks/speed.py {' '.join(sys.argv[1:])}`.", key_cells=3)
    table = markdown_table(["preset", "steps", "beside", "gankit s", "lean loop s",
                            "course loop s", "lean / gankit", "course / gankit",
                            "rounds (wall s, gankit:lean[:course])"], rows)
    if args.whole_merge:
        print(table)
        return
    publish(args, section,
            f"Whole processes, wall seconds, medians of {args.pairs} rounds in rotating order"
            + (", each beside one CPU-bound process (`while True: pass`)" if args.whole_busy
               else ", alone on the machine")
            + "; gankit with its preset's defaults (health monitor, sample grids, checkpoints, "
            "report), the lean loop (benchmarks/lean_dcgan.py: pytorch/examples' style) and "
            "the course's loop (benchmarks/plain_dcgan.py) with torch's defaults (threads, "
            "OpenMP wait, Adam) and torch's own layers (`as_torch_layers`).", table)


# Where a run's time goes: (label, [(file, function), ...]) whose cumulative wall time cProfile
# gives; a label's functions are never nested in one another. The step's parts are the
# trainer's own methods (gankit.training.gan), so the profile names what the code names.
PARTS = [
    ("data: load the images", [("config.py", "load")]),
    ("build: G, D, optimisers, fixed noise", [("loop.py", "__init__")]),
    ("step: D update", [("gan.py", "update_d")]),
    ("step: G update", [("gan.py", "update_g")]),
    ("step: statistics", [("gan.py", "statistics")]),
    ("step: EMA of G", [("swa_utils.py", "update_parameters")]),
    ("step: the rest (batches, loop bookkeeping)", [("gan.py", "train_step")]),
    ("log: the collector's read, the health signs", [("stats.py", "read"),
                                                     ("health.py", "observe")]),
    ("health probes (sample diversity)", [("health.py", "probe")]),
    ("sample grids", [("loop.py", "save_samples")]),
    ("checkpoints (snapshot + state.pt)", [("loop.py", "save_checkpoint")]),
    ("the report (HTML page, timeline GIF)", [("__init__.py", "write_report")]),
]


def breakdown_child(preset: str, steps: int, out: str) -> None:
    """In the child process: `gankit train` in-process under cProfile; prints one JSON line
    of seconds per part of PARTS (the step's parts taken out of the step's total)."""
    import cProfile
    import pstats
    from gankit import cli
    argv = ["train", "--preset", preset, "--set", f"train.steps={steps}", "--set",
            "train.time_limit=0", "--out", out]
    if load_preset(preset).data.name == "folder":
        argv += ["--set", f"data.path={FOLDER}"]
    prof = cProfile.Profile()
    t1 = time.perf_counter()
    prof.runcall(cli.main, argv)
    inside = time.perf_counter() - t1
    cumulative = {}
    for (file, _, func), (_, _, _, ct, _) in pstats.Stats(prof).stats.items():
        key = (Path(file).name, func)
        cumulative[key] = cumulative.get(key, 0.0) + ct
    parts = {label: sum(cumulative.get(k, 0.0) for k in keys) for label, keys in PARTS}
    step_parts = [label for label in parts if label.startswith("step: ") and "rest" not in label]
    rest = "step: the rest (batches, loop bookkeeping)"
    parts[rest] -= sum(parts[label] for label in step_parts)
    parts["other (config, run directory, between the parts)"] = inside - sum(
        parts.values())
    print(json.dumps(parts))


def record_breakdown(args) -> None:
    """Each preset's whole `gankit train` in a child process under cProfile: the parts of
    PARTS, the interpreter's start and torch's import (the child's wall time less what it
    measured itself), as seconds and shares of the whole."""
    import tempfile
    rows = []
    for preset in args.whole_presets.split(","):
        for steps in [int(s) for s in args.whole_steps.split(",")]:
            with tempfile.TemporaryDirectory() as tmp:
                # the child imports torch before gankit: give it the wait gankit would set
                env = {**USER_ENV, "OMP_WAIT_POLICY": USER_ENV.get("OMP_WAIT_POLICY", "PASSIVE")}
                wall, _, out = timed_child([sys.executable, __file__, "--breakdown-child", preset,
                                            str(steps), str(Path(tmp) / "run")], Path(tmp), env)
            parts = json.loads(out.strip().splitlines()[-1])
            parts = {"start-up: python, torch and gankit imports": wall - sum(parts.values()),
                     **parts}
            for label, sec in parts.items():
                rows.append([f"`{preset}`", steps, label, f"{sec:.2f}", f"{100 * sec / wall:.1f}"])
            rows.append([f"`{preset}`", steps, "**whole process**", f"{wall:.2f}", "100"])
            print(*rows[-len(parts) - 1:], sep="\n", flush=True)
    publish(args, "speed-breakdown", "Where the time of one whole `gankit train` process goes "
            "(wall seconds, one run each, alone), from cProfile's cumulative times of the "
            "functions named in benchmarks/speed.py's PARTS; the profiler's own cost, about "
            "a microsecond per Python call, is inside the step's rows.",
            markdown_table(["preset", "steps", "part", "s", "% of the whole"], rows))


def record_layout(args, device: torch.device) -> None:
    """gankit's training step of every DCGAN preset with train.channels_last false and true,
    in alternating rounds (ms per step, median), at the benchmark's thread count."""
    rows = []
    for preset in preset_names():
        cfg = load_preset(preset)
        if not cfg.model.name.startswith("dcgan") or cfg.data.name not in ("mnist", "fashion"):
            continue
        extra = [f"data.path={FASHION}"] if cfg.data.name == "fashion" else []
        data = apply_overrides(cfg, extra).data.load(seed=0)
        trainers = {}
        for layout in ("false", "true"):
            torch.manual_seed(0)
            trainers[layout] = Trainer(apply_overrides(cfg, extra + [f"train.channels_last={layout}"]),
                                       data, device)
            for _ in range(3):  # warm-up
                trainers[layout].train_step()
        ms = {layout: [] for layout in trainers}
        for _ in range(args.rounds):
            for layout, trainer in trainers.items():
                t0 = time.perf_counter()
                for _ in range(args.steps):
                    trainer.train_step()
                ms[layout].append(1000 * (time.perf_counter() - t0) / args.steps)
        off, on = statistics.median(ms["false"]), statistics.median(ms["true"])
        rows.append([f"`{preset}`", cfg.train.batch_size, f"{off:.1f}", f"{on:.1f}", f"{off / on:.2f}x"])
        print(rows[-1], flush=True)
    table = markdown_table(["preset", "batch", "ms/step contiguous", "ms/step channels_last",
                            "speed-up"], rows)
    publish(args, "speed-layout", f"gankit's training step, median of {args.rounds} alternating "
            f"rounds of {args.steps} steps.", table)


def record_startup(args) -> None:
    """Wall seconds of `import torch`, a one-step `gankit train` of the default preset (data,
    models, one step, sample grid, health check, checkpoint, report) and `gankit --help`, as
    processes in alternating rounds; the train row also as seconds beyond import torch."""
    import tempfile
    gankit = str(Path(sys.executable).parent / "gankit")
    commands = {"python -c 'import torch'": [sys.executable, "-c", "import torch"],
                "gankit train --set train.steps=1": [gankit, "train", "--set", "train.steps=1"],
                "gankit --help": [gankit, "--help"]}
    times = {label: [] for label in commands}
    for _ in range(args.rounds):
        for label, cmd in commands.items():
            with tempfile.TemporaryDirectory() as tmp:
                run = cmd + (["--out", str(Path(tmp) / "run")] if "train" in cmd else [])
                times[label].append(timed_child(run, Path(tmp))[0])
    base = statistics.median(times["python -c 'import torch'"])
    rows = [[f"`{label}`", f"{statistics.median(t):.2f}",
             f"{statistics.median(t) - base:+.2f}" if "train" in label else "",
             " / ".join(f"{x:.2f}" for x in t)] for label, t in times.items()]
    table = markdown_table(["command", "median wall s", "beyond import torch", "rounds"], rows)
    publish(args, "speed-startup", f"Whole processes, {args.rounds} alternating rounds, median.",
            table)


def busy() -> subprocess.Popen:
    """A competing CPU-bound process (one core), as another user's job would be."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def images_per_s(preset: str, steps: int, threads: int, wait: str, tmp: Path) -> float:
    """Median training images/s of a short run, from its stats.jsonl. `threads` 0 is the
    preset's own setting; `wait` the OpenMP wait policy: "" is libgomp's default, a 300,000-turn
    spin before each sleep (what a plain script gets), "PASSIVE" with gankit's own spin count
    (gankit.threads)."""
    out = tmp / f"run-{preset}-{threads}-{time.monotonic_ns()}"
    cmd = [str(Path(sys.executable).parent / "gankit"), "train", "--preset", preset, "--out",
           str(out), "--set", f"train.steps={steps}", "--set", f"train.log_every={steps // 3}",
           "--set", "train.report=false", "--set", "health.every=0", "--set", "train.time_limit=0",
           "--set", f"train.sample_every={steps}"]
    if threads:
        cmd += ["--set", f"train.threads={threads}"]
    if preset in ("dcgan-fashion", "cdcgan-fashion", "sngan-fashion", "vae-fashion"):
        cmd += ["--set", f"data.path={FASHION}"]
    if load_preset(preset).data.name == "folder":  # a user's folder: the emoji one stands in
        cmd += ["--set", f"data.path={FOLDER}"]
    env = {**USER_ENV, "OMP_WAIT_POLICY": wait}
    if not wait:  # or gankit would set its own spin count (gankit.threads)
        env["GOMP_SPINCOUNT"] = "300000"
    timed_child(cmd, tmp, env)
    return median_img_per_s(out)


def record_shared(args) -> None:
    import tempfile
    presets = args.shared_presets.split(",") if args.shared_presets else preset_names()
    cores = len(os.sched_getaffinity(0))
    settings = ((0, "PASSIVE", "preset's own (auto: brief spin, every free core)"),
                (1, "PASSIVE", "one thread"),
                (cores, "", f"{cores} threads, libgomp's default wait (a plain script's)"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for preset in presets:
            own = load_preset(preset).train.threads
            for threads, wait, label in settings:
                if own and threads == 0:
                    label = f"preset's own ({own} thread{'s' * (own > 1)})"
                alone = images_per_s(preset, args.shared_steps, threads, wait, Path(tmp))
                other = busy()
                try:
                    shared = images_per_s(preset, args.shared_steps, threads, wait, Path(tmp))
                finally:
                    other.kill()
                rows.append([f"`{preset}`", label, f"{alone:.0f}", f"{shared:.0f}",
                             f"{shared / alone:.2f}"])
                print(rows[-1], flush=True)
    table = markdown_table(["preset", "threads", "alone img/s", "beside a busy process img/s",
                            "kept"], rows)
    if args.shared_presets and args.record:  # a few presets rerun: their rows only
        print(table)
        record_rows("speed-shared", rows, f"Rows of {', '.join(presets)} rerun on "
                    f"{time.strftime('%Y-%m-%d')} (`python benchmarks/speed.py "
                    f"{' '.join(sys.argv[1:])}`), the others as recorded above.")
        return
    publish(args, "speed-shared", "Training images/s (median of the logged windows after the "
            "first) of each preset alone, then beside one CPU-bound process (`while True: "
            "pass`), with the preset's own thread setting (train.threads=0: auto, every core "
            "with a 30,000-turn spin before a thread sleeps, one thread fewer for each core "
            "other processes keep busy; see gankit/threads.py), with one "
            f"thread, and with {cores} threads and libgomp's default wait, as a plain script "
            "runs.", table)


def record_speed(args, device: torch.device, where: str) -> None:
    peak, peak_dtype = matmul_peak(device)  # measured again at the end; the larger counts
    cases = [(label, preset, batch, PAPER_WIDTH if preset == "dcgan64-folder" else ())
             for label, preset, batch in CASES]
    if args.ablate:
        cases += [(f"DCGAN-28 + {s}", "dcgan-course-exact", 128, (s,))
                  for s in args.ablate.split(",")]
    results = []
    for label, preset, batch, extra in cases:
        results.append((label, preset, batch,
                        time_case(preset, batch, device, args.steps, args.rounds, extra)))
        print(label, results[-1][-1], flush=True)
    peak = max(peak, matmul_peak(device)[0])
    rows = []
    for label, preset, batch, r in results:
        achieved = r["gankit"] * r["flops"]
        rows.append([label, f"`{preset}`", batch, f"{r['gankit']:.0f}", f"{r['plain']:.0f}",
                     f"{r['gankit'] / r['plain']:.2f}x", f"{r['flops'] / 1e6:.1f}",
                     f"{achieved / 1e9:.1f}", f"{100 * achieved / peak:.1f} %"])
    table = markdown_table(["model", "preset", "batch", "gankit img/s", "plain loop img/s",
                            "ratio", "MFLOP/img/step", "gankit GFLOP/s",
                            f"of measured {peak_dtype} matmul peak"], rows)
    print(table)
    body = (f"Command: `python benchmarks/speed.py {' '.join(sys.argv[1:])}`. Device: {where}; "
            f"median of {args.rounds} alternating rounds of {args.steps} steps. FLOPs per image "
            "per step (forward and backward of D's and G's updates) counted by "
            "`torch.utils.flop_counter.FlopCounterMode`; the matmul peak was measured here "
            f"({peak / 1e9:.0f} GFLOP/s, {peak_dtype}).\n\n{table}")
    if args.record:
        record("speed-cuda" if device.type == "cuda" else "speed-cpu", body)


def record_memory(args, device: torch.device) -> None:
    import tempfile
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for preset in preset_names():
            m = peak_memory(preset, device.type, Path(tmp))
            if "error" in m:
                rows.append([f"`{preset}`", m["error"], "", "", ""])
            else:
                cuda = f"{m['cuda_mb']:.0f}" if m.get("cuda_mb") else ""
                rows.append([f"`{preset}`", f"{m['rss_mb']:.0f}", f"{m['base_mb']:.0f}",
                             f"{m['rss_mb'] - m['base_mb']:.0f}", cuda])
            print(rows[-1], flush=True)
    table = markdown_table(["preset", "peak resident MB", "after imports MB",
                            "training adds MB", "peak CUDA MB"], rows)
    print(table)
    body = (f"Command: `python benchmarks/speed.py {' '.join(sys.argv[1:])}`. Peak memory of "
            "`gankit train --preset P --set train.steps=5` in its own process: the whole "
            "process's peak resident set, the same after importing torch and gankit (the "
            "baseline), and the difference, which is what the preset's data, models, "
            f"optimisers and first steps add.\n\n{table}")
    if args.record:
        record("memory-cuda" if device.type == "cuda" else "memory-cpu", body)


if __name__ == "__main__":
    main()
