"""The data types every part of gankit reads: images or points held in memory, and the
sampler that batches them (the streamed folder in `stream.py` reads these too)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gankit.errors import GankitError


@dataclass(repr=False, eq=False)
class ImageData:
    images: torch.Tensor  # (N, C, H, W) float32 in [-1, 1]
    labels: torch.Tensor | None  # (N,) int64, or None when the source has none
    class_names: list[str] | None
    name: str  # "mnist", "fashion" or "folder"

    is_points = False  # images, not 2D points
    is_video = False

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

    is_points = True  # a toy mixture: 2D points
    is_video = False

    @property
    def shape(self) -> tuple[int]:
        return (2,)

    def __len__(self) -> int:
        return len(self.points)

    def __repr__(self) -> str:
        return (f"ToyData(name={self.name!r}, points={tuple(self.points.shape)}, "
                f"components={len(self.centres)}, std={self.std})")


def to_unit_range(pixels: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8 0..255 -> float32 -1..1 (0 -> -1, 255 -> 1 exactly)."""
    return torch.as_tensor(pixels).float().div_(127.5).sub_(1.0)


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
