"""Video generation: the shipped TGAN's per-frame FID, identity consistency and motion.

Generates N clips from seed 123 (as `gankit eval` does) and measures them against N real
Moving MNIST clips of the same shape, synthesised from the held-out test digits:
per-frame FID in the frame evaluator's feature space beside the real-vs-real floor (a
second, independent set of N real clips), identity consistency beside the real clips',
and motion (ink centre, pixels per frame) beside the real clips'. With --record it writes
the table into docs/benchmarks.md and 16 clips into docs/video-samples.gif.

    python benchmarks/video.py [--pretrained moving-mnist-tgan | RUN_DIR] [--n 1000] [--record]
    python benchmarks/video.py --ceiling [--n 1000] [--record]

--ceiling measures what a G that moves one drawn digit could reach at best: the digits of the
held-out test split and of each shipped image generator, resized to the 32 x 32 clips'
14 pixels and moved along real Moving MNIST trajectories, through the same identity
consistency (a G that moves its content is judged on its content alone once it moves like
the data).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import DOC, machine, markdown_table, record  # noqa: E402

from gankit import pretrained  # noqa: E402
from gankit.artifacts import read_card  # noqa: E402
from gankit.data.video import DIGIT_SHARE, digit_bank, trajectories  # noqa: E402
from gankit.generator import load  # noqa: E402
from gankit.metrics import evaluate  # noqa: E402
from gankit.metrics.video import identity_consistency, judge_frames, load_frame_evaluator  # noqa: E402
from gankit.models.video import centre, translate  # noqa: E402
from gankit.video import save_clips_gif  # noqa: E402

GIF = DOC.parent / "video-samples.gif"


def ceiling(n: int, size: int = 32, frames: int = 16) -> list[list]:
    """Identity consistency of n digits from each source moved along real trajectories."""
    d = round(DIGIT_SHARE * size)
    corners = torch.from_numpy(trajectories(n, frames, size - d, np.random.default_rng(0)))
    shift = (corners.float() - (size - d) // 2).flip(-1) / (size / 2)  # (n, T, 2) (x, y)
    net, _ = load_frame_evaluator()
    bank, _ = digit_bank(size, "test")
    sources = {"held-out MNIST digits": torch.from_numpy(bank[:n]).float().unsqueeze(1) / 127.5 - 1}
    for name in pretrained.names():
        card = read_card(pretrained.snapshot_path(name), kind="generator")
        if len(card["data_shape"]) == 3 and card.get("data", {}).get("name") == "mnist":
            sources[f"`{name}`"] = load(None, name).generate(n, seed=0)  # balanced classes
    rows = []
    for name, digits in sources.items():
        content = centre(digits[:n], d, size)                         # (n, 1, size, size)
        probs = judge_frames(net, translate(content, shift))["probs"]
        rows.append([name, f"{100 * identity_consistency(probs):.1f} %"])
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", nargs="?", help="a run directory or snapshot")
    p.add_argument("--pretrained", help="a shipped generator (default moving-mnist-tgan)")
    p.add_argument("--n", type=int, default=1000, help="clips generated (and real clips per set)")
    p.add_argument("--record", action="store_true",
                   help="write the table into docs/benchmarks.md and docs/video-samples.gif")
    p.add_argument("--ceiling", action="store_true",
                   help="identity consistency of real and shipped generators' digits moved "
                        "along real trajectories")
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.ceiling:
        start = time.perf_counter()
        table = markdown_table(["digits moved along real trajectories", "identity consistency"],
                               ceiling(args.n))
        print(table)
        if args.record:
            record("video-ceiling", f"""## What moving one digit can reach (`python benchmarks/video.py {' '.join(sys.argv[1:])}`)

{args.n:,} digits from each source, resized to the 32 x 32 clips' 14 pixels, centred and moved
by whole pixels along {args.n:,} real Moving MNIST trajectories (16 frames), then judged by the
frame evaluator like any generated clip. A generator that moves one drawn digit
(`model.motion=warp`) can at best score its digits' row once it moves like the data; the
conditional generators draw the ten classes equally often.

{table}

Machine: {machine()}; {time.perf_counter() - start:.0f} s.
""")
        return
    pretrained = args.pretrained or (None if args.source else "moving-mnist-tgan")
    g = load(args.source, pretrained)
    start = time.perf_counter()
    m = evaluate(g, None, ["frame_fid", "identity", "motion"], n=args.n)["metrics"]
    seconds = time.perf_counter() - start
    c, t, h, w = g.data_shape
    card = g.card.get("card", {})
    rows = [["per-frame FID", f"{m['frame_fid']:.2f}", f"{m['frame_fid_real']:.2f} (real vs real)"],
            ["identity consistency", f"{100 * m['identity']:.1f} %",
             f"{100 * m['identity_real']:.1f} %"],
            ["motion (ink centre, px/frame)", f"{m['motion']:.2f}", f"{m['motion_real']:.2f}"]]
    table = markdown_table(["measure", "generated", "real clips"], rows)
    print(table)
    print(f"({args.n} clips of {t} frames of {h}x{w}; {seconds:.0f} s)")
    if args.record:
        save_clips_gif(g.generate(16, seed=0), GIF)
        what = pretrained or args.source
        trained = (f"{card['steps']:,} steps ({card['kimg']:g} kimg, "
                   f"{card['wall_time_s'] / 60:.0f} min on one CPU thread) of "
                   f"`{card['preset']}`" if card else f"step {g.card.get('step')}")
        record("video", f"""## Video generation (`python benchmarks/video.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}`)

`{what}`: {trained}. {args.n:,} generated clips (seed 123) against {args.n:,} real Moving
MNIST clips of the same shape ({t} frames of {h}x{w}) made from the held-out test digits;
the floor is a second, independent set of {args.n:,} real clips. Per-frame FID is in the
Moving MNIST frame evaluator's feature space (`scripts/train_video_evaluator.py`); identity
consistency is the share of clips whose predicted digit set is one non-empty set in every
frame; motion is the mean frame-to-frame move of the ink's centre of mass. Samples:
[docs/video-samples.gif](video-samples.gif) (16 clips, seed 0).

{table}

Machine: {machine()}; {seconds:.0f} s.
""")
        print(f"wrote {GIF}")


if __name__ == "__main__":
    main()
