"""Exploration pictures: class x seed grids, interpolation strips and GIFs, truncation grids.

Each `*_images` function takes a `Generator` handle and returns the images as a tensor
(N, C, H, W) in [-1, 1], rows first, so the tests check exactly what the files show.
"""

import math
from pathlib import Path

import torch

from gankit.errors import GankitError
from gankit.artifacts import atomic_write
from gankit.explore.latent import interpolate, one_hot, seed_z
from gankit.generator import Generator, check_psi, truncate
from gankit.video import FRAME_MS, save_clips_gif, save_filmstrip
from gankit.viz import grid_image, save_grid

GIF_SCALE = 4  # one image a frame: a 28x28 digit drawn 112x112


def noise(g: Generator, seeds, psi: float = math.inf, keep_norm: bool = True) -> torch.Tensor:
    """(len(seeds), z_dim): each seed's z, truncated at psi (`gankit.generator.truncate`)."""
    return truncate(torch.stack([seed_z(g.z_dim, s) for s in seeds]), psi, keep_norm)


def class_seed_images(g: Generator, classes: list[int], seeds: list[int],
                      psi: float = math.inf) -> torch.Tensor:
    """Row k: class classes[k] for every seed (same z down a column)."""
    z = noise(g, seeds, psi).repeat(len(classes), 1)                  # (K*S, z_dim)
    y = torch.tensor(classes).repeat_interleave(len(seeds))           # (K*S,)
    return g.render(z, y)


def latent_interpolation_images(g: Generator, seed_a: int, seed_b: int, steps: int,
                                method: str = "slerp", psi: float = math.inf,
                                y: int | None = None) -> torch.Tensor:
    """From seed_a's z to seed_b's z, at a fixed class y for a conditional G."""
    za, zb = noise(g, [seed_a, seed_b], psi)
    z = interpolate(za, zb, steps, method)                            # (steps, z_dim)
    return g.render(z, None if y is None else torch.full((steps,), y))


def class_interpolation_images(g: Generator, seed: int, c_from: int, c_to: int, steps: int,
                               psi: float = math.inf) -> torch.Tensor:
    """At one seed's z, the class vector moves linearly from one-hot(c_from) to one-hot(c_to)."""
    n = g.n_classes
    y = interpolate(one_hot([c_from], n)[0], one_hot([c_to], n)[0], steps, "lerp")  # (steps, n)
    z = noise(g, [seed], psi).expand(steps, -1)
    return g.render(z, y)


def truncation_images(g: Generator, psis: list[float], seeds: list[int],
                      y: int | None = None, keep_norm: bool = True) -> torch.Tensor:
    """Row k: every seed truncated at psis[k]."""
    rows = [g.render(noise(g, seeds, check_psi(p), keep_norm),
                     None if y is None else torch.full((len(seeds),), y)) for p in psis]
    return torch.cat(rows)


# ---- files ---------------------------------------------------------------------------------

def check_out(out, suffixes: tuple[str, ...]) -> Path:
    path = Path(out)
    if path.suffix.lower() not in suffixes:
        raise GankitError(f"--out {out}: the file must end in {' or '.join(suffixes)}")
    if not path.parent.is_dir():
        raise GankitError(f"--out {out}: the folder {path.parent} does not exist")
    return path


def write_grid(images: torch.Tensor, out, nrow: int,
               row_labels: list[str] | None = None) -> Path:
    """A PNG grid, rows of `nrow` images, optionally labelled on the left (`gankit.viz`)."""
    path = check_out(out, (".png",))
    save_grid(images, path, nrow, row_labels)
    return path


def write_clips(clips: torch.Tensor, out, fps: float = 1000 / FRAME_MS) -> Path:
    """A video G's interpolation: the clips (steps, C, T, H, W) from seed A to seed B, in
    reading order, all playing at once (.gif), or one per row (.png filmstrip)."""
    path = check_out(out, (".gif", ".png"))
    if path.suffix.lower() == ".png":
        return save_filmstrip(clips, path, max_clips=len(clips))
    return save_clips_gif(clips, path, nrow=min(len(clips), 8), fps=fps)


def write_frames(frames: torch.Tensor, out, fps: float = 12,
                 labels: list[str] | None = None) -> Path:
    """An animated GIF that plays the frames forth and back (.gif), or a strip of them (.png);
    `labels` (one a frame) are written above each GIF frame."""
    path = check_out(out, (".gif", ".png"))
    if path.suffix.lower() == ".png":
        return write_grid(frames, path, nrow=len(frames))
    pics = [grid_image(f[None], nrow=1, title=None if labels is None else labels[i],
                       scale=GIF_SCALE, padding=0) for i, f in enumerate(frames)]
    pics = pics + pics[-2:0:-1]  # forth and back, so the loop has no jump
    atomic_write(path, lambda tmp: pics[0].save(tmp, format="GIF", save_all=True,
                                                append_images=pics[1:], loop=0,
                                                duration=int(1000 / fps)))
    return path
