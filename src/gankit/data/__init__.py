"""Data for gankit: image sets as (N, C, H, W) tensors in [-1, 1], toy 2-D mixtures as points.

    data = load_data("mnist")                         # bundled 10k digits, offline
    data = load_data("fashion", "fashion-mnist-70k.npz", image_size=64)
    data = load_data("folder", "~/faces", image_size=64, channels=3)
    data = load_data("toy-ring", n_toy=100_000, seed=0)

Everything is held in memory and training indexes it with `IndexSampler` batches, except an
image folder bigger than `stream_mb`, which `gankit.data.stream` reads from disk with a
DataLoader and worker processes while training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from gankit.data import folder, mnist, toy
from gankit.errors import GankitError

DATA_NAMES = ("mnist", "fashion", "folder", "toy-ring", "toy-grid")
SPLITS = ("train", "test", "all")
DEFAULT_FOLDER_SIZE = 64


@dataclass(repr=False, eq=False)
class ImageData:
    images: torch.Tensor  # (N, C, H, W) float32 in [-1, 1]
    labels: torch.Tensor | None  # (N,) int64, or None when the source has none
    class_names: list[str] | None
    name: str  # "mnist", "fashion" or "folder"

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.images.shape[1:])

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        classes = len(self.class_names) if self.class_names else None
        return (f"ImageData(name={self.name!r}, images={tuple(self.images.shape)}, "
                f"labels={self.labels is not None}, classes={classes})")


@dataclass(repr=False, eq=False)
class ToyData:
    points: torch.Tensor  # (N, 2) float32, in the mixture's own coordinates
    centres: torch.Tensor  # (K, 2)
    std: float
    name: str  # "toy-ring" or "toy-grid"
    labels: torch.Tensor  # (N,) int64: the component each point was drawn from

    @property
    def shape(self) -> tuple[int]:
        return (2,)

    def __len__(self) -> int:
        return len(self.points)

    def __repr__(self) -> str:
        return (f"ToyData(name={self.name!r}, points={tuple(self.points.shape)}, "
                f"components={len(self.centres)}, std={self.std})")


def load_data(name: str, path: str | None = None, *, image_size: int | None = None,
              channels: int | None = None, split: str = "train", download: bool = False,
              n_toy: int = 100_000, seed: int = 0, stream_mb: float | None = None):
    """Load a data set by name; user mistakes raise `GankitError` naming the fix.

    name: one of DATA_NAMES.
    path: mnist -> empty for the bundled set, else an IDX directory or an .npz;
          fashion -> an IDX directory or an .npz; folder -> a directory of images.
    image_size: side of the square images (default: 28 for mnist/fashion, 64 for folder).
    channels: 1 or 3 (default: 1 for mnist/fashion, 3 for folder); 3 on a grayscale
          source repeats the channel.
    split: "train", "test" or "all" IDX files (ignored for .npz and the bundled set).
    stream_mb: a folder whose image files add up to more than this many MB is not loaded
          but returned as `StreamedImages`, read from disk while training (None: never).
    download: fetch mnist/fashion into `path` with torchvision first.
    n_toy, seed: number of points and the seed for toy-ring / toy-grid, which ignore
          image_size and channels.
    """
    if name not in DATA_NAMES:
        raise GankitError(f"unknown data.name {name!r}: choose one of {', '.join(DATA_NAMES)}")
    if download and name not in ("mnist", "fashion"):
        raise GankitError(f"data.download=true only applies to mnist and fashion, "
                          f"not {name!r}: set it to false")

    if name in toy.TOY_NAMES:
        if path:
            raise GankitError(f"data.path is set to '{path}' but {name} is generated, "
                              "not read from disk: leave data.path empty")
        if not isinstance(n_toy, int) or n_toy < 1:
            raise GankitError(f"data.n_toy must be a positive integer, got {n_toy!r}")
        points, labels, centres, std = toy.sample(name, n_toy, seed)
        return ToyData(points=points, centres=centres, std=std, name=name, labels=labels)

    if split not in SPLITS:
        raise GankitError(f"data.split {split!r} is not one of {', '.join(SPLITS)}")
    if channels is not None and channels not in (1, 3):
        raise GankitError(f"data.channels must be 1 or 3, got {channels!r}")
    if image_size is not None and (not isinstance(image_size, int) or image_size < 1):
        raise GankitError(f"data.image_size must be a positive integer, got {image_size!r}")

    if name == "folder":
        size, channels = image_size or DEFAULT_FOLDER_SIZE, channels or 3
        files = folder.find_images(path)
        if stream_mb is not None and sum(f.stat().st_size for f in files) > stream_mb * 1e6:
            from gankit.data.stream import FolderDataset, StreamedImages
            return StreamedImages(FolderDataset(files, size, channels))
        pixels = torch.stack([folder.load_image(f, size, channels) for f in files])
        labels, classes = folder.folder_classes(path, files)
        return ImageData(images=to_unit_range(pixels), labels=labels, class_names=classes,
                         name=name)

    images, labels, classes = mnist.load(name, path, split, download)
    x = to_unit_range(torch.from_numpy(images).unsqueeze(1))  # (N, 1, H, W)
    if image_size is not None and image_size != x.shape[-1]:
        x = resize(x, image_size)
    if channels == 3:
        x = x.repeat(1, 3, 1, 1)
    return ImageData(images=x, labels=torch.from_numpy(labels), class_names=list(classes),
                     name=name)


def to_unit_range(pixels: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8 0..255 -> float32 -1..1 (0 -> -1, 255 -> 1 exactly)."""
    return torch.as_tensor(pixels).float().div_(127.5).sub_(1.0)


