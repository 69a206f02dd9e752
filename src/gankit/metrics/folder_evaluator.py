"""An evaluator for a labelled folder of your own images: the feature space of its metrics.

Inception's features are one lens for colour images, but its weights cannot be fetched on an
offline machine, and a few thousand emoji are not ImageNet. So a labelled folder gets what
MNIST and Fashion-MNIST have: the same small CNN (`evaluator.Evaluator`, here on colour
input), trained to name the folder's classes (its first-level subfolders) on the folder's
train split and measured on its held-out split (`data.folder.split_files`, 15 %), the images
FID and the other metrics compare a generator with.

    gankit evaluator train --data PATH      # 350 s for emoji-64 on 2 CPU cores, beside a test run

A folder is recognised by its content, not its place: the fingerprint is the sha256 of every
image file's path inside the folder and bytes, so a copy elsewhere finds its evaluator and an
edited folder does not use a stale one. Evaluators trained here live in the gankit cache
(`$GANKIT_CACHE/evaluators/`); the one for the emoji folder ships in the package.
"""

from __future__ import annotations

import functools
import hashlib
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gankit import artifacts
from gankit.data import folder
from gankit.data.base import to_unit_range
from gankit.errors import GankitError
from gankit.metrics.evaluator import (MODEL, Evaluator, cross_entropy, featurize, fit_classifier,
                                      from_card)
from gankit.metrics.image import fid

SIZE = 32  # the evaluator's input side: every image is resized to it (a 64-pixel G included)
CONFIG = dict(in_channels=3, channels=48, feature_dim=128, dropout=0.3)
EPOCHS, BATCH_SIZE, LR, WEIGHT_DECAY = 40, 128, 3e-3, 5e-4


def fingerprint(path: str | Path) -> str:
    """sha256 over each image file's path inside `path` (sorted) and its bytes."""
    root = Path(path).expanduser().resolve()
    files = folder.find_images(str(root))
    # One eval asks several times (check, then load): the files' sizes and times say
    # whether the bytes can have changed since, so they are read once per process.
    stamp = tuple((f.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns)
                  for f in files for st in (f.stat(),))
    return _content_hash(str(root), stamp)


@functools.lru_cache(maxsize=4)
def _content_hash(root: str, stamp: tuple) -> str:
    h = hashlib.sha256()
    for name, _, _ in stamp:
        h.update(name.encode() + b"\0")
        h.update((Path(root) / name).read_bytes())
    return h.hexdigest()


def cache_dir() -> Path:
    from gankit.metrics.real import cache_dir as gankit_cache  # the one cache root
    return gankit_cache() / "evaluators"


def _shipped() -> list[Path]:
    weights = Path(str(resources.files("gankit").joinpath("metrics", "weights")))
    return sorted(weights.glob("*-evaluator.json"))


def find(data_path: str | None) -> tuple[Path, dict] | None:
    """(stem, card) of the evaluator for the folder at `data_path`, shipped or cached; None
    when none has been trained for this folder's content."""
    if not data_path or not Path(data_path).expanduser().is_dir():
        return None
    fp = fingerprint(data_path)
    cached = cache_dir() / f"folder-{fp[:16]}"
    for card_path in [*_shipped(), cached.with_suffix(".json")]:
        if not card_path.is_file():
            continue
        card = artifacts.read_card(card_path.with_suffix(""), kind="evaluator")
        if (card.get("data") or {}).get("fingerprint") == fp:
            return card_path.with_suffix(""), card
    return None


def missing_message(data_path: str | None) -> str:
    """Why a folder has no evaluator-based metrics, and what to do about it."""
    tail = "or use --metrics inception_fid --inception-weights PATH, sharpness or checkerboard"
    if not data_path:
        return ("no domain evaluator for data.name 'folder' without the folder's path: give "
                "it with gankit eval --data FOLDER (every metric compares with the folder)")
    where, root = data_path, Path(data_path).expanduser()
    if not root.is_dir():
        return (f"the folder '{where}' is not here, so its evaluator cannot be looked up: give "
                "the folder (or its copy) with gankit eval --data FOLDER (every metric "
                "compares with the folder)")
    files = folder.find_images(str(root))
    if folder.folder_classes(str(root), files)[0] is None:
        return (f"the folder '{where}' has no classes (its images are not all in class "
                "subfolders), so no evaluator can be trained on it: use --metrics "
                "inception_fid --inception-weights PATH (FID in InceptionV3's features), "
                "sharpness or checkerboard")
    return (f"no evaluator has been trained for the folder '{where}' (as it is now): run "
            f"`gankit evaluator train --data {where}` (minutes: 350 s for 3,800 images on 2 "
            "CPU cores), then measure again; "
            + tail)


def load(data_path: str | None) -> tuple[Evaluator, dict]:
    """(the folder's evaluator in eval mode, its card), or one GankitError line saying how."""
    found = find(data_path)
    if found is None:
        raise GankitError(missing_message(data_path))
    stem, card = found
    fix = f"train it again: gankit evaluator train --data {data_path}"
    state, card = artifacts.load(stem, kind="evaluator", fix=fix)
    return from_card(state, card, stem.name + ".safetensors", fix), card


