"""Pictures a person reads: every grid gankit writes or shows is drawn by `viz.grid_image`, small
images at least 3x (nearest neighbour), labelled where something varies (issue 16, item 4)."""

import numpy as np
import pytest
import torch
from PIL import Image

from gankit import api, viz
from gankit.cli import main
from gankit.errors import GankitError
from gankit.explore.commands import _psi_label
from gankit.generator import load
from gankit.viz import tile
from test_explore import tiny_snapshot

STRIP = viz.FONT_SIZE + 2 * viz.MARGIN  # a title strip's height


def images(n, size=28, channels=1, seed=0):
    noise = torch.Generator().manual_seed(seed)
    return torch.rand(n, channels, size, size, generator=noise) * 2 - 1


def ink(region: Image.Image) -> int:
    """Pixels darker than mid-grey: text on a white strip has some, a blank strip none."""
    return int((np.asarray(region.convert("L")) < 128).sum())


@pytest.fixture
def cond(tmp_path):
    return tiny_snapshot(tmp_path / "cond", 3, ["cat", "dog", "owl"])


def test_a_28px_grid_is_drawn_3x_with_nearest_neighbour():
    x = images(4)
    picture = viz.grid_image(x, nrow=2)
    assert picture.size == (3 * (2 * 30 + 2), 3 * (2 * 30 + 2))  # 28 px + 2 px padding, 3x
    one = np.asarray(viz.grid_image(x, nrow=2, scale=1))
    # every pixel of the 1x grid became a 3x3 block of the same value: no smoothing
    assert np.array_equal(np.asarray(picture), one.repeat(3, axis=0).repeat(3, axis=1))


def test_bigger_images_are_enlarged_less_and_colour_stays_colour():
    assert viz.scale_for(28) == 3 and viz.scale_for(64) == 2 and viz.scale_for(256) == 1
    picture = viz.grid_image(images(2, size=64, channels=3), nrow=2)
    assert picture.mode == "RGB" and picture.size == (2 * (2 * 66 + 2), 2 * 68)


def test_row_labels_sit_in_a_margin_beside_their_rows():
    x = images(6)
    bare = viz.grid_image(x, nrow=2)
    picture = viz.grid_image(x, nrow=2, row_labels=["cat", "dog", "ψ = ∞"])
    margin = picture.width - bare.width
    assert margin > 0 and picture.height == bare.height
    assert np.array_equal(np.asarray(picture)[:, margin:], np.asarray(bare))
    row = 3 * 30  # each row's band, 3x
    for k in range(3):
        assert ink(picture.crop((0, 6 + k * row, margin, 6 + (k + 1) * row))) > 10, k
    with pytest.raises(GankitError, match="2 labels for a grid of 3 rows"):
        viz.grid_image(x, nrow=2, row_labels=["cat", "dog"])


def test_a_title_goes_above_and_widens_a_narrow_picture():
    x = images(1)
    picture = viz.grid_image(x, nrow=1, title="step 400")
    assert picture.height == 84 + STRIP and picture.width >= 84
    assert ink(picture.crop((0, 0, picture.width, STRIP))) > 10
    wide = viz.grid_image(x, nrow=1, title="a title much wider than one small image")
    assert wide.width > 84


def test_the_font_draws_psi_and_infinity_not_boxes():
    font = viz.font()
    missing = font.getmask("\uffff")  # a character no font has: drawn as the "missing" box
    for glyph in "ψ∞ε":
        mask = font.getmask(glyph)
        assert mask.size != missing.size or bytes(mask) != bytes(missing), glyph
    assert _psi_label(float("inf")) == "ψ = ∞" and _psi_label(0.5) == "ψ = 0.5"


