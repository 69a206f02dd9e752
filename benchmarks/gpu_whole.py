"""Whole-command DCGAN-64 on a GPU: `gankit train` against pytorch/examples' dcgan/main.py.

    python benchmarks/gpu_whole.py                          # fp32 and fast, 300 and 3000 steps
    python benchmarks/gpu_whole.py --variant fast --steps 300,3000 --pairs 3 --record

Needs a lent GPU: without CUDA it refuses (exit 2) unless `--allow-cpu` asks for a smoke test.

It writes `--n-images` (2048) seeded random 64x64 RGB PNGs into a temporary folder once
(IMGS/all/*.png: torchvision's ImageFolder reads IMGS, one class; gankit's folder source
reads IMGS/all, no classes: the same files), then times whole processes, start to exit, in
alternating pairs (median of `--pairs`):

  plain   python benchmarks/plain_dcgan64.py --steps S --data IMGS  (main.py's loop, fp32,
          ImageFolder and a 2-worker DataLoader, the same gankit-built layers)
  gankit  gankit train --preset dcgan64-folder --set data.path=IMGS/all --set train.steps=S
          --set train.time_limit=0 --out RUN, plus the variant's settings:
            fp32  nothing more (the preset's defaults)
            fast  train.precision=bf16, train.channels_last=true, train.compile=true
                  (torch.compile's default mode, inside the timed command)

Wall seconds by perf_counter, CPU seconds (user + system) by getrusage(RUSAGE_CHILDREN).
Images/s: gankit's, the median `img_per_s` of its stats.jsonl windows after the first (the
first holds the warm-up and, for `fast`, the compilation); the plain script's, what it prints
(the steps after its first). The share of the GPU's bf16 matrix rate is FLOPs per image of
one training step, counted from the layer shapes by torch.utils.flop_counter.FlopCounterMode
on gankit's fp32 step (the work a DCGAN step needs; main.py's loop also computes D's weight
gradients in G's update, which the body reports but the share does not count), times the
images/s, over the bf16 matrix-product rate measured here (speed.matmul_peak, 8192^3, the
larger of a measurement before and after the runs). Both sides' shares use the same FLOPs.

Time: on an H100 a 3000-step run takes of the order of a minute, so the defaults (2 variants
x 2 step counts x 3 pairs x 2 commands) need well over 10 minutes; within one 10-minute
command run one variant at a time, or `--pairs 1`.
"""

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path

import torch  # before gankit (through speed): gankit then leaves OpenMP's settings alone

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from record import machine, markdown_table, record  # noqa: E402
from speed import flops_per_image, make_data, matmul_peak, median_img_per_s, timed_child  # noqa: E402

VARIANTS = {
    "fp32": [],
    "fast": ["train.precision=bf16", "train.channels_last=true", "train.compile=true"],
}
PRESET = "dcgan64-folder"
# The preset is 16 wide for a CPU: both sides race the paper's 64-wide networks, as
# plain_dcgan64.py builds them.
PAPER_WIDTH = ["model.g_hidden=64", "model.d_hidden=64", "loss.r1_gamma=0"]


def write_images(root: Path, n: int, seed: int = 0) -> Path:
    """n seeded random 64x64 RGB PNGs in root/all/; returns root (ImageFolder's root)."""
    import numpy as np
    from PIL import Image
    folder = root / "all"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(
            folder / f"{i:05d}.png")
    return root


def plain_rate(stdout: str) -> float:
    m = re.search(r"steps in [\d.]+ s, ([\d.]+) img/s", stdout)
    if not m:
        sys.exit(f"no img/s in plain_dcgan64.py's output: {stdout.strip()!r}")
    return float(m.group(1))