def resize(x: torch.Tensor, size: int, chunk: int = 4096) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, size, size), bilinear with antialiasing, in chunks to cap memory."""
    out = torch.empty(len(x), x.shape[1], size, size)
    for i in range(0, len(x), chunk):
        out[i:i + chunk] = F.interpolate(x[i:i + chunk], size=(size, size), mode="bilinear",
                                         antialias=True, align_corners=False)
    return out.clamp_(-1.0, 1.0)


class IndexSampler:
    """Batches of indices into an in-memory data set, reshuffled every epoch.

    The permutations come from the global torch RNG (on the CPU), so a checkpoint that saves
    `torch.get_rng_state()` together with `state_dict()` resumes the exact same batches.
    Each epoch yields N // batch_size batches and drops the remainder; when N < batch_size,
    every batch is drawn with replacement instead.
    """

    def __init__(self, n: int, batch_size: int):
        if n < 1:
            raise GankitError(f"the data set is empty (N = {n}): give data with images in it")
        if batch_size < 1:
            raise GankitError(f"batch size must be a positive integer, got {batch_size}")
        self.n = n
        self.batch_size = batch_size
        self.perm = torch.empty(0, dtype=torch.long)  # (N,) order of the current epoch
        self.pos = 0  # next unread place in perm
        self.epoch = 0  # epochs started so far

    @property
    def batches_per_epoch(self) -> int:
        return max(self.n // self.batch_size, 1)

    def next(self, device: torch.device | str | None = None) -> torch.Tensor:
        """LongTensor (batch_size,) of indices, on `device`."""
        if self.n < self.batch_size:
            return torch.randint(self.n, (self.batch_size,)).to(device)
        if self.pos + self.batch_size > len(self.perm):
            self.perm = torch.randperm(self.n)
            self.pos = 0
            self.epoch += 1
        idx = self.perm[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        return idx.to(device)

    def state_dict(self) -> dict:
        return {"n": self.n, "batch_size": self.batch_size, "perm": self.perm.clone(),
                "pos": self.pos, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        if (state["n"], state["batch_size"]) != (self.n, self.batch_size):
            raise GankitError(
                f"the checkpoint was trained on {state['n']} examples in batches of "
                f"{state['batch_size']}, but this run has {self.n} in batches of "
                f"{self.batch_size}: resume with the same data and batch size")
        self.perm = torch.as_tensor(state["perm"], dtype=torch.long).cpu().clone()
        self.pos = int(state["pos"])
        self.epoch = int(state["epoch"])


__all__ = ["DATA_NAMES", "ImageData", "IndexSampler", "ToyData", "load_data"]
