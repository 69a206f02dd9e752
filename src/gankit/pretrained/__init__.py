"""Generators shipped inside the package, ready to sample with no training.

    G, meta = gankit.pretrained.load("mnist-cdcgan")   # G in eval mode, meta = its card
    x = G(torch.randn(10, G.z_dim), torch.arange(10))  # (10, 1, 28, 28), digits 0..9

Each NAME is `NAME.safetensors` (the weights) and `NAME.json` (a generator card in the
artifact format of `gankit.artifacts`, the same as a run's `generator.json`, plus a `card`
entry: how it was trained and its metrics from `gankit.metrics.evaluate`). They are written
by `scripts/train_pretrained.py`; README.md in this folder shows the cards as a table.
"""

from importlib import resources
from pathlib import Path

import torch

from gankit import artifacts
from gankit.errors import GankitError
from gankit.models.snapshot import load_snapshot, shipped_names, shipped_snapshot


def _folder() -> Path:
    return Path(str(resources.files("gankit.pretrained")))


def names() -> list[str]:
    """The shipped generators (those with both their weights and their card)."""
    return shipped_names(_folder())


def snapshot_path(name: str) -> Path:
    """NAME.json inside the package (what `gankit.models.snapshot.load_snapshot` takes)."""
    return shipped_snapshot(name, _folder())


def load(name: str, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict]:
    """(G in eval mode, meta): meta is the snapshot card, with `card` for its training and metrics."""
    return load_snapshot(snapshot_path(name), device=device)


def resolve(snapshot: str | None, pretrained: str | None,
            device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict]:
    """A command's generator: a snapshot path or a --pretrained name, exactly one of them."""
    if (snapshot is None) == (pretrained is None):
        raise GankitError("give either a run directory / snapshot or --pretrained NAME "
                          "(one of them, not both)")
    return load(pretrained, device) if pretrained else load_snapshot(snapshot, device=device)


def summary(name: str) -> str:
    """One line for `gankit pretrained`: what it is, how long it trained, its headline metrics."""
    meta = artifacts.read_card(snapshot_path(name), kind="generator")
    card, m = meta.get("card", {}), meta.get("card", {}).get("metrics", {})
    parts = [card.get("what", meta["model"])]
    if "fid" in m:
        parts.append(f"FID {m['fid']:.1f}")
    if "class_acc" in m:
        parts.append(f"class accuracy {100 * m['class_acc']['overall']:.1f} %")
    if "identity" in m:  # a video generator
        parts.append(f"identity consistency {100 * m['identity']:.1f} %, per-frame FID "
                     f"{m['frame_fid']:.1f}")
    if "coverage" in m:
        parts.append(f"{m['coverage']['covered']}/{m['coverage']['n_classes']} classes")
    if "steps" in card:
        parts.append(f"{card['steps']} steps, {card['kimg']:g} kimg ({card['preset']})")
    return "; ".join(parts)
