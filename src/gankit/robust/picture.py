"""The attack picture: clean images, their perturbed copies at each ε, and the differences."""

from pathlib import Path

import torch

from gankit.artifacts import atomic_write


def _show(ax, img: torch.Tensor) -> None:
    """(C, H, W) in [-1, 1] -> an image on `ax`."""
    x = ((img.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()
    ax.imshow(x[..., 0] if x.shape[-1] == 1 else x, cmap="gray", vmin=0, vmax=1,
              interpolation="nearest")


def save_attack_picture(path: Path, clean: torch.Tensor, labels: list[str], clean_pred: list[str],
                        rows: list[tuple[float, torch.Tensor, list[str]]], title: str) -> None:
    """clean: (k, C, H, W); rows: (ε, perturbed (k, C, H, W), predicted names) per ε.

    One column per example: the clean image, then for each ε the perturbed image (its
    predicted class above it, red when wrong) and the difference on a blue-white-red scale
    running from -ε to +ε (on the [0, 1] pixel scale)."""
    # Here, not at the top: it takes a second, and gankit --help needs none of it. The object
    # API (no pyplot) leaves the caller's backend alone: a notebook keeps drawing inline.
    from matplotlib.figure import Figure

    k = len(clean)
    n_rows = 1 + 2 * len(rows)
    fig = Figure(figsize=(1.1 * k + 1.2, 1.25 * n_rows))
    axes = fig.subplots(n_rows, k, squeeze=False)
    for j in range(k):
        _show(axes[0, j], clean[j])
        axes[0, j].set_title(clean_pred[j], fontsize=7,
                             color="black" if clean_pred[j] == labels[j] else "red")
    axes[0, 0].set_ylabel("clean", fontsize=8)
    for r, (eps, adv, pred) in enumerate(rows):
        img_row, diff_row = 1 + 2 * r, 2 + 2 * r
        diff = ((adv - clean) / 2).mean(1)  # (k, H, W) on the [0, 1] scale
        for j in range(k):
            _show(axes[img_row, j], adv[j])
            axes[img_row, j].set_title(pred[j], fontsize=7,
                                       color="black" if pred[j] == labels[j] else "red")
            axes[diff_row, j].imshow(diff[j].numpy(), cmap="bwr", vmin=-max(eps, 1e-8),
                                     vmax=max(eps, 1e-8))
        axes[img_row, 0].set_ylabel(f"ε={eps:g}", fontsize=8)
        axes[diff_row, 0].set_ylabel("difference", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{title}\ndifference: red brighter, blue darker, full colour = ε; "
                 "red labels are wrong predictions", fontsize=8)
    fig.tight_layout()
    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png", dpi=100))