def to_input(x: torch.Tensor, card: dict) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> the evaluator's (N, C', SIZE, SIZE): resized, RGB (a grey
    image repeated, a fourth alpha channel composited onto white)."""
    c, size = card["data_shape"][0], card["data_shape"][-1]
    if x.shape[1] == 1 and c == 3:
        x = x.repeat(1, 3, 1, 1)
    elif x.shape[1] == 4:  # colour plus alpha: composited onto white, as the evaluator saw
        rgb, alpha = (x[:, :3] + 1) / 2, (x[:, 3:] + 1) / 2
        x = (rgb * alpha + (1 - alpha)) * 2 - 1
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True,
                          align_corners=False)
    return x.clamp(-1, 1)


def _augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Mirror half the images and shift each by up to 2 pixels (edge pixels repeat, so the
    white background stays white): (B, C, S, S) -> (B, C, S, S)."""
    flip = torch.rand(len(x), generator=g) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    pad = F.pad(x, (2, 2, 2, 2), mode="replicate")
    dx, dy = torch.randint(0, 5, (2,), generator=g).tolist()  # one shift per batch: cheap
    return pad[..., dy:dy + x.shape[-2], dx:dx + x.shape[-1]]


def _real_vs_real(model: Evaluator, a: torch.Tensor, b: torch.Tensor) -> float:
    return fid(featurize(model, a)[0], featurize(model, b)[0])


def train(data_path: str, out: str | Path | None = None, epochs: int = EPOCHS, seed: int = 0,
          background: str = "white", log=print, show_progress: bool = True) -> tuple[Path, dict]:
    """Train and save the evaluator for a labelled folder; returns (weights path, card)."""
    root = Path(data_path).expanduser()
    files = folder.find_images(str(root))
    labels, classes = folder.folder_classes(str(root), files)
    if labels is None:
        raise GankitError(missing_message(str(root)))
    if len(classes) < 2:
        raise GankitError(f"the folder '{root}' has one class subfolder ({classes[0]}): an "
                          "evaluator learns to tell classes apart, so it needs two or more")
    train_files = folder.split_files(root, files, "train")
    test_files = folder.split_files(root, files, "test")
    if train_files is files:
        raise GankitError(f"the folder '{root}' has {len(files)} images: an evaluator needs "
                          f"at least {folder.MIN_SPLIT} (it holds {folder.TEST_SHARE:.0%} out)")
    if not test_files:  # the hash split can hold none of a small folder out
        raise GankitError(f"none of the {len(files)} images in '{root}' fell in the held-out "
                          f"split (a hash of each file's path picks {folder.TEST_SHARE:.0%}): "
                          "add images, so that some are held out to measure with")
    index = {f: int(y) for f, y in zip(files, labels)}

    def load_split(fs):
        x = to_unit_range(torch.stack([folder.load_image(f, SIZE, 3, background) for f in fs]))
        return x, torch.tensor([index[f] for f in fs])  # (N, 3, S, S), (N,)

    start = time.perf_counter()
    train_set, test_set = load_split(train_files), load_split(test_files)
    log(f"{root}: {len(classes)} classes, {len(train_set[0])} train / {len(test_set[0])} "
        f"held-out images at {SIZE}x{SIZE}")
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = Evaluator(**CONFIG, n_classes=len(classes))

    def augmented(net, x, y):
        return cross_entropy(net, _augment(x, g), y)

    acc = fit_classifier(model, train_set, test_set, epochs, g, batch_size=BATCH_SIZE, lr=LR,
                         weight_decay=WEIGHT_DECAY, batch_loss=augmented, log=log,
                         show_progress=show_progress)
    floor = _real_vs_real(model, *(s[0] for s in (train_set, test_set)))
    fp = fingerprint(root)
    card = {
        "kind": "evaluator", "role": "evaluator", "model": MODEL,
        "kwargs": {**CONFIG, "n_classes": len(classes)},
        "dataset": "folder", "data_shape": [3, SIZE, SIZE], "class_names": classes,
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "input": f"(B, 3, {SIZE}, {SIZE}) float32 in [-1, 1]: RGB, transparency composited "
                 f"onto {background}, resized from the generator's side",
        "features": f"Evaluator.features: (B, {CONFIG['feature_dim']}), the ReLU'd "
                    "penultimate layer",
        "data": {"folder": root.name, "fingerprint": fp, "n_images": len(files),
                 "background": background},
        "split": {"n_train": len(train_files), "n_test": len(test_files),
                  "rule": "gankit.data.folder.split_files: held out when sha256(path inside "
                          f"the folder) falls in the first {folder.TEST_SHARE:.0%}"},
        "test_accuracy": round(acc, 4),
        "real_vs_real_fid": round(floor, 3),
        "real_vs_real": "FID between the train split and the held-out split, in these "
                        "features: the floor a perfect generator would reach against the "
                        "held-out split (it is not zero: the two are different images)",
        "training": {"epochs": epochs, "batch_size": BATCH_SIZE, "optimizer": "AdamW", "lr": LR,
                     "weight_decay": WEIGHT_DECAY, "schedule": "OneCycleLR",
                     "augment": "horizontal flip, shift up to 2 px", "seed": seed,
                     "wall_time_s": round(time.perf_counter() - start, 1),
                     "threads": torch.get_num_threads()},
        "torch_version": torch.__version__, "numpy_version": np.__version__,
    }
    stem = Path(out) if out else cache_dir() / f"folder-{fp[:16]}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    weights, _ = artifacts.save(stem, model, card)
    return weights, card
