"""A folder of your own images (.png, .jpg, .jpeg, searched recursively).

Each image is resized so its shorter side is `size`, then centre-cropped to `size` x `size`.
`load_folder` reads them all into memory; a folder bigger than `data.stream_mb` is instead
read while training, image by image, by `gankit.data.stream`.
As in torchvision's ImageFolder, the first-level subfolders name the classes
(`folder_classes`), when every image sits in one.
"""

from __future__ import annotations

import struct
from pathlib import Path

import torch
from PIL import Image

from gankit.errors import GankitError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

# What Pillow raises for files that are not images or are broken part way through.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error,
                  Image.DecompressionBombError)


def list_images(root: Path) -> list[Path]:
    """Every image file under `root`, sorted so the order is the same on every machine."""
    return sorted(p for p in root.rglob("*")
                  if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def load_image(path: Path, size: int, channels: int) -> torch.Tensor:
    """uint8 (channels, size, size): shorter side resized to `size`, centre cropped."""
    # Imported here: torchvision takes seconds to import and only this source needs it.
    from torchvision.transforms.v2 import InterpolationMode
    from torchvision.transforms.v2 import functional as TF

    try:
        with Image.open(path) as im:
            im = im.convert("RGB" if channels == 3 else "L")  # decodes the whole file
    except _DECODE_ERRORS as e:
        raise GankitError(f"cannot read image '{path}' ({e}): "
                          "delete or replace that file, or move it out of data.path") from e
    im = TF.resize(im, [size], interpolation=InterpolationMode.BICUBIC, antialias=True)
    im = TF.center_crop(im, [size, size])
    return TF.pil_to_tensor(im)  # (C, size, size) uint8


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
