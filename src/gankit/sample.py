"""`gankit sample`: images from a generator snapshot, as a PNG grid or a uint8 .npz."""

from pathlib import Path

import numpy as np
import torch

from gankit.errors import GankitError
from gankit.artifacts import atomic_write
from gankit.generator import Generator, load
from gankit.video import write_clips


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> uint8 (N, H, W) for one channel, else (N, H, W, C)."""
    x = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    x = x.permute(0, 2, 3, 1).numpy()
    return x[..., 0] if x.shape[-1] == 1 else x


def write_samples(snapshot: str | None, out: str, n: int = 64, seed: int = 0,
                  label: int | str | None = None, pretrained: str | None = None) -> Path:
    """Samples of a snapshot (or a shipped generator) as a PNG grid or an .npz of uint8 arrays.

    A conditional G draws class `label` (index or name), or, with none, balanced classes one
    per grid row.
    """
    out_path = Path(out)
    if out_path.suffix.lower() not in (".png", ".npz", ".gif"):
        raise GankitError(f"--out {out}: the file must end in .png (a grid) or .npz (arrays) "
                          "(.gif: clips of a video generator)")
    if not out_path.parent.is_dir():
        raise GankitError(f"--out {out}: the folder {out_path.parent} does not exist")
    g = load(snapshot, pretrained)
    if g.is_video:  # clips: gankit.video draws and stores them
        if label is not None:
            g.class_index(label)                    # refuses --class: video G's are unconditional
        return write_clips(g, out_path, n, seed)
    if out_path.suffix.lower() == ".gif":
        raise GankitError(f"--out {out}: .gif is for video generators; this one draws images: "
                          "write .png or .npz")
    g.check_memory(n)
    y = g.labels(n, label)                          # (n,) or None; refuses a bad --class
    x = g.generate(n, seed, y=y)
    if out_path.suffix.lower() == ".npz":
        arrays = {"points": x.numpy()} if g.is_points else {"images": to_uint8(x)}
        if y is not None:
            arrays["labels"] = y.numpy()
        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)
        atomic_write(out_path, write)
    else:
        g.save(x, out_path, rows_are_classes=y is not None and label is None)
    return out_path
