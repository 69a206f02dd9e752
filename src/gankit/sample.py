"""`gankit sample`: images from a generator snapshot, as a PNG grid or a uint8 .npz."""

import math
from pathlib import Path

from gankit.artifacts import write_npz
from gankit.errors import GankitError
from gankit.generator import load
from gankit.video import write_clips
from gankit.viz import to_uint8


def write_samples(snapshot: str | None, out: str, n: int = 64, seed: int = 0,
                  label: int | str | None = None,
                  pretrained: str | None = None) -> tuple[Path, int]:
    """Samples of a snapshot (or a shipped generator) as a PNG grid or an .npz of uint8 arrays;
    returns the path and the number of samples drawn.

    A conditional G draws class `label` (index or name), or, with none, balanced classes: in a
    PNG one class per row, named on the left, with n rounded up to a multiple of the class
    count so that no row is short.
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
        return write_clips(g, out_path, n, seed), n
    if out_path.suffix.lower() == ".gif":
        raise GankitError(f"--out {out}: .gif is for video generators; this one draws images: "
                          "write .png or .npz")
    png = out_path.suffix.lower() == ".png"
    rows_are_classes = png and g.n_classes > 0 and label is None
    if rows_are_classes:
        n = math.ceil(n / g.n_classes) * g.n_classes
    g.check_memory(n)
    y = g.labels(n, label)                          # (n,) or None; refuses a bad --class
    x = g.generate(n, seed, y=y)
    if png:
        g.save(x, out_path, rows_are_classes=rows_are_classes)
    else:
        arrays = {"points": x.numpy()} if g.is_points else {"images": to_uint8(x)}
        if y is not None:
            arrays["labels"] = y.numpy()
        write_npz(out_path, **arrays)
    return out_path, n
