"""Pictures of samples: image grids (make_grid's layout, enlarged and labelled with Pillow)
and scatter plots of 2D points (matplotlib).

Every grid gankit writes or shows is drawn by `grid_image`: small images enlarged at least 3x
(a 28x28 digit becomes 84x84) with nearest-neighbour resampling, so pixels stay sharp squares,
and labelled where something varies (a row per class or per ψ, a title such as "step 400").
"""

import functools
import importlib.util
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from gankit.artifacts import atomic_write
from gankit.errors import GankitError

MIN_CELL = 84    # pixels an image is drawn at, at least: 3x for 28x28, 2x for 64x64
PADDING = 2      # grey pixels between images, before enlarging
FONT_SIZE = 14
MARGIN = 6       # pixels around a label
CHECKS = 8, (255, 214)  # a four-channel grid's backdrop: squares of 8 pixels, white and light grey


def scale_for(height: int) -> int:
    """How many times to enlarge an image `height` pixels high (whole times: nearest neighbour
    keeps every pixel a square)."""
    return max(1, math.ceil(MIN_CELL / height))


@functools.cache
def font(size: int = FONT_SIZE) -> ImageFont.FreeTypeFont:
    """DejaVu Sans, bundled with matplotlib: it has ψ, ∞ and ε, which Pillow's default font
    draws as boxes."""
    # Found, not imported: importing matplotlib costs 0.3 s of a run's start-up.
    package = Path(importlib.util.find_spec("matplotlib").origin).parent
    return ImageFont.truetype(str(package / "mpl-data/fonts/ttf/DejaVuSans.ttf"), size)


