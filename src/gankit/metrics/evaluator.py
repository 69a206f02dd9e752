"""Domain evaluator classifiers: the feature space for FID, KID, IS, precision/recall and coverage.

Inception is the wrong lens for 28x28 grayscale digits, so each data set gets a small CNN
trained on it (scripts/train_evaluator.py). Its penultimate layer plays the role Inception's
pool3 plays for FID; its logits give class probabilities for IS and class coverage.

Inputs are (B, 1, 28, 28) floats in [-1, 1], the generators' output range (uint8 v -> v/127.5 - 1).

The train/test split of each data set is fixed here, once, so that "real images = test split"
in the metrics means exactly the images the shipped evaluator never trained on.

The shipped weights are in the artifact format (`gankit.artifacts`): NAME-evaluator.safetensors
and a card of kind "evaluator" saying how it was built, trained and measured. `fit_classifier`
is the one training loop for this CNN, used by scripts/train_evaluator.py and by
`gankit attack train` (gankit.robust.adversarial).
"""

from __future__ import annotations

import math
import zipfile
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gankit import artifacts, progress
from gankit.data.splits import DATA_FILES, SPLIT_SEED, SPLIT_SIZES, split_indices
from gankit.errors import GankitError

EVALUATORS = ("mnist", "fashion")



