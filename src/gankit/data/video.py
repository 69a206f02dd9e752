"""Video clips: Moving MNIST synthesised from the bundled digits, and clips from an .npz.

Moving MNIST (Srivastava et al. 2015): each clip is T frames of an H x W black canvas with
`digits` MNIST digits; each digit starts at a uniform position with a uniform direction and
moves at a fixed speed, bouncing off the walls; digits are pasted with a pixel-wise max.
The literature's clip is 64 x 64, 2 digits of 28 x 28, 16 frames (TGAN's length). At another
side the same proportions hold: digits are 28/64 of the side and move a tenth of the free
range per frame (Srivastava's step length 0.1), so a 32 x 32 clip is the 64 x 64 one at half
resolution (14-pixel digits, 1.8 pixels per frame).

Clips are kept as uint8 (N, C, T, H, W) and turned into [-1, 1] floats one batch at a time:
a float copy of 10,000 64 x 64 clips would take 2.6 GB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gankit.data.base import IndexSampler, to_unit_range
from gankit.data.mnist import read_bundled
from gankit.data.splits import split_indices  # the evaluators' split: their test digits held out
from gankit.errors import GankitError

VIDEO_NAMES = ("moving-mnist", "video")
STEP_LENGTH = 0.1       # share of the free range a digit moves per frame (Srivastava et al.)
DIGIT_SHARE = 28 / 64   # digit side / canvas side in the literature's clips


@dataclass(repr=False, eq=False)
class VideoData:
    videos: torch.Tensor            # (N, C, T, H, W) uint8
    labels: torch.Tensor | None     # (N, digits) int64: the digits in each clip, or None
    class_names: list[str] | None
    name: str                       # "moving-mnist" or "video"

    is_points = False
    is_video = True

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(C, T, H, W) of one clip."""
        return tuple(self.videos.shape[1:])

    def __len__(self) -> int:
        return len(self.videos)

    def __repr__(self) -> str:
        return f"VideoData(name={self.name!r}, videos={tuple(self.videos.shape)})"


class VideoBatches:
    """Batches of clips in [-1, 1], indexed out of the uint8 clips (the trainer's sampler)."""

    def __init__(self, videos: torch.Tensor, batch_size: int):
        self.videos = videos
        self.sampler = IndexSampler(len(videos), batch_size)

    def next(self, device) -> torch.Tensor:
        idx = self.sampler.next()
        return to_unit_range(self.videos[idx]).to(device)          # (B, C, T, H, W)

    def state_dict(self) -> dict:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.sampler.load_state_dict(state)


def trajectories(n: int, frames: int, free: int, rng: np.random.Generator) -> np.ndarray:
    """Top-left corners (n, frames, 2) as ints in [0, free]: uniform start and direction, a
    fixed speed, reflected at the walls."""
    pos = rng.uniform(0, free, size=(n, 2))
    theta = rng.uniform(0, 2 * math.pi, size=n)
    v = STEP_LENGTH * free * np.stack([np.sin(theta), np.cos(theta)], axis=1)  # (n, 2) y, x
    out = np.empty((n, frames, 2))
    for t in range(frames):
        out[:, t] = pos
        pos = pos + v
        low, high = pos < 0, pos > free  # bounce: mirror the overshoot, reverse the velocity
        pos = np.where(low, -pos, np.where(high, 2 * free - pos, pos))
        v = np.where(low | high, -v, v)
    return np.clip(np.rint(out), 0, free).astype(np.int64)