def tile(images: torch.Tensor, nrow: int, padding: int = PADDING, pad_value: float = 0.5
         ) -> np.ndarray:
    """(N, C, H, W) -> (H', W', C): `nrow` images a row, `padding` pixels of `pad_value`
    around and between them; one image alone is returned unpadded. The layout of
    torchvision's `make_grid` (tests/test_viz.py checks it pixel for pixel), written here
    because importing torchvision.utils imports all of torchvision and torch._dynamo with it,
    2 s before the first sample grid of every run."""
    x = images.numpy().transpose(0, 2, 3, 1)                # (N, H, W, C)
    if len(x) == 1:
        return x[0]
    n, h, w, c = x.shape
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, c),
                  pad_value, dtype=x.dtype)
    for k, image in enumerate(x):
        top, left = padding + (k // cols) * (h + padding), padding + (k % cols) * (w + padding)
        out[top:top + h, left:left + w] = image
    return out


def grid_image(images: torch.Tensor, nrow: int = 8, row_labels: list[str] | None = None,
               title: str | None = None, scale: int | None = None,
               padding: int = PADDING) -> Image.Image:
    """(N, C, H, W) in [-1, 1] -> one grid as a PIL image (grey for one channel, else RGB),
    `nrow` images a row, enlarged `scale` times (default: `scale_for(H)`); `row_labels` name
    each row on the left, `title` goes above. The drawing of every grid gankit writes
    (`save_grid`, GIF frames) or shows (`gankit.show`).

    Four channels (colour and alpha, data.background=alpha) are drawn over a light
    checkerboard, as image editors show transparency: over white, a viewer could not tell
    what G left transparent from what it painted white, and a grid with alpha of its own
    would look different in every viewer."""
    images = images.detach().float().cpu()
    n, channels, height = len(images), images.shape[1], images.shape[2]
    scale = scale or scale_for(height)
    unit = images.clamp(-1, 1).add(1).div(2)
    pixels = tile(unit, nrow, padding)                                # (H', W', C) in [0, 1]
    if channels == 4:
        pixels[..., 3] = tile(unit[:, 3:], nrow, padding, pad_value=1.0)[..., 0]  # opaque padding
    pixels = (pixels * 255 + 0.5).clip(0, 255).astype(np.uint8)
    picture = Image.fromarray(pixels[..., 0] if channels == 1 else pixels)
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    if channels == 4:
        picture = Image.alpha_composite(checkerboard(picture.size), picture).convert("RGB")
    if row_labels:
        rows = math.ceil(n / nrow) if n > 1 else 1
        if len(row_labels) != rows:
            raise GankitError(f"row_labels: {len(row_labels)} labels for a grid of {rows} "
                              f"rows (one label a row)")
        pitch = height + (padding if n > 1 else 0)          # make_grid pads only a real grid
        top = padding if n > 1 else 0
        centres = [(top + k * pitch + height / 2) * scale for k in range(rows)]
        picture = _label_rows(picture, row_labels, centres)
    if title:
        picture = _add_title(picture, title)
    return picture


def checkerboard(size: tuple[int, int]) -> Image.Image:
    """An RGBA (width, height) picture of CHECKS squares, top-left white."""
    side, (light, dark) = CHECKS
    y, x = np.ogrid[:size[1], :size[0]]
    grey = np.where((y // side + x // side) % 2, dark, light).astype(np.uint8)  # (H, W)
    return Image.fromarray(grey, "L").convert("RGBA")


def _label_rows(picture: Image.Image, labels: list[str], centres: list[float]) -> Image.Image:
    """A white margin on the left with each label beside its row."""
    draw = ImageDraw.Draw(picture)
    width = 2 * MARGIN + max(math.ceil(draw.textlength(t, font=font())) for t in labels)
    out = Image.new(picture.mode, (picture.width + width, picture.height), "white")
    out.paste(picture, (width, 0))
    draw = ImageDraw.Draw(out)
    for text, y in zip(labels, centres):
        draw.text((MARGIN, y), text, fill="black", font=font(), anchor="lm")
    return out


def _add_title(picture: Image.Image, title: str) -> Image.Image:
    """A white strip above the picture with `title` centred in it (the picture centred below,
    where the title is the wider)."""
    text_width = math.ceil(ImageDraw.Draw(picture).textlength(title, font=font()))
    width = max(picture.width, text_width + 2 * MARGIN)
    height = FONT_SIZE + 2 * MARGIN
    out = Image.new(picture.mode, (width, picture.height + height), "white")
    out.paste(picture, ((width - picture.width) // 2, height))
    ImageDraw.Draw(out).text((width / 2, height / 2), title, fill="black", font=font(),
                             anchor="mm")
    return out


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """(N, C, ...) in [-1, 1] -> uint8 with the channels last, a single channel dropped: images
    (N, H, W) or (N, H, W, C), clips (N, T, H, W) or (N, T, H, W, C)."""
    x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).movedim(1, -1).numpy()
    return x[..., 0] if x.shape[-1] == 1 else x


def save_png(picture: Image.Image, path: Path) -> None:
    atomic_write(Path(path), lambda tmp: picture.save(tmp, format="png"))


def save_grid(images: torch.Tensor, path: Path, nrow: int = 8,
              row_labels: list[str] | None = None, title: str | None = None) -> None:
    """(N, C, H, W) in [-1, 1] -> one PNG grid, drawn by `grid_image`."""
    save_png(grid_image(images, nrow, row_labels, title), path)


def save_scatter(points: torch.Tensor, path: Path, centres: torch.Tensor | None = None,
                 title: str = "") -> None:
    """(N, 2) generated points, with the mixture's centres marked where known."""
    # Here, not at the top: it takes a second, and gankit --help needs none of it. The object
    # API (no pyplot) leaves the caller's backend alone: a notebook keeps drawing inline.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 4), dpi=100)
    ax = fig.subplots()
    p = points.float().numpy()
    ax.scatter(p[:, 0], p[:, 1], s=2, alpha=0.4, color="tab:blue", label="generated")
    if centres is not None:
        c = centres.numpy()
        ax.scatter(c[:, 0], c[:, 1], s=30, marker="x", color="tab:red", label="mode centres")
        lim = abs(c).max() * 1.5
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png"))