def test_show_draws_as_the_files_do_and_a_conditional_handle_a_row_per_class(tmp_path):
    x = images(6)
    shown = api.show(x, nrow=3, row_labels=["a", "b"], title="t")  # outside Jupyter: a PIL image
    assert np.array_equal(np.asarray(shown),
                          np.asarray(viz.grid_image(x, 3, row_labels=["a", "b"], title="t")))
    _, folder = tiny_snapshot(tmp_path / "c", 3, ["cat", "dog", "owl"])
    picture = api.show(load(folder))  # 8 of each class, a row each, named
    assert picture.height == 3 * (3 * 30 + 2) and picture.width > 3 * (8 * 30 + 2)
    with pytest.raises(GankitError, match="1 labels for a grid of 2 rows"):
        api.show(x, nrow=3, row_labels=["a"])


def test_a_conditional_sample_grid_has_one_full_row_per_class(cond, tmp_path, capsys):
    _, folder = cond
    out = tmp_path / "g.png"
    assert main(["sample", str(folder), "--n", "64", "--out", str(out)]) == 0
    # 64 rounded up to 66 = 22 per class: 3 rows of 22, none short; the output says so
    assert "(66 samples: --n rounded up to fill one row per class)" in capsys.readouterr().out
    with Image.open(out) as img:
        assert img.height == 3 * (3 * 30 + 2)
        margin = img.width - 3 * (22 * 30 + 2)
        assert margin > 0
        for k in range(3):
            assert ink(img.crop((0, 6 + k * 90, margin, 6 + (k + 1) * 90))) > 10, k
    # arrays are what was asked for; one class drawn alone is not rounded either
    assert main(["sample", str(folder), "--n", "64", "--out", str(tmp_path / "g.npz")]) == 0
    assert len(np.load(tmp_path / "g.npz")["labels"]) == 64
    assert main(["sample", str(folder), "--n", "5", "--class", "dog",
                 "--out", str(tmp_path / "dog.png")]) == 0
    assert "rounded" not in capsys.readouterr().out


def test_training_grids_and_timeline_frames_carry_their_step(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--set", "train.steps=3", "--set",
                 "train.batch_size=8", "--set", "model.g_hidden=8", "--set", "model.d_hidden=8",
                 "--set", "train.n_samples=4", "--set", "train.device=cpu",
                 "--set", "train.sample_every=1"]) == 0
    with Image.open(out / "samples" / "step-000003.png") as img:
        assert img.size == (3 * (2 * 30 + 2), 3 * (2 * 30 + 2) + STRIP)
    with Image.open(out / "timeline.gif") as gif:
        assert gif.n_frames >= 3
        strips = []
        for i in range(3):  # steps 1, 2, 3
            gif.seek(i)
            frame = gif.convert("L")
            assert frame.size == (3 * (2 * 30 + 2), 3 * (2 * 30 + 2) + STRIP)
            strips.append(np.asarray(frame.crop((0, 0, frame.width, STRIP))))
            assert ink(frame.crop((0, 0, frame.width, STRIP))) > 10
    # "step 1", "step 2", "step 3": the label changes from frame to frame
    assert not np.array_equal(strips[0], strips[1]) and not np.array_equal(strips[1], strips[2])


def test_truncation_rows_are_labelled_with_psi(tmp_path, capsys):
    _, folder = tiny_snapshot(tmp_path / "u", 0, [str(i) for i in range(10)])
    out = tmp_path / "t.png"
    assert main(["explore", "truncation", str(folder), "--psi", "0.5,inf", "--seeds", "0-3",
                 "--form", "sphere", "--measure", "0", "--out", str(out)]) == 0
    expected = viz.grid_image(torch.zeros(8, 1, 28, 28), nrow=4,
                              row_labels=["ψ = 0.5", "ψ = ∞"])
    with Image.open(out) as img:
        assert img.size == expected.size
        margin = img.width - 3 * (4 * 30 + 2)
        assert np.array_equal(np.asarray(img)[:, :margin], np.asarray(expected)[:, :margin])


