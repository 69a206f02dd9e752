"""The metric registry (each metric once, with its needs and printers) and the real data it
measures against (the evaluator's held-out split)."""

import json

import numpy as np
import pytest
import torch

from gankit import metrics
from gankit.data.mnist import BUNDLED_MNIST
from gankit.errors import GankitError
from gankit.generator import load
from gankit.metrics import registry, real
from gankit.metrics.evaluator import load_split
from gankit.models import build_generator
from gankit.models.snapshot import save_snapshot
from test_explore import tiny_snapshot


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def cond(tmp_path):
    return load(tiny_snapshot(tmp_path / "cond", 3, ["cat", "dog", "owl"])[1])


@pytest.fixture
def clips(tmp_path):
    """A tiny untrained TGAN on 4 frames of 8x8 Moving MNIST."""
    kwargs = dict(shape=(1, 4, 8, 8), z_dim=4, hidden=4, t_dim=2)
    data = {"name": "moving-mnist", "image_size": 8, "frames": 4, "digits": 1}
    (tmp_path / "v").mkdir()
    save_snapshot(tmp_path / "v", build_generator("tgan", kwargs), "tgan", kwargs, (1, 4, 8, 8),
                  None, extra={"data": data})
    return load(tmp_path / "v")


@pytest.fixture
def toy(tmp_path):
    kwargs = dict(z_dim=4, hidden=8, n_layers=1)
    save_snapshot(tmp_path, build_generator("toy-mlp", kwargs), "toy-mlp", kwargs, (2,), None,
                  extra={"data": {"name": "toy-ring"}})
    return load(tmp_path)


def test_every_registered_metric_is_accepted_measured_and_printed(cond, toy, clips):
    image_names = [m for m in registry.metric_names(points=False) if m != "inception_fid"]
    record = metrics.evaluate(cond, None, image_names, n=60, n_real=200)["metrics"]
    record.update(metrics.evaluate(toy, None, ["modes"], n=100)["metrics"])
    record.update(metrics.evaluate(clips, None, registry.metric_names(False, video=True),
                                   n=10)["metrics"])
    record["inception_fid"] = 12.5  # needs InceptionV3 weights: its printer on a given value
    table = dict(metrics.summary_rows(record))
    curves = registry.metric_series(record)
    for m in registry.METRICS.values():
        assert registry.parse_metrics(m.name, m.points, m.video) == [m.name]
        with pytest.raises(GankitError, match="is not a metric for"):
            registry.parse_metrics(m.name, not m.points, m.video)
        assert set(m.keys) <= set(record), m.name
        rows = m.rows(record)
        assert rows and all(table[label] == text for label, text in rows), m.name
        assert m.series(record) and set(m.series(record)) <= set(curves), m.name
    assert table["FID"] and table["classes covered (>= 1 %)"].endswith("/10")
    assert "real data" in table["sharpness (Laplacian variance)"]


def test_a_new_metric_is_one_registration(cond, monkeypatch):
    monkeypatch.setattr(registry, "METRICS", dict(registry.METRICS))  # forgotten after the test

    @registry.register_metric("mean_ink", needs=("real_pixels",),
                              keys=("mean_ink", "mean_ink_real"), default=("eval",))
    def mean_ink(inputs):
        return {"mean_ink": float(inputs.fake.mean()),
                "mean_ink_real": float(inputs.real_pixels.mean())}

    assert "mean_ink" in registry.default_metrics(points=False, conditional=False)
    assert registry.parse_metrics("fid,mean_ink", toy_data=False) == ["fid", "mean_ink"]
    record = metrics.evaluate(cond, None, ["mean_ink"], n=20, n_real=50)
    values = record["metrics"]
    assert set(values) == {"mean_ink", "mean_ink_real"}
    assert values["mean_ink_real"] < -0.5  # MNIST is mostly black background
    assert dict(metrics.summary_rows(values))["mean_ink"] == f"{values['mean_ink']:.4g}"
    assert set(registry.metric_series(values)) == {"mean_ink", "mean_ink_real"}
    with pytest.raises(ValueError, match="registered twice"):
        registry.register_metric("mean_ink")(mean_ink)


