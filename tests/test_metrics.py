"""Sanity checks of the metrics on real data, noise and hand-placed points."""

import math

import pytest
import torch

from gankit.data import load_data
from gankit.metrics import image, toy
from gankit.metrics.evaluator import featurize, load_evaluator
from gankit.data.toy import ring_centres, RING_STD


@pytest.fixture(scope="module")
def mnist_features():
    data = load_data("mnist")
    perm = torch.randperm(len(data.images), generator=torch.Generator().manual_seed(0))
    x, y = data.images[perm[:4000]], data.labels[perm[:4000]]
    feats, logits = featurize(load_evaluator("mnist"), x)
    return feats, logits, y


def test_fid_real_vs_real_is_small_next_to_noise(mnist_features):
    feats, _, _ = mnist_features
    a, b = feats[:2000], feats[2000:]
    noise = torch.rand(2000, 1, 28, 28) * 2 - 1
    noise_f, _ = featurize(load_evaluator("mnist"), noise)
    real_real, real_noise = image.fid(a, b), image.fid(a, noise_f)
    assert real_real >= 0
    assert real_real < real_noise / 20


def test_kid_is_zero_on_identical_sets(mnist_features):
    """KID's unbiased estimator on identical sets is -2 mean(k(x, x)) / m: zero up to a term
    that vanishes with m. Judged against the metric's own scale (real vs noise)."""
    feats, _, _ = mnist_features
    noise_f, _ = featurize(load_evaluator("mnist"), torch.rand(1000, 1, 28, 28) * 2 - 1)
    far, _ = image.kid(feats[:1000], noise_f, subsets=10, subset_size=1000)
    same, same_std = image.kid(feats[:1000], feats[:1000], subsets=10, subset_size=1000)
    halves, _ = image.kid(feats[:2000], feats[2000:], subsets=10, subset_size=1000)
    assert far > 1000
    assert abs(same) < 1e-5 * far and same_std < 1e-5 * far
    assert abs(halves) < 1e-4 * far


def test_inception_score_single_class_and_real(mnist_features):
    _, logits, y = mnist_features
    single = logits[y == 3]
    is_single, _ = image.inception_score(single, splits=1)
    is_real, _ = image.inception_score(logits, splits=1)
    assert is_single == pytest.approx(1.0, abs=0.15)
    assert 9.0 < is_real <= 10.0  # close to the 10 classes of a near-perfect classifier


def test_coverage(mnist_features):
    _, logits, y = mnist_features
    single = image.class_coverage(logits[y == 7])
    assert single["covered"] == 1
    assert single["kl_uniform"] == pytest.approx(math.log(10), abs=0.1)
    full = image.class_coverage(logits)
    assert full["covered"] == 10 and full["kl_uniform"] < 0.02
    # Exact on hand-made logits: 3 classes of 4, shares 50/25/25/0 %.
    hand = torch.eye(4)[[0, 0, 1, 2]] * 10
    c = image.class_coverage(hand)
    assert c["covered"] == 3 and c["histogram"] == [2, 1, 1, 0]
    expected = 0.5 * math.log(2) + 2 * 0.25 * math.log(1)
    assert c["kl_uniform"] == pytest.approx(expected)


def test_precision_recall_on_hand_made_sets():
    torch.manual_seed(0)
    real = torch.randn(500, 4)
    assert image.precision_recall(real, real) == (1.0, 1.0)
    # Fakes all collapsed onto one real point: perfect precision, almost no recall.
    collapsed = real[:1].repeat(500, 1) + 1e-4 * torch.randn(500, 4)
    p, r = image.precision_recall(real, collapsed)
    assert p == 1.0 and r < 0.05
    # Fakes far away from everything: no precision, no recall.
    p, r = image.precision_recall(real, real + 100)
    assert p == 0.0 and r == 0.0


def test_toy_metrics_exact_on_hand_placed_points():
    centres = ring_centres()
    s = RING_STD
    pts = torch.stack([
        centres[0],                                   # on mode 0: good
        centres[1] + torch.tensor([2.9 * s, 0.0]),    # inside 3 sigma of mode 1: good
        centres[2] + torch.tensor([0.0, 3.1 * s]),    # just outside 3 sigma of mode 2: bad
        torch.tensor([0.0, 0.0]),                     # the ring's centre: bad
    ])
    m = toy.toy_metrics(pts, centres, s)
    assert m["modes_covered"] == 2 and m["n_modes"] == 8
    assert m["high_quality_pct"] == pytest.approx(50.0)
    assert m["per_mode"][:3] == [1, 1, 0]
