"""Training batches: indexed from memory, or streamed from disk for image folders too big for it.

`batches_for(data, ...)` gives the trainer one object with `next(device)` -> a (B, ...) batch
and a `state_dict` for checkpoints, so the trainer never asks where the data lives.

A streamed folder is read by a torch DataLoader with worker processes, which decode and
resize images while the model trains. Its batch order is a pure function of (seed, epoch),
so a checkpoint stores only how many batches were consumed, and a resumed run rebuilds the
loader at that place: batches the workers had prefetched but the trainer never took are not
lost, and none is seen twice.
"""

from __future__ import annotations

import itertools

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from gankit.data.base import ImageData, IndexSampler, ToyData, to_unit_range
from gankit.data.folder import load_image
from gankit.data.video import VideoBatches, VideoData
from gankit.errors import GankitError


class FolderDataset(Dataset):
    """Images under a folder, each decoded on demand: float (C, size, size) in [-1, 1]."""

    def __init__(self, files: list, size: int, channels: int, background: str = "white",
                 fit: str = "crop"):
        self.files, self.size, self.channels = files, size, channels
        self.background, self.fit = background, fit

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> torch.Tensor:
        return to_unit_range(load_image(self.files[i], self.size, self.channels,
                                             self.background, self.fit))


class StreamedImages:
    """An image folder that is read from disk while training instead of held in memory."""

    is_points = False
    is_video = False

    def __init__(self, dataset: FolderDataset, name: str = "folder"):
        self.dataset, self.name = dataset, name
        self.labels, self.class_names = None, None

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.dataset.channels, self.dataset.size, self.dataset.size)

    def __len__(self) -> int:
        return len(self.dataset)

    def __repr__(self) -> str:
        return f"StreamedImages(name={self.name!r}, images={len(self)}, shape={self.shape})"


class MemoryBatches:
    """Batches indexed out of a tensor already on the training device."""

    def __init__(self, x: torch.Tensor, batch_size: int,
                 memory_format: torch.memory_format = torch.contiguous_format,
                 labels: torch.Tensor | None = None):
        self.x = x.contiguous(memory_format=memory_format) if x.dim() == 4 else x
        self.y = None if labels is None else labels.to(x.device)   # (N,) for a conditional GAN
        self.sampler = IndexSampler(len(x), batch_size)

    def next(self, device) -> torch.Tensor:
        return self.x[self.sampler.next(device)]

    def next_labelled(self, device) -> tuple[torch.Tensor, torch.Tensor]:
        """(images (B, ...), their labels (B,)): the same draw as `next`, labels beside."""
        idx = self.sampler.next(device)
        return self.x[idx], self.y[idx]

    def state_dict(self) -> dict:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.sampler.load_state_dict(state)


class _EpochBatches(Sampler):
    """Endless batches of indices: epoch e is the permutation seeded by (seed, e)."""

    def __init__(self, n: int, batch_size: int, seed: int, start: int):
        self.n, self.batch_size, self.seed, self.start = n, batch_size, seed, start
        self.per_epoch = max(n // batch_size, 1)

    def __iter__(self):
        epoch, first = divmod(self.start, self.per_epoch)
        for e in itertools.count(epoch):
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + e)
            if self.n < self.batch_size:  # fewer images than a batch: draw with replacement
                order = torch.randint(self.n, (self.per_epoch * self.batch_size,), generator=g)
            else:
                order = torch.randperm(self.n, generator=g)
            for b in range(first if e == epoch else 0, self.per_epoch):
                yield order[b * self.batch_size:(b + 1) * self.batch_size].tolist()


class StreamBatches:
    """Batches decoded by DataLoader workers; the state is the number of batches consumed."""

    def __init__(self, data: StreamedImages, batch_size: int, workers: int, seed: int,
                 memory_format: torch.memory_format = torch.contiguous_format):
        self.data, self.batch_size, self.workers, self.seed = data, batch_size, workers, seed
        self.memory_format = memory_format
        self.consumed = 0
        self._it = None

    def _loader(self):
        sampler = _EpochBatches(len(self.data), self.batch_size, self.seed, self.consumed)
        return iter(DataLoader(self.data.dataset, batch_sampler=sampler,
                               num_workers=self.workers, pin_memory=torch.cuda.is_available(),
                               persistent_workers=False))

    def next(self, device) -> torch.Tensor:
        if self._it is None:
            self._it = self._loader()
        try:
            batch = next(self._it)
        except GankitError as e:
            # A worker's error arrives with its traceback folded into the message: keep
            # the one line that names the bad file.
            raise GankitError(str(e).strip().splitlines()[-1].removeprefix(
                "gankit.errors.GankitError: ")) from None
        self.consumed += 1
        return batch.to(device, non_blocking=True, memory_format=self.memory_format)

    def state_dict(self) -> dict:
        return {"n": len(self.data), "batch_size": self.batch_size, "seed": self.seed,
                "consumed": self.consumed}

    def load_state_dict(self, state: dict) -> None:
        if (state.get("n"), state.get("batch_size")) != (len(self.data), self.batch_size):
            raise GankitError(
                f"the checkpoint streamed {state.get('n')} images in batches of "
                f"{state.get('batch_size')}, but this run has {len(self.data)} in batches of "
                f"{self.batch_size}: resume with the same data and batch size")
        self.seed, self.consumed, self._it = int(state["seed"]), int(state["consumed"]), None


def batches_for(data, batch_size: int, device: torch.device, *, workers: int = 2, seed: int = 0,
                memory_format: torch.memory_format = torch.contiguous_format,
                labels: torch.Tensor | None = None):
    """The trainer's batch source for any data set load_data returns."""
    if isinstance(data, StreamedImages):
        return StreamBatches(data, batch_size, workers, seed, memory_format)
    if isinstance(data, ToyData):
        return MemoryBatches(data.points.to(device), batch_size)
    if isinstance(data, VideoData):  # uint8 clips, made floats one batch at a time
        return VideoBatches(data.videos, batch_size)
    if isinstance(data, ImageData):
        return MemoryBatches(data.images.to(device), batch_size, memory_format, labels)
    raise TypeError(f"no batch source for {type(data).__name__}")
