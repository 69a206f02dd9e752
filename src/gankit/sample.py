"""`gankit sample`: images from a generator snapshot, as a PNG grid or a uint8 .npz."""

import math
from pathlib import Path

import numpy as np
import torch

from gankit.errors import GankitError
from gankit.artifacts import atomic_write
from gankit.viz import save_grid, save_scatter


def default_labels(n: int, n_classes: int) -> torch.Tensor:
    """(n,) balanced labels in runs of one class: one class per row in a ceil(n/K)-wide grid."""
    return torch.arange(n) // math.ceil(n / n_classes)


def sample_labels(G: torch.nn.Module, n: int, labels=None) -> torch.Tensor | None:
    """The labels `generate` uses: None for an unconditional G; else an int -> every sample
    that class, None -> `default_labels`, a LongTensor (n,) as is; out-of-range is refused."""
    k = getattr(G, "n_classes", 0) or 0
    if not k:
        if labels is not None:
            raise GankitError("this generator is unconditional (model.n_classes=0): it has no "
                              "classes to choose; drop --class")
        return None
    if labels is None:
        return default_labels(n, k)
    if isinstance(labels, int):
        if not 0 <= labels < k:
            raise GankitError(f"class {labels} is out of range: this generator has classes "
                              f"0..{k - 1}")
        return torch.full((n,), labels, dtype=torch.long)
    return torch.as_tensor(labels, dtype=torch.long)


@torch.no_grad()
def generate(G: torch.nn.Module, n: int, seed: int = 0, batch: int = 500,
             labels=None) -> torch.Tensor:
    """n samples from G (in eval mode), seeded, in batches. Returns (n, ...) on the CPU.

    labels (conditional G only): an int class, a LongTensor (n,), or None for balanced
    `default_labels`. z is drawn the same way either way, so a seed fixes z.
    """
    gen = torch.Generator().manual_seed(seed)
    device = next(G.parameters()).device
    z = torch.randn(n, G.z_dim, generator=gen)
    y = sample_labels(G, n, labels)
    return torch.cat([G(z[i:i + batch].to(device),
                        None if y is None else y[i:i + batch].to(device)).cpu()
                      for i in range(0, n, batch)])


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> uint8 (N, H, W) for one channel, else (N, H, W, C)."""
    x = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    x = x.permute(0, 2, 3, 1).numpy()
    return x[..., 0] if x.shape[-1] == 1 else x


def check_class(label: int | None, G: torch.nn.Module, meta: dict) -> None:
    """Refuse --class for an unconditional G or out of range, naming the classes there are."""
    if label is None:
        return
    k = getattr(G, "n_classes", 0) or 0
    if not k:
        raise GankitError(f"--class {label}: this generator is unconditional (model "
                          f"{meta.get('model')!r} with n_classes=0), so it cannot draw a chosen "
                          "class; drop --class, or train a conditional preset (cgan-mnist, "
                          "cdcgan-mnist, cdcgan-fashion)")
    if not 0 <= label < k:
        names = meta.get("class_names") or [str(i) for i in range(k)]
        listing = ", ".join(f"{i} {n}" if n != str(i) else n for i, n in enumerate(names))
        raise GankitError(f"--class {label} is out of range: this generator has classes "
                          f"0..{k - 1} ({listing})")


def write_samples(snapshot: str | None, out: str, n: int = 64, seed: int = 0,
                  label: int | None = None, pretrained: str | None = None) -> Path:
    """Samples of a snapshot (or a shipped generator) as a PNG grid or an .npz of uint8 arrays.

    A conditional G draws class `label`, or, with none, balanced classes one per grid row.
    """
    from gankit.pretrained import resolve

    out_path = Path(out)
    if out_path.suffix.lower() not in (".png", ".npz"):
        raise GankitError(f"--out {out}: the file must end in .png (a grid) or .npz (arrays)")
    if not out_path.parent.is_dir():
        raise GankitError(f"--out {out}: the folder {out_path.parent} does not exist")
    G, meta = resolve(snapshot, pretrained)
    check_class(label, G, meta)
    y = sample_labels(G, n, label)                  # (n,) or None
    x = generate(G, n, seed, labels=y)
    toy = len(meta["data_shape"]) == 1
    if out_path.suffix.lower() == ".npz":
        arrays = {"points": x.numpy()} if toy else {"images": to_uint8(x)}
        if y is not None:
            arrays["labels"] = y.numpy()
        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)
        atomic_write(out_path, write)
    elif toy:
        save_scatter(x, out_path, title=f"{n} samples")
    else:
        conditional_rows = y is not None and label is None
        cols = math.ceil(n / G.n_classes) if conditional_rows else math.ceil(math.sqrt(n))
        save_grid(x, out_path, nrow=cols)
    return out_path