def step_flops(device: torch.device, batch: int) -> tuple[float, float]:
    """FLOPs per image of one training step, counted from the layer shapes: (gankit's fp32
    step, the plain script's step), at batch `batch`."""
    from torch.utils.flop_counter import FlopCounterMode

    import plain_dcgan64
    from gankit.config import apply_overrides, load_preset
    from gankit.training.gan import GANTrainer

    cfg = apply_overrides(load_preset(PRESET), [f"train.batch_size={batch}", *PAPER_WIDTH])
    data = make_data(PRESET)
    torch.manual_seed(0)
    ours = flops_per_image(GANTrainer(cfg, data, device), batch)
    nets = plain_dcgan64.build(device)
    with FlopCounterMode(display=False) as counter:
        plain_dcgan64.train_step(*nets, data.images[:batch].to(device))
    return ours, counter.get_total_flops() / batch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--variant", default="fp32,fast", help=f"comma list of {', '.join(VARIANTS)}")
    ap.add_argument("--steps", default="300,3000", help="comma list of step counts")
    ap.add_argument("--pairs", type=int, default=3, help="alternating pairs per row (median)")
    ap.add_argument("--n-images", type=int, default=2048, help="random PNGs written once")
    ap.add_argument("--batch", type=int, default=64, help="both sides' batch (main.py: 64)")
    ap.add_argument("--workers", type=int, default=2, help="the plain script's DataLoader workers")
    ap.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"))
    ap.add_argument("--gankit-set", action="append", default=[], metavar="KEY=VALUE",
                    help="one more --set for gankit train (repeatable)")
    ap.add_argument("--allow-cpu", action="store_true", help="run without CUDA (a smoke test)")
    ap.add_argument("--record", action="store_true", help="write the table into docs/benchmarks.md")
    args = ap.parse_args()
    if not torch.cuda.is_available() and not args.allow_cpu:
        print("gpu_whole.py: no CUDA device (torch.cuda.is_available() is False); run it on a "
              "lent GPU, or pass --allow-cpu for a smoke test", file=sys.stderr)
        sys.exit(2)
    variants = args.variant.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        ap.error(f"unknown --variant {', '.join(unknown)}: choose from {', '.join(VARIANTS)}")
    steps_list = [int(s) for s in args.steps.split(",")]
    name = args.device
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else machine()

    peak = None
    if device.type == "cuda":
        peak = matmul_peak(device)[0]
    flops, plain_flops = step_flops(device, args.batch)
    if device.type == "cuda":
        torch.cuda.empty_cache()  # the children get the GPU's memory
    print(f"{where}: {flops / 1e9:.2f} GFLOP/img/step (gankit), {plain_flops / 1e9:.2f} "
          f"(plain)" + (f", bf16 matmul {peak / 1e12:.0f} TFLOP/s" if peak else ""), flush=True)

    gankit = str(Path(sys.executable).parent / "gankit")
    plain = str(HERE / "plain_dcgan64.py")
    results = []
    with tempfile.TemporaryDirectory() as tmp_root:
        tmp = Path(tmp_root)
        imgs = write_images(tmp / "imgs", args.n_images)
        for variant in variants:
            for steps in steps_list:
                g_runs, p_runs = [], []
                for pair in range(args.pairs):
                    run_dir, png = tmp / f"run-{variant}-{steps}-{pair}", tmp / "plain.png"
                    g_cmd = [gankit, "train", "--preset", PRESET, "--out", str(run_dir)]
                    for s in [f"data.path={imgs / 'all'}", f"train.steps={steps}",
                              "train.time_limit=0", f"train.batch_size={args.batch}",
                              f"train.device={name}", *PAPER_WIDTH, *VARIANTS[variant],
                              *args.gankit_set]:
                        g_cmd += ["--set", s]
                    p_cmd = [sys.executable, plain, "--steps", str(steps), "--data", str(imgs),
                             "--batch", str(args.batch), "--workers", str(args.workers),
                             "--device", name, "--out", str(png)]
                    order = [("gankit", g_cmd), ("plain", p_cmd)]
                    for side, cmd in (order if pair % 2 == 0 else order[::-1]):
                        wall, cpu, out = timed_child(cmd, tmp)
                        if side == "gankit":
                            g_runs.append((wall, cpu, median_img_per_s(run_dir)))
                        else:
                            p_runs.append((wall, cpu, plain_rate(out)))
                    print(variant, steps, "pair", pair, "gankit (wall, CPU, img/s)",
                          g_runs[-1], "plain", p_runs[-1], flush=True)
                results.append((variant, steps, g_runs, p_runs))
    if device.type == "cuda":
        peak = max(peak, matmul_peak(device)[0])

    def share(rate: float) -> str:
        return f"{100 * rate * flops / peak:.1f} %" if peak else "n/a (no GPU)"

    rows = []
    for variant, steps, g_runs, p_runs in results:
        gw, gc, gr = (statistics.median(x) for x in zip(*g_runs))
        pw, pc, pr = (statistics.median(x) for x in zip(*p_runs))
        rows.append([variant, steps, f"{gw:.1f}", f"{pw:.1f}", f"{pw / gw:.2f}x", f"{gc:.1f}",
                     f"{pc:.1f}", f"{gr:.0f}", f"{pr:.0f}", share(gr), share(pr)])
    table = markdown_table(["variant", "steps", "gankit wall s", "plain wall s",
                            "speed (plain / gankit wall)", "gankit CPU s", "plain CPU s",
                            "gankit img/s", "plain img/s", "gankit share of bf16 peak",
                            "plain share of bf16 peak"], rows)
    print(table)
    if args.record:
        peak_text = f"{peak / 1e12:.0f} TFLOP/s" if peak else "not measured (no GPU)"
        record("speed-gpu-whole",
               f"Command: `python benchmarks/gpu_whole.py {' '.join(sys.argv[1:])}`. "
               f"Device: {where}, torch {torch.__version__}. Whole processes, medians of "
               f"{args.pairs} alternating pairs, on {args.n_images} random 64x64 PNGs: "
               f"`gankit train --preset {PRESET}` (fp32: the preset's defaults; fast: "
               "train.precision=bf16, train.channels_last=true, train.compile=true) against "
               "`benchmarks/plain_dcgan64.py` (pytorch/examples' dcgan/main.py loop in fp32 "
               f"with the same layers, {args.workers} DataLoader workers). img/s: gankit's "
               "stats.jsonl windows after the first, the plain script's steps after its first. "
               f"Share: {flops / 1e9:.2f} GFLOP per image per step (gankit's step, counted "
               "by FlopCounterMode from the layer shapes; the plain loop's step computes "
               f"{plain_flops / 1e9:.2f}) times img/s over the measured bf16 matmul rate "
               f"({peak_text}).\n\n{table}")


if __name__ == "__main__":
    main()
