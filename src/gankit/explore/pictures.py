"""Exploration pictures: class x seed grids, interpolation strips and GIFs, truncation grids.

Each `*_images` function takes a `Generator` handle and returns the images as a tensor
(N, C, H, W) in [-1, 1], rows first, so the tests check exactly what the files show.
"""

import math
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont
from torchvision.utils import make_grid

from gankit.errors import GankitError
from gankit.artifacts import atomic_write
from gankit.explore.latent import interpolate, one_hot, seed_z
from gankit.generator import Generator, check_psi, truncate


def noise(g: Generator, seeds, psi: float = math.inf) -> torch.Tensor:
    """(len(seeds), z_dim): each seed's z, truncated at psi."""
    return truncate(torch.stack([seed_z(g.z_dim, s) for s in seeds]), psi)


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
                      y: int | None = None) -> torch.Tensor:
    """Row k: every seed truncated at psis[k]."""
    rows = [g.render(noise(g, seeds, check_psi(p)),
                     None if y is None else torch.full((len(seeds),), y)) for p in psis]
    return torch.cat(rows)


# ---- files ---------------------------------------------------------------------------------

def to_pil(images: torch.Tensor, nrow: int, scale: int = 1, padding: int = 2) -> Image.Image:
    """(N, C, H, W) in [-1, 1] -> one PIL grid image, each cell scaled up `scale` times."""
    grid = make_grid(images.float(), nrow=nrow, padding=padding, normalize=True,
                     value_range=(-1, 1), pad_value=0.5)              # (3, H', W') in [0, 1]
    array = grid.mul(255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    img = Image.fromarray(array)
    if images.shape[1] == 1:
        img = img.convert("L")
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    return img


def with_row_labels(img: Image.Image, labels: list[str], rows: int) -> Image.Image:
    """A left margin naming each row (Pillow's built-in font: no font files needed)."""
    font = ImageFont.load_default()
    width = 8 + max(int(ImageDraw.Draw(img).textlength(t, font=font)) for t in labels)
    out = Image.new(img.mode, (img.width + width, img.height), color=255 if img.mode == "L" else "white")
    out.paste(img, (width, 0))
    draw = ImageDraw.Draw(out)
    row_h = img.height / rows
    for k, text in enumerate(labels):
        draw.text((4, int((k + 0.5) * row_h) - 5), text, fill=0 if img.mode == "L" else "black",
                  font=font)
    return out


def check_out(out, suffixes: tuple[str, ...]) -> Path:
    path = Path(out)
    if path.suffix.lower() not in suffixes:
        raise GankitError(f"--out {out}: the file must end in {' or '.join(suffixes)}")
    if not path.parent.is_dir():
        raise GankitError(f"--out {out}: the folder {path.parent} does not exist")
    return path


def write_grid(images: torch.Tensor, out, nrow: int, row_labels: list[str] | None = None,
               scale: int = 2) -> Path:
    """A PNG grid, rows of `nrow` images, optionally labelled on the left."""
    path = check_out(out, (".png",))
    img = to_pil(images, nrow, scale)
    if row_labels:
        img = with_row_labels(img, row_labels, math.ceil(len(images) / nrow))
    atomic_write(path, lambda tmp: img.save(tmp, format="PNG"))
    return path


def write_frames(frames: torch.Tensor, out, fps: float = 12, scale: int = 4) -> Path:
    """An animated GIF that plays the frames forth and back (.gif), or a strip of them (.png)."""
    path = check_out(out, (".gif", ".png"))
    if path.suffix.lower() == ".png":
        return write_grid(frames, path, nrow=len(frames))
    pics = [to_pil(f[None], nrow=1, scale=scale, padding=0) for f in frames]
    pics = pics + pics[-2:0:-1]  # forth and back, so the loop has no jump
    atomic_write(path, lambda tmp: pics[0].save(tmp, format="GIF", save_all=True,
                                                append_images=pics[1:], loop=0,
                                                duration=int(1000 / fps)))
    return path