def digit_bank(size: int, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The bundled digits of an evaluator split ("train", "test" or "all"), resized to the
    clip's digit side: uint8 (N, d, d), labels (N,)."""
    images, labels = read_bundled()
    if split != "all":
        train, test = split_indices("mnist", len(images))
        keep = train if split == "train" else test
        images, labels = images[keep], labels[keep]
    d = max(1, round(DIGIT_SHARE * size))
    if d != images.shape[-1]:
        x = torch.from_numpy(images).float().unsqueeze(1)             # (N, 1, 28, 28)
        x = F.interpolate(x, size=(d, d), mode="bilinear", antialias=True, align_corners=False)
        images = x.squeeze(1).round().clamp(0, 255).to(torch.uint8).numpy()
    return images, labels


def moving_mnist(n: int, frames: int = 16, size: int = 64, digits: int = 2, seed: int = 0,
                 split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """n clips, seeded: uint8 (n, frames, size, size) and their digits' labels (n, digits)."""
    bank, bank_labels = digit_bank(size, split)
    d = bank.shape[-1]
    rng = np.random.default_rng(seed)
    pick = rng.integers(len(bank), size=(n, digits))                  # (n, digits)
    corners = trajectories(n * digits, frames, size - d, rng).reshape(n, digits, frames, 2)
    clips = np.zeros((n, frames, size, size), dtype=np.uint8)
    for i in range(n):
        for k in range(digits):
            digit = bank[pick[i, k]]
            for t, (y, x) in enumerate(corners[i, k]):
                patch = clips[i, t, y:y + d, x:x + d]
                np.maximum(patch, digit, out=patch)                   # pixel-wise max
    return clips, bank_labels[pick].astype(np.int64)


def read_npz(path: str) -> np.ndarray:
    """A user's clips: `videos` uint8 (N, T, H, W) or (N, T, H, W, C) -> (N, C, T, H, W)."""
    p = Path(path).expanduser()
    if not p.is_file() or p.suffix.lower() != ".npz":
        raise GankitError(f"data.path '{path}' is not an .npz file: give an .npz holding "
                          "`videos`, uint8 (N, T, H, W) or (N, T, H, W, C)")
    try:
        with np.load(p, allow_pickle=False) as f:
            if "videos" not in f:
                raise GankitError(f"data.path '{path}' has no `videos` array (it has "
                                  f"{', '.join(f.files) or 'nothing'}): save the clips as "
                                  "np.savez(path, videos=clips)")
            v = f["videos"]
    except (OSError, ValueError) as e:
        raise GankitError(f"data.path '{path}' is not a readable .npz ({type(e).__name__}): "
                          "save the clips again with np.savez") from None
    if v.ndim == 4:
        v = v[..., None]
    if v.ndim != 5 or v.dtype != np.uint8 or v.shape[-1] not in (1, 3) or not v.shape[0]:
        raise GankitError(f"data.path '{path}': `videos` is {v.dtype} of shape {v.shape}; "
                          "it must be uint8 (N, T, H, W) or (N, T, H, W, C) with C 1 or 3 "
                          "and N >= 1")
    return np.ascontiguousarray(v.transpose(0, 4, 1, 2, 3))


def load_video(name: str, path: str | None, *, image_size: int | None, channels: int | None,
               frames: int, digits: int, n_clips: int, seed: int, split: str) -> VideoData:
    """`load_data` for the video names: synthesised Moving MNIST, or an .npz of clips."""
    if name == "moving-mnist":
        if path:
            raise GankitError(f"data.path is set to '{path}' but moving-mnist is synthesised "
                              "from the bundled digits: leave data.path empty (your own clips: "
                              "data.name=video)")
        clips, labels = moving_mnist(n_clips, frames, image_size or 64, digits, seed, split)
        x = torch.from_numpy(clips).unsqueeze(1)                      # (N, 1, T, H, W)
        if channels == 3:
            x = x.repeat(1, 3, 1, 1, 1)
        return VideoData(x, torch.from_numpy(labels), [str(i) for i in range(10)], name)
    if not path:
        raise GankitError("data.name=video needs data.path: an .npz of `videos`, uint8 "
                          "(N, T, H, W) or (N, T, H, W, C)")
    x = torch.from_numpy(read_npz(path))                              # (N, C, T, H, W)
    if image_size and image_size != x.shape[-1]:
        n, c, t, h, w = x.shape
        flat = x.transpose(1, 2).reshape(n * t, c, h, w).float()
        flat = F.interpolate(flat, size=(image_size, image_size), mode="bilinear",
                             antialias=True, align_corners=False)
        x = flat.round().clamp(0, 255).to(torch.uint8).reshape(
            n, t, c, image_size, image_size).transpose(1, 2).contiguous()
    if channels and channels != x.shape[1]:
        if x.shape[1] == 3:
            raise GankitError(f"data.channels={channels} but the clips in '{path}' have 3 "
                              "channels: set data.channels=3 (or 0)")
        x = x.repeat(1, 3, 1, 1, 1)
    return VideoData(x, None, None, name)
