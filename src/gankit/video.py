"""Pictures of clips: an animated GIF grid, a filmstrip PNG, and clips as uint8 arrays.

Clips are (N, C, T, H, W) in [-1, 1]. Frames are drawn by `gankit.viz.grid_image`, the
drawing of every grid gankit writes, enlarged with nearest neighbour (no blurring) until a
clip is at least `MIN_SIDE` pixels across, so 32 x 32 digits are readable.
A GIF grid plays every clip at once, one grid per frame; a filmstrip is one clip per row,
its frames left to right (what a run's `samples/step-NNNNNN.png` holds for a video GAN).
"""

import io
import math
from pathlib import Path

import torch
from PIL import Image

from gankit.artifacts import atomic_write, write_npz
from gankit.viz import grid_image, to_uint8

MIN_SIDE = 96        # pixels a clip is upscaled to at least
FRAME_MS = 100       # GIF frame duration: 10 frames per second


def _scale(side: int) -> int:
    """The smallest whole enlargement that makes a frame of `side` pixels MIN_SIDE across."""
    return max(1, math.ceil(MIN_SIDE / side))


def grid_frames(clips: torch.Tensor, nrow: int | None = None) -> list[Image.Image]:
    """One picture per time step: the clips' frames t in a grid of `nrow` columns."""
    n, t, scale = len(clips), clips.shape[2], _scale(clips.shape[-1])
    nrow = nrow or math.ceil(math.sqrt(n))
    return [grid_image(clips[:, :, i], nrow, scale=scale) for i in range(t)]


def _write_gif(pictures: list[Image.Image], target, fps: float) -> None:
    pictures[0].save(target, format="GIF", save_all=True, append_images=pictures[1:],
                     duration=round(1000 / fps), loop=0)


def save_clips_gif(clips: torch.Tensor, path, nrow: int | None = None,
                   fps: float = 1000 / FRAME_MS) -> Path:
    """An animated GIF of a grid of clips (N, C, T, H, W), all playing together, atomically."""
    path = Path(path)
    pictures = grid_frames(clips, nrow)
    atomic_write(path, lambda tmp: _write_gif(pictures, tmp, fps))
    return path


def gif_bytes(clips: torch.Tensor, nrow: int | None = None) -> bytes:
    """The GIF of `save_clips_gif`, in memory (what `gankit serve` answers for a video G)."""
    buf = io.BytesIO()
    _write_gif(grid_frames(clips, nrow), buf, 1000 / FRAME_MS)
    return buf.getvalue()


def save_filmstrip(clips: torch.Tensor, path, max_clips: int = 16) -> Path:
    """A PNG with one clip per row (the first `max_clips`), its frames left to right."""
    x = clips[:max_clips]
    n, c, t = x.shape[:3]
    frames = x.transpose(1, 2).reshape(n * t, c, *x.shape[-2:])        # (N*T, C, H, W)
    picture = grid_image(frames, nrow=t, scale=_scale(x.shape[-1]))
    path = Path(path)
    atomic_write(path, lambda tmp: picture.save(tmp, format="PNG"))
    return path


def write_clips(g, out_path: Path, n: int, seed: int) -> Path:
    """`gankit sample` for a video generator `g` (a `gankit.generator.Generator`): n clips as
    an animated GIF grid (.gif), a filmstrip (.png) or `videos` uint8 (N, T, H, W) (.npz);
    `gankit.sample` has checked the suffix."""
    g.check_memory(n)
    clips = g.generate(n, seed)                                      # (N, C, T, H, W)
    if out_path.suffix.lower() == ".npz":
        write_npz(out_path, videos=to_uint8(clips))
        return out_path
    return g.save(clips, out_path)
