"""A folder of your own images (.png, .jpg, .jpeg, searched recursively).

Each image is loaded as a person sees it: turned upright by its EXIF orientation, transparent
pixels composited onto `background` (white by default; "alpha" keeps transparency as a fourth
channel), palette, greyscale, 16-bit and CMYK files converted to 8-bit RGB (or grey). Then it
is made square: `fit="crop"` resizes the shorter side to `size` and centre-crops, `fit="pad"`
resizes the longer side to `size` and pads with the background.
`load_folder` reads them all into memory; a folder bigger than `data.stream_mb` is instead
read while training, image by image, by `gankit.data.stream`.
As in torchvision's ImageFolder, the first-level subfolders name the classes
(`folder_classes`), when every image sits in one.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageColor, ImageOps

from gankit.errors import GankitError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
FITS = ("crop", "pad")
ALPHA = "alpha"  # data.background that keeps transparency as a fourth channel
# A folder's held-out share (data.split=test): the images its evaluator and FID hold out.
# Smaller folders hold nothing out: every split is the whole folder.
TEST_SHARE, MIN_SPLIT = 0.15, 50

# What Pillow raises for files that are not images or are broken part way through.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error,
                  Image.DecompressionBombError)


def list_images(root: Path) -> list[Path]:
    """Every image file under `root`, sorted so the order is the same on every machine."""
    return sorted(p for p in root.rglob("*")
                  if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def parse_background(background: str) -> tuple[int, int, int] | None:
    """data.background -> an RGB triple, or None for "alpha" (keep transparency)."""
    if background == ALPHA:
        return None
    try:
        return ImageColor.getrgb(background)[:3]
    except (ValueError, AttributeError):
        raise GankitError(f"data.background {background!r} is not a colour: give a name "
                          "(white, black), #rrggbb, or alpha to keep transparency as a fourth "
                          "channel") from None


def check_options(channels: int, background: str, fit: str) -> tuple[int, int, int] | None:
    """data.channels, data.background and data.fit of a folder, checked together: the
    background as an RGB triple (None for alpha), or a one-line GankitError naming the fix."""
    bg = parse_background(background)
    if fit not in FITS:
        raise GankitError(f"data.fit must be one of {', '.join(FITS)}, got {fit!r}")
    if bg is None and channels != 4:
        raise GankitError(f"data.background=alpha keeps transparency as a fourth channel, "
                          f"but data.channels is {channels}: set data.channels=4 (or 0)")
    if bg is not None and channels not in (1, 3):
        raise GankitError(f"data.channels={channels} with data.background={background}: a folder "
                          "loads 1 or 3 channels, or 4 with data.background=alpha")
    return bg


def _to_8bit(im: Image.Image) -> Image.Image:
    """16- and 32-bit greyscale ("I;16", "I", "F") to 8-bit "L" by scaling, not clipping
    (Pillow's own convert("L") clips every value above 255 to white); "LA" where the file
    names a transparent grey (PNG tRNS), which the new image would otherwise lose."""
    if im.mode not in ("I", "F") and not im.mode.startswith("I;16"):
        return im
    a = np.asarray(im, dtype=np.float64)
    # "I;16" is a 16-bit file however dark its picture (a maximum of 200 is near black, not
    # 8-bit grey 200); "I" may hold either range, so only values above 255 say 16 bits.
    sixteen = im.mode.startswith("I;16") or (im.mode == "I" and a.max(initial=0) > 255)
    top = 65535.0 if sixteen else 255.0
    grey = Image.fromarray(np.clip(a / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if "transparency" in im.info:
        clear = a == im.info["transparency"]                  # (H, W): the transparent grey
        grey.putalpha(Image.fromarray(np.where(clear, 0, 255).astype(np.uint8), "L"))
    return grey


def _pixels(im: Image.Image, channels: int, bg: tuple | None) -> Image.Image:
    """Any Pillow mode -> "RGBA" (bg None), "RGB" or "L", transparency composited onto bg."""
    im = _to_8bit(im)
    has_alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info
    if has_alpha:
        im = im.convert("RGBA")  # palette and greyscale transparency included
        if bg is not None:
            im = Image.alpha_composite(Image.new("RGBA", im.size, (*bg, 255)), im)
    if bg is None:
        return im.convert("RGBA")
    return im.convert("RGB" if channels == 3 else "L")  # CMYK, YCbCr, P, 1, L: converted


def load_image(path: Path, size: int, channels: int, background: str = "white",
               fit: str = "crop") -> torch.Tensor:
    """uint8 (channels, size, size) as a person sees the file: see the module notes."""
    # Imported here: torchvision takes seconds to import and only this source needs it.
    from torchvision.transforms.v2 import InterpolationMode
    from torchvision.transforms.v2 import functional as TF

    bg = check_options(channels, background, fit)
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)  # a phone's portrait JPEG stands upright
            im = _pixels(im, channels, bg)    # decodes the whole file
    except _DECODE_ERRORS as e:
        raise GankitError(f"cannot read image '{path}' ({e}): "
                          "delete or replace that file, or move it out of data.path") from e
    if fit == "pad":
        # ImageOps.pad resizes the longer side to `size` and centres it on the background
        # the grey of a one-channel fill is Pillow's, as for the transparent pixels composited
        fill = ((0, 0, 0, 0) if bg is None else bg if channels == 3
                else Image.new("RGB", (1, 1), bg).convert("L").getpixel((0, 0)))
        im = ImageOps.pad(im, (size, size), method=Image.Resampling.BICUBIC, color=fill)
        return TF.pil_to_tensor(im)
    im = TF.resize(im, [size], interpolation=InterpolationMode.BICUBIC, antialias=True)
    im = TF.center_crop(im, [size, size])
    return TF.pil_to_tensor(im)  # (C, size, size) uint8


def split_files(root: Path, files: list[Path], split: str) -> list[Path]:
    """The files of one split: a file is held out (test) when the hash of its path inside the
    folder falls in the first TEST_SHARE, so the split never changes as files are added, and
    a copy of the folder elsewhere splits the same. Folders under MIN_SPLIT images: all."""
    if split == "all" or len(files) < MIN_SPLIT:
        return files

    def held_out(f: Path) -> bool:
        key = f.relative_to(root).as_posix().encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") < TEST_SHARE * 2 ** 64

    return [f for f in files if held_out(f) == (split == "test")]


def find_images(path: str | None) -> list[Path]:
    """The image files under `path`, or a clear error when there are none."""
    if not path:
        raise GankitError("data.path is empty: give the folder of .png/.jpg images "
                          "for data.name=folder")
    root = Path(path).expanduser()
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a directory"
        raise GankitError(f"data.path '{root}' {what}: give the folder of .png/.jpg images")
    files = list_images(root)
    if not files:
        raise GankitError(f"no .png/.jpg/.jpeg images found under '{root}': "
                          "point data.path at the folder that holds them")
    return files


def load_folder(path: str | None, size: int, channels: int) -> torch.Tensor:
    """All images under `path` as uint8 (N, channels, size, size)."""
    return torch.stack([load_image(f, size, channels) for f in find_images(path)])


def folder_classes(path: str, files: list[Path]) -> tuple[torch.Tensor | None, list[str] | None]:
    """Labels (N,) in `files` order and class names, from the first-level subfolders.

    (None, None) when any image lies directly in `path`: then the folder has no classes.
    """
    root = Path(path).expanduser()
    tops = [f.relative_to(root).parts for f in files]
    if any(len(parts) < 2 for parts in tops):
        return None, None
    names = sorted({parts[0] for parts in tops})
    index = {name: i for i, name in enumerate(names)}
    return torch.tensor([index[parts[0]] for parts in tops], dtype=torch.long), names
