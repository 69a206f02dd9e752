"""The shipped domain evaluators: intact, the right shape, and as accurate as their cards claim."""

import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from gankit.data.splits import SPLIT_FILES, SPLIT_SEED
import torch

from gankit.errors import GankitError
from gankit.metrics.evaluator import (DATA_FILES, EVALUATORS, SPLIT_SIZES, Evaluator, accuracy,
                                      evaluator_card, featurize, fit_classifier, load_evaluator,
                                      load_split, split_indices)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TARGET = {"mnist": 0.985, "fashion": 0.91}


def test_shapes_of_a_fresh_model():
    model = Evaluator(channels=8, feature_dim=16).eval()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    assert model(x).shape == (5, 10)
    assert model.features(x).shape == (5, 16)


@pytest.mark.parametrize("dataset", EVALUATORS)
def test_shipped_weights_match_card(dataset):
    card = evaluator_card(dataset)
    weights = resources.files("gankit").joinpath("metrics", "weights", f"{dataset}-evaluator.safetensors")
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == card["weights_sha256"]
    assert card["kind"] == "evaluator" and card["dataset"] == dataset
    assert card["data_shape"] == [1, 28, 28] and len(card["class_names"]) == 10
    assert card["test_accuracy"] >= TARGET[dataset]
    assert card["split"]["n_test"] == SPLIT_SIZES[dataset][1]
    # the data layer's split file is the one the evaluator trained on
    assert card["data"]["sha256"] == SPLIT_FILES[dataset].sha256
    assert card["split"]["seed"] == SPLIT_SEED


def test_the_mnist_judge_is_another_classifier_trained_apart():
    """explore control's judge: its own seed and width, the same split, and accurate."""
    judge, ev = evaluator_card("mnist", role="judge"), evaluator_card("mnist")
    assert judge["role"] == "judge" and judge["training"]["seed"] != ev["training"]["seed"]
    assert judge["kwargs"]["channels"] != ev["kwargs"]["channels"]
    assert judge["data"]["sha256"] == ev["data"]["sha256"] and judge["split"] == ev["split"]
    assert judge["test_accuracy"] >= 0.98
    net = load_evaluator("mnist", role="judge")
    x, y = load_split("mnist", "test", resources.files("gankit").joinpath(
        "data", "bundled", DATA_FILES["mnist"]))
    assert accuracy(net, x[:500], y[:500]) >= 0.97


@pytest.mark.parametrize("dataset", EVALUATORS)
def test_load_evaluator_features(dataset):
    model = load_evaluator(dataset)
    assert not model.training
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    feats, logits = featurize(model, x)
    assert feats.shape == (4, evaluator_card(dataset)["kwargs"]["feature_dim"])
    assert logits.shape == (4, 10)
    assert torch.allclose(logits, model(x), atol=1e-5)  # featurize is forward, split in two


def test_unknown_name_raises():
    with pytest.raises(GankitError, match="mnist, fashion"):
        load_evaluator("cifar10")
    with pytest.raises(GankitError):
        evaluator_card("svhn")


@pytest.mark.parametrize("dataset", EVALUATORS)
def test_split_is_fixed_and_disjoint(dataset):
    n, n_test = SPLIT_SIZES[dataset]
    train, test = split_indices(dataset, n)
    assert len(test) == n_test and len(train) == n - n_test
    assert len(np.intersect1d(train, test)) == 0
    again_train, again_test = split_indices(dataset, n)
    assert np.array_equal(train, again_train) and np.array_equal(test, again_test)
    with pytest.raises(GankitError):
        split_indices(dataset, n - 1)


@pytest.mark.parametrize("dataset", EVALUATORS)
def test_held_out_accuracy(dataset):
    npz = DATA / DATA_FILES[dataset]
    if not npz.is_file():
        pytest.skip(f"shared data file {npz} not present")
    x, y = load_split(dataset, "test", npz)
    assert x.shape[1:] == (1, 28, 28) and x.min() >= -1 and x.max() <= 1 and y.dtype == torch.int64
    # a fixed 2,000-image subset of the held-out split keeps this test to a second or two
    keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:2000]
    assert accuracy(load_evaluator(dataset), x[keep], y[keep]) >= TARGET[dataset]


def test_load_split_rejects_bad_files(tmp_path):
    with pytest.raises(GankitError, match="not found"):
        load_split("mnist", "test", tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, pixels=np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(GankitError, match="'images' and 'labels'"):
        load_split("mnist", "test", bad)
    with pytest.raises(GankitError, match="split"):
        load_split("mnist", "val", bad)


def test_fit_classifier_learns_and_returns_the_held_out_accuracy():
    torch.manual_seed(0)
    y = torch.arange(256) % 2
    x = -torch.ones(256, 1, 28, 28) + 0.1 * torch.randn(256, 1, 28, 28)
    x[y == 0, :, :, :14] += 2  # class 0: bright left half; class 1: bright right half
    x[y == 1, :, :, 14:] += 2
    model = Evaluator(channels=4, feature_dim=8, n_classes=2)
    lines = []
    acc = fit_classifier(model, (x[:192], y[:192]), (x[192:], y[192:]), 3,
                         torch.Generator().manual_seed(0), batch_size=32, log=lines.append)
    assert not model.training and len(lines) == 3 and "held-out acc" in lines[-1]
    assert acc == accuracy(model, x[192:], y[192:]) and acc > 0.9


def test_train_evaluator_script_writes_a_loadable_artifact(tmp_path, monkeypatch):
    """scripts/train_evaluator.py end to end on 256 training images, one epoch."""
    import importlib.util

    from gankit import artifacts
    from gankit.metrics.evaluator import from_card

    script = Path(__file__).resolve().parents[1] / "scripts" / "train_evaluator.py"
    spec = importlib.util.spec_from_file_location("train_evaluator", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    real = module.load_split
    monkeypatch.setattr(module, "load_split", lambda d, split, npz: tuple(
        t[:256] for t in real(d, split, npz)))
    npz = resources.files("gankit").joinpath("data", "bundled", DATA_FILES["mnist"])
    assert module.main(["--data", "mnist", "--npz", str(npz), "--epochs", "1",
                        "--out", str(tmp_path)]) == 0
    state, card = artifacts.load(tmp_path / "mnist-evaluator", kind="evaluator")
    assert card["kind"] == "evaluator" and card["training"]["epochs"] == 1
    model = from_card(state, card, "mnist-evaluator.safetensors", "retrain")
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10) and not model.training
