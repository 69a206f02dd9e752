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

from pathlib import Path

import torch
import torch.nn.functional as F

from gankit.data import folder, mnist, splits, toy
from gankit.data.base import ImageData, IndexSampler, ToyData, to_unit_range
from gankit.data.stream import FolderDataset, StreamedImages
from gankit.data.video import VIDEO_NAMES, VideoData, load_video
from gankit.errors import GankitError
from gankit.models.size import check_fits

DATA_NAMES = ("mnist", "fashion", "folder", "toy-ring", "toy-grid", *VIDEO_NAMES)
SPLITS = ("train", "test", "all")
DEFAULT_FOLDER_SIZE = 64


def load_data(name: str, path: str | None = None, *, image_size: int | None = None,
              channels: int | None = None, split: str = "train", download: bool = False,
              n_toy: int = 100_000, seed: int = 0, stream_mb: float | None = None,
              frames: int = 16, digits: int = 2, n_clips: int = 10_000,
              background: str = "white", fit: str = "crop"):
    """Load a data set by name; user mistakes raise `GankitError` naming the fix.

    name: one of DATA_NAMES.
    path: mnist -> empty for the bundled set, else an IDX directory or an .npz;
          fashion -> an IDX directory or an .npz; folder -> a directory of images.
    image_size: side of the square images (default: 28 for mnist/fashion, 64 for folder).
    channels: 1 or 3 (default: 1 for mnist/fashion, 3 for folder); 3 on a grayscale
          source repeats the channel; 4 for a folder with background="alpha".
    background, fit: a folder's transparent pixels are composited onto `background` (a colour,
          or "alpha": kept as a fourth channel); `fit` makes images square ("crop" or "pad").
    split: "train", "test" or "all": IDX files by name; in the two files the evaluators were
          trained on (the bundled digits, fashion-mnist-70k.npz: `gankit.data.splits`) their
          fixed split, so training never sees the images metrics hold out; a folder of 50 or
          more images holds out 15 % by a hash of each path (`folder.split_files`); ignored
          for other .npz files.
    stream_mb: a folder whose image files add up to more than this many MB is not loaded
          but returned as `StreamedImages`, read from disk while training (None: never).
    download: fetch mnist/fashion into `path` with torchvision first.
    n_toy, seed: number of points and the seed for toy-ring / toy-grid, which ignore
          image_size and channels.
    frames, digits, n_clips: moving-mnist's clips (`gankit.data.video`; seeded by `seed`,
          digits from `split`); data.name=video reads `videos` from the .npz at `path`.
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
        _fits(n_toy * (2 * 4 + 8), f"data.n_toy={n_toy:,} points", "lower data.n_toy")
        points, labels, centres, std = toy.sample(name, n_toy, seed)
        return ToyData(points=points, centres=centres, std=std, name=name, labels=labels)

    if split not in SPLITS:
        raise GankitError(f"data.split {split!r} is not one of {', '.join(SPLITS)}")
    if channels is not None and channels not in (1, 3, 4):
        raise GankitError(f"data.channels must be 1 or 3 (4: a folder with "
                          f"data.background=alpha), got {channels!r}")
    if image_size is not None and (not isinstance(image_size, int) or image_size < 1):
        raise GankitError(f"data.image_size must be a positive integer, got {image_size!r}")
    if name in VIDEO_NAMES:
        if name == "moving-mnist":  # uint8 clips, synthesised in memory
            side = image_size or 64
            _fits(n_clips * frames * side * side * (channels or 1),
                  f"moving-mnist's {n_clips:,} clips of {frames} frames of {side}x{side}",
                  "lower data.n_clips, data.frames or data.image_size")
        return load_video(name, path, image_size=image_size, channels=channels, frames=frames,
                          digits=digits, n_clips=n_clips, seed=seed, split=split)

    if channels == 4 and not (name == "folder" and background == folder.ALPHA):
        raise GankitError("data.channels=4 is a folder's colour plus transparency: set "
                          "data.name=folder and data.background=alpha, or data.channels=3")
    if name == "folder":
        alpha = background == folder.ALPHA
        size, channels = image_size or DEFAULT_FOLDER_SIZE, channels or (4 if alpha else 3)
        folder.check_options(channels, background, fit)
        files = folder.find_images(path)
        files = folder.split_files(Path(path).expanduser(), files, split)
        if stream_mb is not None and sum(f.stat().st_size for f in files) > stream_mb * 1e6:
            return StreamedImages(FolderDataset(files, size, channels, background, fit))
        _fits(len(files) * channels * size * size * 4 * 2,  # the images, and their stack
              f"{len(files):,} images of {path} at {size}x{size}",
              "set data.image_size smaller, or data.stream_mb lower to stream them from disk")
        pixels = torch.stack([folder.load_image(f, size, channels, background, fit)
                              for f in files])
        labels, classes = folder.folder_classes(path, files)
        return ImageData(images=to_unit_range(pixels), labels=labels, class_names=classes,
                         name=name)

    images, labels, classes = mnist.load(name, path, split, download)
    n, h, w = images.shape
    side = image_size or w
    # float32 copies: the whole file, then (resized, or repeated to 3 channels) the result
    _fits(n * 4 * (h * w + side * side * (channels or 1)),
          f"{n:,} images of {h}x{w} from {path or 'the bundled digits'} as float32"
          + (f" at data.image_size={side}" if image_size else ""),
          "set data.image_size smaller, or use a file of fewer or smaller images")
    if split != "all" and splits.is_split_file(name, path):
        train, test = splits.split_indices(name, len(images))
        keep = train if split == "train" else test
        images, labels = images[keep], labels[keep]
    x = to_unit_range(torch.from_numpy(images).unsqueeze(1))  # (N, 1, H, W)
    if image_size is not None and image_size != x.shape[-1]:
        x = resize(x, image_size)
    if channels == 3:
        x = x.repeat(1, 3, 1, 1)
    return ImageData(images=x, labels=torch.from_numpy(labels), class_names=list(classes),
                     name=name)


def _fits(need: int, what: str, fix: str) -> None:
    check_fits(need, what, fix, "cpu")


def resize(x: torch.Tensor, size: int, chunk: int = 4096) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, size, size), bilinear with antialiasing, in chunks to cap memory."""
    out = torch.empty(len(x), x.shape[1], size, size)
    for i in range(0, len(x), chunk):
        out[i:i + chunk] = F.interpolate(x[i:i + chunk], size=(size, size), mode="bilinear",
                                         antialias=True, align_corners=False)
    return out.clamp_(-1.0, 1.0)


__all__ = ["DATA_NAMES", "ImageData", "IndexSampler", "ToyData", "VideoData", "load_data"]
