"""Train the Moving MNIST frame evaluator and ship it into src/gankit/metrics/weights/.

    python scripts/train_video_evaluator.py [--epochs 10] [--clips 6000]

The evaluator says which digits a 32 x 32 frame shows (multi-label: one sigmoid per digit;
`gankit.metrics.video.FrameEvaluator`). It trains on frames of clips synthesised from the
bundled digits' train split, in the four shapes the video presets use (32 x 32 and 64 x 64
canvases, one and two digits; 64 x 64 frames are resized to 32 x 32 as the metrics do), four
frames per clip. Half of each batch is moved by a random sub-pixel offset (bilinear, up to half
a pixel each way), so a digit a generator moves by a fractional offset, or a 64 x 64 frame
resized, is judged as the same digit. It is measured on clips of the held-out test digits,
which the metrics' real clips are also made from: the share of frames whose predicted digit
set is exactly right. The weights shipped are the last epoch's; the held-out figures are
reported, never used to choose.
Writes moving-mnist-frame-evaluator.safetensors and its card (kind "evaluator").
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gankit import artifacts
from gankit.data.video import moving_mnist
from gankit.metrics.video import MODEL, FrameEvaluator, frames_of, multi_hot
from gankit.models.video import translate

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "gankit" / "metrics" / "weights" / "moving-mnist-frame-evaluator"
SHAPES = ((32, 1), (32, 2), (64, 1), (64, 2))   # (side, digits)
FRAMES, PER_CLIP = 16, 4
CONFIG = dict(channels=24, feature_dim=128)


def frames_and_targets(split: str, clips: int, seed: int) -> tuple[torch.Tensor, torch.Tensor,
                                                                    list[int]]:
    """PER_CLIP random frames of `clips` clips of every shape: (N, 1, 32, 32), (N, 10) targets,
    and how many frames each shape gave (for per-shape accuracy)."""
    xs, ys, sizes = [], [], []
    g = torch.Generator().manual_seed(seed)
    for i, (side, digits) in enumerate(SHAPES):
        videos, labels = moving_mnist(clips, FRAMES, side, digits, seed=seed + i, split=split)
        v = torch.from_numpy(videos).unsqueeze(1).float().div_(127.5).sub_(1.0)  # (n, 1, T, H, W)
        pick = torch.rand(clips, FRAMES, generator=g).argsort(1)[:, :PER_CLIP]     # (n, 4)
        v = v[torch.arange(clips)[:, None], :, pick].permute(0, 2, 1, 3, 4)       # (n, 1, 4, H, W)
        xs.append(frames_of(v))                                                   # (4n, 1, 32, 32)
        ys.append(multi_hot(torch.from_numpy(labels)).repeat_interleave(PER_CLIP, 0))
        sizes.append(clips * PER_CLIP)
    return torch.cat(xs), torch.cat(ys), sizes


def jitter(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Half of the frames (N, 1, S, S) moved by a uniform offset in (-0.5, 0.5) pixels each way,
    sampled bilinearly; black comes in at the edges."""
    n, s = len(x), x.shape[-1]
    shift = (torch.rand(n, 2, generator=g) - 0.5) * (2 / s)           # half a pixel, in half-sides
    shift[torch.rand(n, generator=g) < 0.5] = 0
    # -shift: the offsets the shipped weights were trained with (the same draws)
    return translate(x, -shift.unsqueeze(1))[:, :, 0]                 # (N, 1, S, S)


@torch.no_grad()
def exact_set_accuracy(net: FrameEvaluator, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(N,) bools: the predicted digit set (probability > 0.5) equals the true one."""
    net.eval()
    pred = torch.cat([net(b) > 0 for b in x.split(1000)])
    return (pred == y.bool()).all(1)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--clips", type=int, default=6000, help="training clips per shape")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    x, y, _ = frames_and_targets("train", args.clips, seed=args.seed)
    x_test, y_test, test_sizes = frames_and_targets("test", 500, seed=10_000 + args.seed)
    print(f"{len(x)} training frames, {len(x_test)} held-out frames "
          f"({time.perf_counter() - start:.0f} s to synthesise)")
    net = FrameEvaluator(**CONFIG)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=5e-4)
    per_epoch = -(-len(x) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3,
                                                total_steps=args.epochs * per_epoch)
    g = torch.Generator().manual_seed(args.seed)
    for epoch in range(1, args.epochs + 1):
        net.train()
        total = 0.0
        for idx in torch.randperm(len(x), generator=g).split(128):
            loss = F.binary_cross_entropy_with_logits(net(jitter(x[idx], g)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        acc = exact_set_accuracy(net, x_test, y_test).float().mean().item()
        print(f"epoch {epoch}/{args.epochs}  loss {total / len(x):.4f}  held-out exact-set "
              f"accuracy {acc:.4f}  elapsed {time.perf_counter() - start:.0f} s", flush=True)
    right = exact_set_accuracy(net, x_test, y_test)
    per_shape = {f"{side}x{side}, {d} digit(s)": round(part.float().mean().item(), 4)
                 for (side, d), part in zip(SHAPES, right.split(test_sizes))}
    card = {"kind": "evaluator", "model": MODEL, "kwargs": CONFIG, "dataset": "moving-mnist",
            "data_shape": [1, 32, 32], "class_names": [str(i) for i in range(10)],
            "input": "(B, 1, 32, 32) float32 in [-1, 1]: a frame, grey, resized to 32 x 32 "
                     "(gankit.metrics.video.frames_of)",
            "output": "(B, 10) logits, one sigmoid per digit: which digits the frame shows",
            "features": "FrameEvaluator.features: (B, 128), the ReLU'd penultimate layer",
            "training": {"script": "scripts/train_video_evaluator.py", "epochs": args.epochs,
                         "seed": args.seed, "shapes": [list(s) for s in SHAPES],
                         "frames": len(x), "clips_per_shape": args.clips,
                         "frames_per_clip": PER_CLIP, "jitter": "half of each batch moved by "
                         "up to half a pixel each way (bilinear)", "digits": "train split of the bundled "
                         "MNIST (gankit.metrics.evaluator.split_indices)",
                         "seconds": round(time.perf_counter() - start)},
            "held_out": {"digits": "test split of the bundled MNIST", "frames": len(x_test),
                         "exact_set_accuracy": round(right.float().mean().item(), 4),
                         "per_shape": per_shape}}
    artifacts.save(OUT, net, card)
    print(f"wrote {OUT}.safetensors and .json: held-out exact-set accuracy "
          f"{card['held_out']['exact_set_accuracy']:.4f} {per_shape}")


if __name__ == "__main__":
    main()
