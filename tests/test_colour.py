"""Colour end to end: every picture gankit draws from a colour generator (sample, explore,
serve, the report and its timeline GIF) is RGB, with each channel where G put it.

The generator is a tiny untrained DCGAN whose last layer's bias is (2, -2, 0): after its Tanh
every pixel is near (1, -1, 0), drawn (250, 5, 128), a crimson no greyscale conversion, channel
swap or wrong rescaling leaves as it is."""

import base64
import io
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence
from torch import nn

from gankit.cli import main
from gankit.explore.server import Explorer
from gankit.generator import load
from gankit.models import build_generator
from gankit.models.snapshot import save_snapshot
from gankit.report import TIMELINE, write_report

from test_folder_presets import TINY, make_folder

CLASSES = ["cats", "dogs", "owls"]


def colour_snapshot(folder):
    """A conditional 3-class DCGAN-8 snapshot drawing crimson (see the module notes)."""
    torch.manual_seed(0)
    kwargs = dict(z_dim=8, channels=3, hidden=4, n_classes=3, size=8)
    G = build_generator("dcgan", kwargs).eval()
    last = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)][-1]
    nn.init.normal_(last.weight, std=0.1)  # some texture, so frames are not one flat colour
    with torch.no_grad():
        last.bias.copy_(torch.tensor([2.0, -2.0, 0.0]))
    folder.mkdir(parents=True)
    save_snapshot(folder, G, "dcgan", kwargs, (3, 8, 8), CLASSES,
                  extra={"data": {"name": "folder", "path": "nowhere"}})
    return folder


@pytest.fixture
def snap(tmp_path):
    return colour_snapshot(tmp_path / "g")


def assert_crimson(picture: Image.Image, least: float = 0.05) -> None:
    """Every frame is RGB (or a palette of RGB) and at least `least` of its pixels are G's
    crimson: R high, G low, B in the middle (labels, padding and margins are grey)."""
    for frame in ImageSequence.Iterator(picture):
        assert frame.mode in ("RGB", "P", "RGBA"), frame.mode
        rgb = np.asarray(frame.convert("RGB")).reshape(-1, 3).astype(int)  # (pixels, 3)
        coloured = rgb[(rgb.max(1) - rgb.min(1)) > 30]
        assert len(coloured) >= least * len(rgb), f"{len(coloured)} of {len(rgb)} coloured"
        r, g, b = coloured.mean(0)
        assert r > 230 and g < 30 and 100 < b < 160, (r, g, b)


def run(*args) -> None:
    assert main([str(a) for a in args]) == 0


@pytest.mark.parametrize("command, out", [
    (["sample"], "s.png"),
    (["sample", "--class", "owls"], "s.png"),
    (["explore", "grid"], "grid.png"),
    (["explore", "interp", "--class", "dogs", "--steps", "4"], "i.gif"),
    (["explore", "interp", "--class", "dogs", "--steps", "4"], "i.png"),
    (["explore", "truncation", "--class", "1"], "t.png"),
    (["explore", "classes", "--from", "cats", "--to", "owls", "--steps", "4"], "c.gif"),
    (["explore", "classes", "--from", "cats", "--to", "owls", "--steps", "4"], "c.png"),
])
def test_pictures_of_a_colour_generator_are_in_colour(snap, tmp_path, command, out):
    run(*command, snap, "--out", tmp_path / out)
    picture = Image.open(tmp_path / out)
    assert getattr(picture, "n_frames", 1) == (6 if out.endswith(".gif") else 1)  # 4 forth, 2 back
    assert_crimson(picture)


def test_sampled_npz_keeps_the_channels_last_in_order(snap, tmp_path):
    run("sample", snap, "--n", 6, "--out", tmp_path / "s.npz")
    images = np.load(tmp_path / "s.npz")["images"]                     # (N, H, W, 3) uint8
    assert images.shape == (6, 8, 8, 3)
    assert (images[..., 0] > 200).all() and (images[..., 1] < 40).all()


def test_serve_image_endpoint_is_a_colour_png(snap):
    png = Explorer(load(str(snap))).image({"seed": ["3"], "class": ["owls"], "psi": ["0.7"]})
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG" and picture.mode == "RGB"
    assert_crimson(picture, least=0.9)  # one image, nothing around it


def test_report_and_timeline_of_a_colour_run_are_in_colour(snap, tmp_path):
    folder = make_folder(tmp_path / "imgs")
    out = tmp_path / "run"
    sets = [a for o in TINY for a in ("--set", o)]
    run("train", "--preset", "cdcgan32-folder", "--out", out, "--set", f"data.path={folder}", *sets)
    # Two steps leave G grey; its grids are redrawn by the crimson G with the loop's own
    # writer (Generator.save, as Loop.save_samples calls it), so the report reads colour.
    g = load(str(snap))
    z, y = torch.randn(6, 8, generator=torch.Generator().manual_seed(0)), torch.arange(6) // 2
    frames = sorted((out / "samples").glob("step-*.png"))
    assert len(frames) == 2
    for k, path in enumerate(frames, 1):
        g.save(g.render(z, y), path, rows_are_classes=True, title=f"step {k}")
    page = write_report(out).read_text()
    timeline = Image.open(out / TIMELINE)
    assert timeline.n_frames == 2  # a frame a grid (Pillow merges the held last ones)
    assert_crimson(timeline)
    pictures = re.findall(r'src="data:image/(png|gif);base64,([^"]+)"', page)
    samples = [Image.open(io.BytesIO(base64.b64decode(data))) for kind, data in pictures[:2]]
    assert [p.format for p in samples] == ["PNG", "GIF"]  # the final grid, then the timeline
    for picture in samples:
        assert_crimson(picture)
    assert json.loads((out / "config.json").read_text())["model"]["n_classes"] == 3


def test_the_tiny_colour_generator_is_what_the_pictures_assume(snap):
    x = load(str(snap)).generate(4, seed=0)                             # (4, 3, 8, 8)
    r, g, b = x.mean(dim=(0, 2, 3)).tolist()
    assert r > 0.9 and g < -0.9 and abs(b) < 0.1