def _block(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    # conv without bias: BatchNorm supplies the shift
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class Evaluator(nn.Module):
    """Small CNN classifier for 28x28 grayscale images (or, with `in_channels=3`, a colour
    folder's 32x32 ones: `folder_evaluator.py`); `features` is the penultimate layer."""

    def __init__(self, channels: int = 32, feature_dim: int = 128, n_classes: int = 10,
                 dropout: float = 0.3, in_channels: int = 1):
        super().__init__()
        c = channels
        # stride 2 first: full-resolution feature maps dominate CPU time at 28x28
        self.body = nn.Sequential(
            _block(in_channels, c, 2),    # (B, c, 14, 14)
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


MODEL = "gankit.metrics.evaluator.Evaluator"  # a card's `model` for this class


# "evaluator": the classifier whose features every metric uses; "judge": a second one trained
# apart (another seed, half as wide), to judge what was steered with the first (`explore control`).
ROLES = ("evaluator", "judge")


def _stem(dataset: str, role: str = "evaluator") -> Path:
    # files("gankit") rather than the weights folder itself: that folder has no __init__.py
    return Path(str(resources.files("gankit").joinpath("metrics", "weights", f"{dataset}-{role}")))


def _fix(dataset: str, role: str = "evaluator") -> str:
    return (f"run scripts/train_evaluator.py --data {dataset} --role {role} "
            "(or reinstall gankit)")


def evaluator_card(dataset: str, role: str = "evaluator") -> dict:
    """The card beside the shipped weights: architecture, data, split, accuracy, sha256."""
    _check_name(dataset)
    return artifacts.read_card(_stem(dataset, role), kind="evaluator", fix=_fix(dataset, role))


def has_judge(dataset: str) -> bool:
    return dataset in EVALUATORS and _stem(dataset, "judge").with_suffix(".json").is_file()


def from_card(state: dict, card: dict, where: str | Path, fix: str) -> Evaluator:
    """Rebuild an Evaluator (a shipped evaluator or an `attack train` classifier) from its
    state dict and card, in eval mode; a card for another model is one GankitError line."""
    if card.get("model") != MODEL or not isinstance(card.get("kwargs"), dict):
        raise GankitError(f"{where}: its card describes {card.get('model')!r}, not {MODEL}: {fix}")
    try:
        model = Evaluator(**card["kwargs"])
    except TypeError as e:
        raise GankitError(f"{where}: its card's kwargs do not build an Evaluator ({e}): {fix}") from None
    return artifacts.load_into(model, state, where, fix).eval()


def load_evaluator(dataset: str, role: str = "evaluator") -> Evaluator:
    """Build the shipped evaluator (or its judge) for `dataset` ("mnist" or "fashion"), in
    eval mode on CPU."""
    _check_name(dataset)
    stem, fix = _stem(dataset, role), _fix(dataset, role)
    state, card = artifacts.load(stem, kind="evaluator", fix=fix)
    return from_card(state, card, stem.name + ".safetensors", fix)


@torch.no_grad()
def featurize(model: Evaluator, images: torch.Tensor, batch_size: int = 500,
              bar=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 1, 28, 28) in [-1, 1] -> (features (N, F), logits (N, n_classes)), in batches
    (`bar`: a tqdm bar to advance)."""
    feats, logits = [], []
    for batch in images.split(batch_size):
        f = model.features(batch)
        feats.append(f)
        logits.append(model.head(f))
        if bar is not None:
            bar.update(len(batch))
    return torch.cat(feats), torch.cat(logits)


# ---- the fixed split ----------------------------------------------------------------------

def load_split(dataset: str, split: str, npz: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, 28, 28) float32 in [-1, 1] and labels (N,) int64 of one split of an npz file."""
    if split not in ("train", "test"):
        raise GankitError(f"split must be 'train' or 'test', got {split!r}")
    npz = Path(npz)
    if not npz.is_file():
        raise GankitError(f"data file not found: {npz} (expected {DATA_FILES.get(dataset, 'an .npz')})")
    try:
        with np.load(npz, allow_pickle=False) as data:
            if "images" not in data or "labels" not in data:
                raise GankitError(f"{npz} is not a gankit data file: it needs arrays 'images' "
                                  "and 'labels'")
            images, labels = data["images"], data["labels"]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:  # truncated or not an npz
        raise GankitError(f"cannot read {npz} as an .npz ({type(e).__name__}): give the data "
                          "set's .npz (np.savez with 'images' and 'labels')") from None
    if images.ndim != 3 or labels.shape != (len(images),):
        raise GankitError(f"{npz}: 'images' has shape {images.shape} and 'labels' "
                          f"{labels.shape}: expected (N, 28, 28) images and N labels")
    train_idx, test_idx = split_indices(dataset, len(images))
    idx = train_idx if split == "train" else test_idx
    x = torch.from_numpy(images[idx]).float().div_(127.5).sub_(1.0).unsqueeze(1)  # (N, 1, 28, 28)
    y = torch.from_numpy(labels[idx].astype(np.int64))  # (N,)
    return x, y


def accuracy(model: Evaluator, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of `images` the model classifies as `labels`."""
    _, logits = featurize(model, images)
    return (logits.argmax(1) == labels).float().mean().item()


# ---- training -----------------------------------------------------------------------------

def cross_entropy(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    """The plain batch loss: (loss, logits (B, n_classes))."""
    logits = model(x)
    return F.cross_entropy(logits, y), logits


def fit_classifier(model: nn.Module, train: tuple[torch.Tensor, torch.Tensor],
                   test: tuple[torch.Tensor, torch.Tensor], epochs: int, generator: torch.Generator,
                   batch_size: int = 128, lr: float = 3e-3, weight_decay: float = 5e-4,
                   batch_loss=cross_entropy, log=print, show_progress: bool = False) -> float:
    """Train `model` on `train` = (images (N, 1, 28, 28), labels (N,)); AdamW, one-cycle schedule.

    `batch_loss(model, x, y) -> (loss, logits)` is where callers add augmentation or
    adversarial examples; `generator` orders the batches (and may drive batch_loss's own
    randomness). The accuracy on `test` is logged after every epoch but never steers training,
    so it stays an honest held-out estimate. Returns the last one; `model` ends in eval mode.
    """
    x_train, y_train = train
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    per_epoch = math.ceil(len(x_train) / batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * per_epoch)
    start = time.perf_counter()
    steps = progress.bar(epochs * per_epoch, "training", unit="step", enabled=show_progress)
    for epoch in range(1, epochs + 1):
        model.train()
        loss_sum, correct = 0.0, 0
        for idx in torch.randperm(len(x_train), generator=generator).split(batch_size):
            y = y_train[idx]
            loss, logits = batch_loss(model, x_train[idx], y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y).sum().item()
            steps.update(1)
        model.eval()
        test_acc = accuracy(model, *test)
        elapsed = time.perf_counter() - start
        with steps.external_write_mode():  # the line above the bar, not through it
            log(f"epoch {epoch:2d}/{epochs}  loss {loss_sum / len(x_train):.4f}  "
                f"train acc {correct / len(x_train):.4f}  held-out acc {test_acc:.4f}  "
                f"{epoch * len(x_train) / elapsed:.0f} img/s  elapsed {elapsed:.0f}s  "
                f"ETA {elapsed / epoch * (epochs - epoch):.0f}s")
    steps.close()
    return test_acc


__all__ = ["EVALUATORS", "ROLES", "MODEL", "has_judge", "Evaluator", "load_evaluator", "evaluator_card", "from_card",
           "featurize", "split_indices", "load_split", "accuracy", "fit_classifier",
           "cross_entropy", "SPLIT_SEED", "SPLIT_SIZES", "DATA_FILES"]
