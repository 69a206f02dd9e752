"""Video generation: the shipped TGAN's per-frame FID, identity consistency and motion.

Generates N clips from seed 123 (as `gankit eval` does) and measures them against N real
Moving MNIST clips of the same shape, synthesised from the held-out test digits:
per-frame FID in the frame evaluator's feature space beside the real-vs-real floor (a
second, independent set of N real clips), identity consistency beside the real clips',
and motion (ink centre, pixels per frame) beside the real clips'. With --record it writes
the table into docs/benchmarks.md and 16 clips into docs/video-samples.gif.

    python benchmarks/video.py [--pretrained moving-mnist-tgan | RUN_DIR] [--n 1000] [--record]
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import DOC, machine, markdown_table, record  # noqa: E402

from gankit.generator import load  # noqa: E402
from gankit.metrics import evaluate  # noqa: E402
from gankit.video import save_clips_gif  # noqa: E402

GIF = DOC.parent / "video-samples.gif"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", nargs="?", help="a run directory or snapshot")
    p.add_argument("--pretrained", help="a shipped generator (default moving-mnist-tgan)")
    p.add_argument("--n", type=int, default=1000, help="clips generated (and real clips per set)")
    p.add_argument("--record", action="store_true",
                   help="write the table into docs/benchmarks.md and docs/video-samples.gif")
    args = p.parse_args()
    torch.set_num_threads(1)
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
