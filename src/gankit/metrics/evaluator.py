"""Domain evaluator classifiers: the feature space for FID, KID, IS, precision/recall and coverage.

Inception is the wrong lens for 28x28 grayscale digits, so each data set gets a small CNN
trained on it (scripts/train_evaluator.py). Its penultimate layer plays the role Inception's
pool3 plays for FID; its logits give class probabilities for IS and class coverage.

Inputs are (B, 1, 28, 28) floats in [-1, 1], the generators' output range (uint8 v -> v/127.5 - 1).

The train/test split of each data set is fixed here, once, so that "real images = test split"
in the metrics means exactly the images the shipped evaluator never trained on.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gankit.errors import GankitError

EVALUATORS = ("mnist", "fashion")

# Split definition: a permutation from numpy default_rng(SPLIT_SEED); the first
# n_test indices are the held-out test split, the rest train.
SPLIT_SEED = 0
SPLIT_SIZES = {  # dataset -> (n_total, n_test)
    "mnist": (10_000, 2_000),
    "fashion": (70_000, 10_000),
}
DATA_FILES = {"mnist": "mnist-10k.npz", "fashion": "fashion-mnist-70k.npz"}


def _block(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    # conv without bias: BatchNorm supplies the shift
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class Evaluator(nn.Module):
    """Small CNN classifier for 28x28 grayscale images; `features` is the penultimate layer."""

    def __init__(self, channels: int = 32, feature_dim: int = 128, n_classes: int = 10,
                 dropout: float = 0.3):
        super().__init__()
        c = channels
        # stride 2 first: full-resolution feature maps dominate CPU time at 28x28
        self.body = nn.Sequential(
            _block(1, c, 2),              # (B, c, 14, 14)
            _block(c, 2 * c, 1),          # (B, 2c, 14, 14)
            _block(2 * c, 4 * c, 2),      # (B, 4c, 7, 7)
            nn.AdaptiveAvgPool2d(3),      # (B, 4c, 3, 3): keeps coarse layout, unlike a global pool
            nn.Flatten(),                 # (B, 36c)
        )
        self.feature = nn.Sequential(
            nn.Linear(36 * c, feature_dim),  # (B, F)
            nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(feature_dim, n_classes)  # (B, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) in [-1, 1] -> (B, feature_dim) non-negative penultimate features."""
        return self.feature(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) in [-1, 1] -> (B, n_classes) logits."""
        return self.head(self.dropout(self.features(x)))


# ---- shipped weights ------------------------------------------------------------------

def _check_name(dataset: str) -> None:
    if dataset not in EVALUATORS:
        raise GankitError(f"no evaluator for data set {dataset!r}; available: {', '.join(EVALUATORS)}")


def _weights_file(name: str):
    # files("gankit") rather than the weights folder itself: that folder has no __init__.py
    return resources.files("gankit").joinpath("metrics", "weights", name)


def evaluator_card(dataset: str) -> dict:
    """The JSON card written beside the shipped weights: architecture, data, split, accuracy."""
    _check_name(dataset)
    card = _weights_file(f"{dataset}-evaluator.json")
    if not card.is_file():
        raise GankitError(f"evaluator card {dataset}-evaluator.json is missing from the package; "
                          f"run scripts/train_evaluator.py --data {dataset}")
    return json.loads(card.read_text())


def load_evaluator(dataset: str) -> Evaluator:
    """Build the shipped evaluator for `dataset` ("mnist" or "fashion"), in eval mode on CPU."""
    from safetensors.torch import load as load_safetensors

    card = evaluator_card(dataset)
    weights = _weights_file(card["weights_file"])
    if not weights.is_file():
        raise GankitError(f"evaluator weights {card['weights_file']} are missing from the package; "
                          f"run scripts/train_evaluator.py --data {dataset}")
    model = Evaluator(**card["config"])
    model.load_state_dict(load_safetensors(weights.read_bytes()))
    return model.eval()


@torch.no_grad()
def featurize(model: Evaluator, images: torch.Tensor, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 1, 28, 28) in [-1, 1] -> (features (N, F), logits (N, n_classes)), in batches."""
    feats, logits = [], []
    for batch in images.split(batch_size):
        f = model.features(batch)
        feats.append(f)
        logits.append(model.head(f))
    return torch.cat(feats), torch.cat(logits)


# ---- the fixed split ----------------------------------------------------------------------

def split_indices(dataset: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, test_idx) into a data set file of `n` images; the same on every machine."""
    _check_name(dataset)
    n_total, n_test = SPLIT_SIZES[dataset]
    if n != n_total:
        raise GankitError(f"{dataset} split is defined for {n_total} images, got {n}; "
                          f"use the file {DATA_FILES[dataset]}")
    perm = np.random.default_rng(SPLIT_SEED).permutation(n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def load_split(dataset: str, split: str, npz: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, 28, 28) float32 in [-1, 1] and labels (N,) int64 of one split of an npz file."""
    if split not in ("train", "test"):
        raise GankitError(f"split must be 'train' or 'test', got {split!r}")
    npz = Path(npz)
    if not npz.is_file():
        raise GankitError(f"data file not found: {npz} (expected {DATA_FILES.get(dataset, 'an .npz')})")
    with np.load(npz) as data:
        if "images" not in data or "labels" not in data:
            raise GankitError(f"{npz} is not a gankit data file: it needs arrays 'images' and 'labels'")
        images, labels = data["images"], data["labels"]
    train_idx, test_idx = split_indices(dataset, len(images))
    idx = train_idx if split == "train" else test_idx
    x = torch.from_numpy(images[idx]).float().div_(127.5).sub_(1.0).unsqueeze(1)  # (N, 1, 28, 28)
    y = torch.from_numpy(labels[idx].astype(np.int64))  # (N,)
    return x, y


def accuracy(model: Evaluator, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of `images` the model classifies as `labels`."""
    _, logits = featurize(model, images)
    return (logits.argmax(1) == labels).float().mean().item()


__all__ = ["EVALUATORS", "Evaluator", "load_evaluator", "evaluator_card", "featurize",
           "split_indices", "load_split", "accuracy", "SPLIT_SEED", "SPLIT_SIZES", "DATA_FILES"]