def test_interpolation_gif_frames_are_4x_and_carry_their_position(tmp_path):
    _, folder = tiny_snapshot(tmp_path / "u", 0, [str(i) for i in range(10)])
    out = tmp_path / "i.gif"
    assert main(["explore", "interp", str(folder), "--steps", "3", "--out", str(out)]) == 0
    with Image.open(out) as gif:
        strips = []
        for i in range(3):  # t = 0.00, 0.50, 1.00 (then back)
            gif.seek(i)
            frame = gif.convert("L")
            assert frame.height == 4 * 28 + STRIP and frame.width >= 4 * 28
            strips.append(np.asarray(frame.crop((0, 0, frame.width, STRIP))))
            assert ink(frame.crop((0, 0, frame.width, STRIP))) > 10
    assert not np.array_equal(strips[0], strips[1]) and not np.array_equal(strips[1], strips[2])


def test_drawing_plots_leaves_the_callers_matplotlib_backend_alone(tmp_path, monkeypatch):
    """In a notebook, training a toy run (scatter plots) or an attack picture must not switch
    matplotlib away from the inline backend: the notebook's own plots would stop showing."""
    import matplotlib
    from gankit.robust.picture import save_attack_picture

    switched = []
    monkeypatch.setattr(matplotlib, "use", lambda *a, **k: switched.append(a))
    viz.save_scatter(torch.randn(50, 2), tmp_path / "s.png", centres=torch.randn(8, 2))
    x = images(2)
    save_attack_picture(tmp_path / "a.png", x, ["1", "2"], ["1", "2"], [(0.1, x, ["1", "7"])], "t")
    assert switched == []
    with Image.open(tmp_path / "s.png") as s, Image.open(tmp_path / "a.png") as a:
        assert s.size == (400, 400) and a.width > 2 * 84


@pytest.mark.parametrize("n, channels, nrow", [(1, 1, 8), (7, 1, 3), (10, 3, 4), (16, 1, 16)])
def test_tile_lays_out_images_as_torchvision_make_grid(n, channels, nrow):
    from torchvision.utils import make_grid
    images = torch.rand(n, channels, 5, 6) * 2.4 - 1.2     # some outside [-1, 1]: clamped
    expected = make_grid(images, nrow=nrow, normalize=True, value_range=(-1, 1), padding=2,
                         pad_value=0.5)
    if channels == 1:
        expected = expected[:1]                             # make_grid repeats one channel thrice
    got = tile(images.clamp(-1, 1).add(1).div(2), nrow, padding=2, pad_value=0.5)
    assert torch.equal(torch.from_numpy(got), expected.permute(1, 2, 0))


def test_a_four_channel_grid_is_drawn_over_a_checkerboard():
    x = torch.full((2, 4, 16, 16), -1.0)          # both black; the first fully transparent
    x[1, 0], x[1, 3] = 1.0, 1.0                   # the second opaque red
    picture = viz.grid_image(x, nrow=2, scale=1)
    assert picture.mode == "RGB" and picture.size == (2 + 2 * 18, 2 + 18)
    a = np.asarray(picture)
    side, (light, dark) = viz.CHECKS
    # the transparent image shows the checkerboard, whose squares start at the picture's corner
    assert (a[2:side, 2:side] == light).all() and (a[2:side, side:2 * side] == dark).all()
    assert (a[side:2 * side, 2:side] == dark).all()
    assert (a[2:18, 20:36] == (255, 0, 0)).all()  # opaque red stays red
    assert (a[0] == 128).all() and (a[:, 19] == 128).all()  # padding opaque mid-grey
    half = torch.full((1, 4, 16, 16), -1.0)
    half[0, 3] = 0.0                              # black at half alpha darkens the squares
    h = np.asarray(viz.grid_image(half, nrow=1, scale=1))
    assert abs(int(h[0, 0, 0]) - light // 2) <= 1 and abs(int(h[0, side, 0]) - dark // 2) <= 1
