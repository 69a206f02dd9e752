"""`gankit sample`: images from a generator snapshot, as a PNG grid or a uint8 .npz."""

import math
from pathlib import Path

import numpy as np
import torch

from gankit.errors import GankitError
from gankit.train.checkpoint import atomic_write, load_snapshot
from gankit.viz import save_grid, save_scatter


@torch.no_grad()
def generate(G: torch.nn.Module, n: int, seed: int = 0, batch: int = 500) -> torch.Tensor:
    """n samples from G (in eval mode), seeded, in batches. Returns (n, ...) on the CPU."""
    gen = torch.Generator().manual_seed(seed)
    device = next(G.parameters()).device
    z = torch.randn(n, G.z_dim, generator=gen)
    return torch.cat([G(z[i:i + batch].to(device)).cpu() for i in range(0, n, batch)])


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> uint8 (N, H, W) for one channel, else (N, H, W, C)."""
    x = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    x = x.permute(0, 2, 3, 1).numpy()
    return x[..., 0] if x.shape[-1] == 1 else x


def write_samples(snapshot: str, out: str, n: int = 64, seed: int = 0) -> Path:
    out_path = Path(out)
    if out_path.suffix.lower() not in (".png", ".npz"):
        raise GankitError(f"--out {out}: the file must end in .png (a grid) or .npz (arrays)")
    if not out_path.parent.is_dir():
        raise GankitError(f"--out {out}: the folder {out_path.parent} does not exist")
    G, meta = load_snapshot(snapshot)
    x = generate(G, n, seed)
    toy = len(meta["data_shape"]) == 1
    if out_path.suffix.lower() == ".npz":
        arrays = {"points": x.numpy()} if toy else {"images": to_uint8(x)}
        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)
        atomic_write(out_path, write)
    elif toy:
        save_scatter(x, out_path, title=f"{n} samples")
    else:
        save_grid(x, out_path, nrow=int(math.ceil(math.sqrt(n))))
    return out_path
