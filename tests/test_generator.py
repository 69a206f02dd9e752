"""gankit.generator: the one handle that sample, explore, serve and the metrics draw through."""

import math

import numpy as np
import pytest
import torch

from gankit import cli, pretrained
from gankit.errors import GankitError
from gankit.config import load_preset, preset_names
from gankit.generator import Generator, conditional_presets, load, truncate
from gankit.models import build_generator
from gankit.models.snapshot import save_snapshot
from test_explore import tiny_snapshot

NAMES = ["cat", "dog", "owl"]


@pytest.fixture
def cond(tmp_path):
    _, folder = tiny_snapshot(tmp_path / "cond", 3, NAMES)
    return load(folder)


@pytest.fixture
def uncond(tmp_path):
    _, folder = tiny_snapshot(tmp_path / "uncond", 0, [str(i) for i in range(10)])
    return load(folder)


def test_generate_is_seeded_as_sample_always_was_and_batching_changes_nothing(cond):
    G = cond.module
    z = torch.randn(7, cond.z_dim, generator=torch.Generator().manual_seed(3))
    y = torch.tensor([0, 0, 0, 1, 1, 1, 2])           # balanced, one class per row of 3
    with torch.no_grad():
        expected = G(z, y)
    assert torch.allclose(cond.generate(7, seed=3), expected, atol=1e-6)
    assert torch.allclose(cond.generate(7, seed=3, batch=2), expected, atol=1e-6)
    assert not torch.allclose(cond.generate(7, seed=4), expected, atol=1e-3)
    # the seed fixes z whatever the class: class 2 for all is G(z, 2)
    with torch.no_grad():
        assert torch.allclose(cond.generate(7, seed=3, y=2), G(z, torch.full((7,), 2)), atol=1e-6)


def test_truncation_in_generate_is_the_explorers(uncond):
    x = uncond.generate(5, seed=1, psi=0.5)
    z = truncate(torch.randn(5, uncond.z_dim, generator=torch.Generator().manual_seed(1)), 0.5)
    assert torch.allclose(x, uncond.render(z), atol=1e-6)
    assert torch.equal(uncond.generate(5, seed=1, psi=math.inf), uncond.generate(5, seed=1))
    # psi 0 keeps each seed's norm and direction 2 Phi(z) - 1: seeds still differ
    spread = uncond.generate(4, seed=1, psi=0)
    assert not torch.allclose(spread[0], spread[3])
    with pytest.raises(GankitError, match="psi must be a number >= 0"):
        uncond.generate(2, psi=-1)


def test_a_live_module_keeps_its_training_mode(cond):
    G = cond.module.train()
    x = Generator(G, {"data_shape": [1, 28, 28]}).generate(3, seed=0)
    assert G.training and x.shape == (3, 1, 28, 28)


def test_classes_by_index_or_name(cond, uncond):
    assert cond.n_classes == 3 and cond.class_names == NAMES
    assert [cond.class_index(v) for v in ("owl", "1", 0)] == [2, 1, 0]
    assert torch.equal(cond.labels(2, np.int64(1)), torch.tensor([1, 1]))
    assert torch.equal(cond.generate(4, seed=2, y="owl"), cond.generate(4, seed=2, y=2))
    assert uncond.n_classes == 0 and uncond.class_names == [] and uncond.labels(5) is None
    with pytest.raises(GankitError, match="--class 3: this generator is unconditional"):
        uncond.class_index(3)
    with pytest.raises(GankitError, match="not a class of this generator; choose 0=cat"):
        cond.class_index("emu")
    with pytest.raises(GankitError, match="labels given, but this generator is unconditional"):
        uncond.generate(2, y=torch.tensor([0, 1]))


def test_the_unconditional_error_names_every_conditional_preset(uncond):
    """Read from the presets (n_classes 10, or -1 for the data's classes), not a list kept by hand."""
    expected = [n for n in preset_names() if load_preset(n).model.n_classes != 0]
    assert conditional_presets() == expected
    assert {"cgan-mnist", "cgan-mnist-course-exact", "cdcgan32-folder"} <= set(expected)
    assert "dcgan-mnist" not in expected
    with pytest.raises(GankitError) as e:
        uncond.class_index(3)
    assert all(name in str(e.value) for name in expected)


def test_out_of_range_class_is_one_and_the_same_error_everywhere(cond, tmp_path, capsys):
    folder = cond.folder
    errors = []
    for argv in (["sample", folder, "--class", "5", "--out", tmp_path / "x.png"],
                 ["explore", "interp", folder, "--class", "5", "--out", tmp_path / "x.gif"],
                 ["explore", "truncation", folder, "--class", "5", "--out", tmp_path / "x.png"]):
        assert cli.main([str(a) for a in argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        errors.append(err[0].split("error: ", 1)[1])
    assert errors == ["--class 5: not a class of this generator; choose 0=cat, 1=dog, 2=owl"] * 3
    with pytest.raises(GankitError, match=errors[0]):
        cond.generate(4, y=5)


def test_pretrained_and_snapshot_give_the_same_handle():
    name = "mnist-cdcgan"
    if name not in pretrained.names():
        pytest.skip(f"the pretrained {name} is not in this tree (scripts/train_pretrained.py)")
    a, b = load(pretrained=name), load(pretrained.snapshot_path(name))
    for attr in ("z_dim", "n_classes", "class_names", "data_shape", "is_points", "card"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert a.n_classes == 10 and a.data_shape == (1, 28, 28) and not a.is_points
    assert torch.equal(a.generate(6, seed=5, y="7"), b.generate(6, seed=5, y=7))
    with pytest.raises(GankitError, match="one of them, not both"):
        load(pretrained.snapshot_path(name), pretrained=name)
    with pytest.raises(GankitError, match="one of them, not both"):
        load()


def test_points_generator(tmp_path):
    kwargs = dict(z_dim=4, hidden=8, n_layers=1)
    save_snapshot(tmp_path, build_generator("toy-mlp", kwargs), "toy-mlp", kwargs, (2,), None)
    g = load(tmp_path)
    assert g.is_points and g.generate(10).shape == (10, 2)
    with pytest.raises(GankitError, match="makes 2D points, not images"):
        g.require_images("explore")
    assert g.save(g.generate(50), tmp_path / "s.png").stat().st_size > 0


def test_save_draws_one_class_per_row(cond, tmp_path):
    from PIL import Image
    x = cond.generate(6, seed=0)                     # classes 0 0 1 1 2 2: two per row
    with Image.open(cond.save(x, tmp_path / "g.png", rows_are_classes=True)) as img:
        # 28 px cells and 2 px padding, drawn 3x; the class names in a margin on the left
        assert img.height == 3 * (3 * 30 + 2) and img.width > 3 * (2 * 30 + 2)
