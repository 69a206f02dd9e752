"""Pictures of clips: an animated GIF grid, a filmstrip PNG, and clips as uint8 arrays.

Clips are (N, C, T, H, W) in [-1, 1]. Frames are upscaled with nearest neighbour (no
blurring) until a clip is at least `MIN_SIDE` pixels across, so 32 x 32 digits are readable.
A GIF grid plays every clip at once, one grid per frame; a filmstrip is one clip per row,
its frames left to right (what a run's `samples/step-NNNNNN.png` holds for a video GAN).
"""

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid

from gankit.artifacts import atomic_write

MIN_SIDE = 96        # pixels a clip is upscaled to at least
FRAME_MS = 100       # GIF frame duration: 10 frames per second


def to_uint8(clips: torch.Tensor) -> np.ndarray:
    """(N, C, T, H, W) in [-1, 1] -> uint8 (N, T, H, W) for one channel, else (N, T, H, W, C)."""
    x = ((clips.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    x = x.permute(0, 2, 3, 4, 1).numpy()
    return x[..., 0] if x.shape[-1] == 1 else x


def _upscale(frames: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, kH, kW) by nearest neighbour, k the smallest to reach MIN_SIDE."""
    k = max(1, math.ceil(MIN_SIDE / frames.shape[-1]))
    return frames.repeat_interleave(k, dim=-2).repeat_interleave(k, dim=-1)


def grid_frames(clips: torch.Tensor, nrow: int | None = None) -> list[Image.Image]:
    """One picture per time step: the clips' frames t in a grid of `nrow` columns."""
    n, c, t = clips.shape[:3]
    nrow = nrow or math.ceil(math.sqrt(n))
    pictures = []
    for i in range(t):
        grid = make_grid(_upscale((clips[:, :, i] + 1) / 2), nrow=nrow, padding=2,
                         pad_value=0.5)                                # (3, H', W') in [0, 1]
        pixels = (grid.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        pictures.append(Image.fromarray(pixels[..., 0] if c == 1 else pixels))
    return pictures


def save_gif(pictures: list[Image.Image], path) -> Path:
    """Write pictures as a looping GIF, atomically."""
    path = Path(path)
    atomic_write(path, lambda tmp: pictures[0].save(
        tmp, format="GIF", save_all=True, append_images=pictures[1:], duration=FRAME_MS,
        loop=0))
    return path


def save_clips_gif(clips: torch.Tensor, path, nrow: int | None = None) -> Path:
    """An animated GIF of a grid of clips (N, C, T, H, W), all playing together."""
    return save_gif(grid_frames(clips, nrow), path)


def save_filmstrip(clips: torch.Tensor, path, max_clips: int = 16) -> Path:
    """A PNG with one clip per row (the first `max_clips`), its frames left to right."""
    x = clips[:max_clips]
    n, c, t = x.shape[:3]
    frames = x.transpose(1, 2).reshape(n * t, c, *x.shape[-2:])        # (N*T, C, H, W)
    grid = make_grid(_upscale((frames + 1) / 2), nrow=t, padding=2, pad_value=0.5)
    pixels = (grid.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    path = Path(path)
    atomic_write(path, lambda tmp: Image.fromarray(pixels[..., 0] if c == 1 else pixels)
                 .save(tmp, format="PNG"))
    return path