def test_default_sets_are_declared_once_per_kind_and_use():
    assert registry.default_metrics(False, False) == ["fid", "kid", "is", "pr", "coverage"]
    assert registry.default_metrics(False, True) == ["fid", "kid", "is", "pr", "coverage",
                                                     "class_acc"]
    assert registry.default_metrics(False, False, "train") == ["fid", "coverage"]
    assert registry.default_metrics(False, True, "train") == ["fid", "coverage", "class_acc"]
    assert registry.default_metrics(True, False) == registry.default_metrics(True, False, "train") \
        == ["modes"]
    assert registry.default_metrics(False, False, video=True) == ["frame_fid", "identity", "motion"]
    assert registry.default_metrics(False, False, "train", video=True) == ["identity", "motion"]


def test_needs_that_cannot_be_met_are_one_line(cond, tmp_path):
    uncond = load(tiny_snapshot(tmp_path / "u", 0, None)[1])
    with pytest.raises(GankitError, match="class_acc measures a conditional generator"):
        metrics.evaluate(uncond, None, ["class_acc"], n=10)
    with pytest.raises(GankitError, match="fid: no domain evaluator for data.name 'folder'"):
        metrics.check_metrics(["fid"], False, "folder")
    metrics.check_metrics(["sharpness", "checkerboard"], False, "folder")  # no evaluator needed
    with pytest.raises(GankitError, match="inception_fid needs InceptionV3 weights"):
        metrics.check_metrics(["inception_fid"], False, "mnist")
    with pytest.raises(GankitError, match="--metrics 'fid,nope': nope is not a metric for image"):
        registry.parse_metrics("fid,nope", toy_data=False)


# ---- the real data: the evaluator's held-out split ---------------------------------------------

BUNDLED = {"name": "mnist", "path": ""}


def test_bundled_mnist_is_measured_against_the_evaluators_test_split():
    from importlib import resources
    with resources.as_file(resources.files("gankit.data").joinpath(BUNDLED_MNIST)) as npz:
        test_images, _ = load_split("mnist", "test", npz)
    x = real.load_real(BUNDLED)
    assert x.shape == (2000, 1, 28, 28) and torch.equal(x, test_images)
    assert real.describe(BUNDLED, 2000, 2000) == ("mnist (bundled, evaluator's held-out test "
                                                  "split): 2000 of 2000 images")


def test_provenance_names_the_held_out_split(cond):
    p = metrics.evaluate(cond, None, ["fid"], n=50)["provenance"]
    assert p["n_real"] == 2000
    assert p["real"] == "mnist (bundled, evaluator's held-out test split): 2000 of 2000 images"


def test_other_files_keep_all_their_images(tmp_path):
    from gankit.data.mnist import read_bundled
    images, labels = read_bundled()
    npz = tmp_path / "mine.npz"
    np.savez(npz, images=images[:300], labels=labels[:300])
    mine = {"name": "mnist", "path": str(npz)}
    assert not real.held_out(mine) and len(real.load_real(mine)) == 300
    assert real.describe(mine, 300, 300) == f"mnist ({npz}, all): 300 of 300 images"


def test_fashion_npz_uses_its_10000_test_images(fashion_npz):
    cfg = {"name": "fashion", "path": str(fashion_npz)}
    assert real.held_out(cfg) and len(real.load_real(cfg)) == 10_000


def test_features_cached_on_all_images_are_not_reused(cache):
    """A cache file at the key the metrics used before the held-out split is ignored."""
    sha, n_real = "x" * 64, 10
    old_key = real.hashlib.sha256(json.dumps(["mnist:bundled", "train", sha, n_real, 0])
                                  .encode()).hexdigest()[:16]
    old = cache / "real-features" / f"mnist-evaluator-{old_key}.safetensors"
    old.parent.mkdir(parents=True)
    from safetensors.torch import save_file
    save_file({"features": torch.full((n_real, 1), 99.0), "n_total": torch.tensor(10_000)},
              str(old))
    feats, n_total = real.real_features(BUNDLED, "evaluator", sha,
                                        lambda x: {"features": x.mean((1, 2, 3))[:, None]}, n_real)
    assert n_total == 2000 and (feats["features"] < 1).all()
    assert len(list(old.parent.iterdir())) == 2  # a new file beside the old one
