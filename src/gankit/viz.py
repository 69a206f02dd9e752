"""Pictures of samples: image grids (torchvision) and scatter plots of 2D points (matplotlib)."""

from pathlib import Path

import torch
from PIL import Image

from gankit.artifacts import atomic_write


def grid_image(images: torch.Tensor, nrow: int = 8) -> Image.Image:
    """(N, C, H, W) in [-1, 1] -> one grid as a PIL image: the drawing of every grid gankit
    writes (`save_grid`) or shows (`gankit.show`), as torchvision's save_image draws it."""
    # Imported here: torchvision takes seconds to import, and `gankit train` would pay them
    # before its first step (issue 14's start-up budget is 2 s beyond torch itself).
    from torchvision.utils import make_grid
    grid = make_grid(images.detach().float().cpu(), nrow=nrow, normalize=True,
                     value_range=(-1, 1), padding=2, pad_value=0.5)  # (3, H', W') in [0, 1]
    pixels = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
    return Image.fromarray(pixels)


def save_grid(images: torch.Tensor, path: Path, nrow: int = 8) -> None:
    """(N, C, H, W) in [-1, 1] -> one PNG grid."""
    picture = grid_image(images, nrow)
    atomic_write(Path(path), lambda tmp: picture.save(tmp, format="png"))


def save_scatter(points: torch.Tensor, path: Path, centres: torch.Tensor | None = None,
                 title: str = "") -> None:
    """(N, 2) generated points, with the mixture's centres marked where known."""
    import matplotlib  # here, not at the top: it takes a second, and gankit --help needs none of it
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    p = points.float().numpy()
    ax.scatter(p[:, 0], p[:, 1], s=2, alpha=0.4, color="tab:blue", label="generated")
    if centres is not None:
        c = centres.numpy()
        ax.scatter(c[:, 0], c[:, 1], s=30, marker="x", color="tab:red", label="mode centres")
        lim = abs(c).max() * 1.5
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
