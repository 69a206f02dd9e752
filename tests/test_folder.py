"""A folder of a user's own images loads as a person sees each file (gankit.data.folder):
transparency composited onto data.background, palette/greyscale/16-bit/CMYK converted, EXIF
upright, made square by data.fit; a fixed hash split; a 4-channel run from the CLI."""

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.data import load_data
from gankit.data.folder import MIN_SPLIT, TEST_SHARE, list_images, load_image, split_files
from gankit.errors import GankitError

EMOJI = Path(__file__).resolve().parents[2] / "shared" / "data" / "emoji-64"


def pixel(t, y, x) -> list[int]:
    """The channel values of a loaded (C, S, S) uint8 tensor at row y, column x."""
    return t[:, y, x].tolist()


def rgba_file(path: Path) -> Path:
    """8x8 RGBA: the left half opaque blue, the right half fully transparent but stored red
    (what a naive convert("RGB") would show)."""
    a = np.zeros((8, 8, 4), np.uint8)
    a[:, :4] = (0, 0, 255, 255)
    a[:, 4:] = (255, 0, 0, 0)
    Image.fromarray(a, "RGBA").save(path)
    return path


def test_rgba_composited_onto_white_by_default(tmp_path):
    t = load_image(rgba_file(tmp_path / "a.png"), 8, 3)
    assert t.shape == (3, 8, 8)
    assert pixel(t, 3, 1) == [0, 0, 255]
    assert pixel(t, 3, 6) == [255, 255, 255]  # transparent red reads white, not red


@pytest.mark.parametrize("background, rgb", [("#000000", [0, 0, 0]),
                                             ("orange", [255, 165, 0])])
def test_rgba_composited_onto_another_colour(tmp_path, background, rgb):
    t = load_image(rgba_file(tmp_path / "a.png"), 8, 3, background=background)
    assert pixel(t, 3, 6) == rgb and pixel(t, 3, 1) == [0, 0, 255]


def test_background_alpha_keeps_a_fourth_channel(tmp_path):
    a = np.zeros((8, 8, 4), np.uint8)
    a[..., :3] = (10, 20, 30)
    a[..., 3] = np.arange(8, dtype=np.uint8)[None, :] * 32   # alpha 0, 32, ..., 224 by column
    Image.fromarray(a, "RGBA").save(tmp_path / "a.png")
    t = load_image(tmp_path / "a.png", 8, 4, background="alpha")
    assert t.shape == (4, 8, 8)
    assert t[3, 0].tolist() == [0, 32, 64, 96, 128, 160, 192, 224]
    assert pixel(t, 5, 7) == [10, 20, 30, 224]
    # and through load_data, whose channels default to 4 with alpha: [-1, 1] floats
    data = load_data("folder", str(tmp_path), image_size=8, background="alpha")
    assert data.images.shape == (1, 4, 8, 8)
    assert data.images[0, 3, 0, 0] == -1.0


def test_palette_with_a_transparent_index(tmp_path):
    im = Image.new("P", (8, 8), 0)
    im.putpalette([255, 0, 0, 0, 255, 0])    # index 0 red (transparent), 1 green
    im.paste(1, (0, 0, 4, 8))                 # left half green
    im.save(tmp_path / "p.png", transparency=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # Pillow's palette-transparency UserWarning included
        t = load_image(tmp_path / "p.png", 8, 3)
        a = load_image(tmp_path / "p.png", 8, 4, background="alpha")
    assert pixel(t, 2, 1) == [0, 255, 0] and pixel(t, 2, 6) == [255, 255, 255]
    assert a[3, 2, 1] == 255 and a[3, 2, 6] == 0


def test_palette_with_partial_transparency_bytes(tmp_path):
    im = Image.new("P", (8, 8), 0)
    im.putpalette([0, 0, 255])
    im.save(tmp_path / "p.png", transparency=bytes([128]))  # blue at half alpha
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = load_image(tmp_path / "p.png", 8, 3)
    assert pixel(t, 0, 0) == [127, 127, 255]


def test_la_greyscale_with_alpha(tmp_path):
    a = np.zeros((8, 8, 2), np.uint8)
    a[:, :4] = (40, 255)
    a[:, 4:] = (0, 0)                         # transparent black
    Image.fromarray(a, "LA").save(tmp_path / "la.png")
    assert pixel(load_image(tmp_path / "la.png", 8, 3), 0, 0) == [40, 40, 40]
    assert pixel(load_image(tmp_path / "la.png", 8, 3), 0, 7) == [255, 255, 255]
    assert pixel(load_image(tmp_path / "la.png", 8, 1), 0, 7) == [255]
    assert pixel(load_image(tmp_path / "la.png", 8, 4, "alpha"), 0, 0) == [40, 40, 40, 255]


def test_greyscale_loads_as_three_equal_channels(tmp_path):
    a = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    Image.fromarray(a, "L").save(tmp_path / "g.png")
    t = load_image(tmp_path / "g.png", 8, 3)
    assert t.shape == (3, 8, 8)
    assert (t[0] == t[1]).all() and (t[1] == t[2]).all()
    assert t[0].tolist() == a.tolist()


def test_16bit_greyscale_is_scaled_not_clipped(tmp_path):
    a = np.zeros((8, 8), np.uint16)
    a[:, :4], a[:, 4:] = 65535, 32768
    Image.fromarray(a).save(tmp_path / "g16.png")
    with Image.open(tmp_path / "g16.png") as im:
        assert im.mode.startswith("I")        # Pillow keeps the 16 bits
    t = load_image(tmp_path / "g16.png", 8, 3)
    assert pixel(t, 0, 0) == [255] * 3
    assert all(abs(v - 128) <= 1 for v in pixel(t, 0, 7))  # half-scale grey, not clipped white


def test_dark_16bit_greyscale_stays_dark(tmp_path):
    # 200 of 65535 is near black; read as 8-bit it would be a light grey
    Image.fromarray(np.full((8, 8), 200, np.uint16)).save(tmp_path / "dark.png")
    assert load_image(tmp_path / "dark.png", 8, 1).max() <= 1


def test_16bit_greyscale_transparent_value(tmp_path):
    a = np.full((8, 8), 1000, np.uint16)
    a[:, :4] = 65535
    Image.fromarray(a).save(tmp_path / "g16t.png", transparency=1000)  # tRNS: 1000 is clear
    t = load_image(tmp_path / "g16t.png", 8, 3, background="black")
    assert pixel(t, 0, 0) == [255] * 3 and pixel(t, 0, 7) == [0, 0, 0]
    assert load_image(tmp_path / "g16t.png", 8, 4, "alpha")[3, 0].tolist() == [255] * 4 + [0] * 4


def test_cmyk_jpeg_loads_as_rgb(tmp_path):
    Image.new("CMYK", (8, 8), (255, 0, 0, 0)).save(tmp_path / "c.jpg", quality=95)  # pure cyan
    with Image.open(tmp_path / "c.jpg") as im:
        assert im.mode == "CMYK"
    t = load_image(tmp_path / "c.jpg", 8, 3)
    r, g, b = pixel(t, 4, 4)
    assert t.shape == (3, 8, 8) and r < 40 and g > 215 and b > 215


def test_exif_orientation_6_is_turned_upright(tmp_path):
    # Stored 40 wide, 20 high, its top-left quarter red. Orientation 6 says "turn 90 degrees
    # clockwise to view": upright it is 20 wide, 40 high, and the red quarter is top-right.
    a = np.full((20, 40, 3), 128, np.uint8)
    a[:10, :20] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(a).save(tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    # fit=pad keeps the whole picture: 32 high, 16 wide in columns 8-23, white either side
    t = load_image(tmp_path / "phone.jpg", 32, 3, fit="pad")

    def red(y, x):
        r, g, b = pixel(t, y, x)
        return r > 200 and g < 60 and b < 60

    assert red(6, 19)                                        # top-right: the marked corner
    assert not red(6, 12) and not red(25, 19) and not red(25, 12)
    assert pixel(t, 16, 2) == [255, 255, 255]                # padding at the sides, not above


def stripes(path: Path, height: int = 10) -> Path:
    """30 wide: red, blue, green thirds of 10 columns each."""
    a = np.zeros((height, 30, 3), np.uint8)
    a[:, :10], a[:, 10:20], a[:, 20:] = (255, 0, 0), (0, 0, 255), (0, 255, 0)
    Image.fromarray(a).save(path)
    return path


def test_fit_crop_keeps_the_centre(tmp_path):
    t = load_image(stripes(tmp_path / "w.png"), 10, 3)        # 30x10 -> 10x10: the blue third
    assert t.shape == (3, 10, 10)
    assert (t == t.new_tensor([0, 0, 255])[:, None, None]).all()


def test_fit_pad_keeps_everything_on_the_background(tmp_path):
    path = stripes(tmp_path / "w.png")
    t = load_image(path, 30, 3, fit="pad")                    # 30x10 centred in 30x30, rows 10-19
    assert t.shape == (3, 30, 30)
    assert pixel(t, 2, 15) == [255, 255, 255] and pixel(t, 27, 15) == [255, 255, 255]
    assert pixel(t, 15, 2) == [255, 0, 0] and pixel(t, 15, 15) == [0, 0, 255]
    assert pixel(t, 15, 27) == [0, 255, 0]                    # all three stripes kept
    assert pixel(load_image(path, 30, 3, "#00ffff", "pad"), 2, 15) == [0, 255, 255]
    # one channel pads with Pillow's grey of the colour, the grey a transparent pixel gets
    assert pixel(load_image(path, 30, 1, "red", "pad"), 2, 15) == [76]
    alpha = load_image(path, 30, 4, "alpha", "pad")           # pads with transparency
    assert alpha[3, 2, 15] == 0 and alpha[3, 15, 15] == 255


def test_corrupt_file_in_a_folder_is_named(tmp_path):
    stripes(tmp_path / "good.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(GankitError) as e:
        load_data("folder", str(tmp_path), image_size=8)
    message = str(e.value)
    assert "broken.png" in message and "good.png" not in message
    assert "\n" not in message and "delete or replace" in message


def test_truncated_file_is_named(tmp_path):
    whole = stripes(tmp_path / "whole.png", height=30).read_bytes()
    (tmp_path / "cut.png").write_bytes(whole[:len(whole) // 2])
    with pytest.raises(GankitError, match="cut.png"):
        load_image(tmp_path / "cut.png", 8, 3)


@pytest.mark.parametrize("kwargs, words", [
    (dict(background="chartreuse-ish"), "data.background 'chartreuse-ish' is not a colour: give"),
    (dict(background="#12345"), "#rrggbb"),
    (dict(fit="stretch"), "data.fit must be one of crop, pad, got 'stretch'"),
    (dict(channels=4), "data.background=alpha"),
    (dict(channels=4, background="black"), "data.background=alpha"),
    (dict(background="alpha", channels=3), "set data.channels=4"),
    (dict(background="alpha", channels=1), "set data.channels=4"),
])
def test_bad_options_are_one_line_errors(tmp_path, kwargs, words):
    stripes(tmp_path / "w.png")
    args = {"image_size": 8, **kwargs}
    for call in (lambda: load_data("folder", str(tmp_path), **args),
                 lambda: load_image(tmp_path / "w.png", 8, args.get("channels", 3),
                                    args.get("background", "white"), args.get("fit", "crop"))):
        with pytest.raises(GankitError) as e:
            call()
        assert words in str(e.value) and "\n" not in str(e.value)


def test_channels_4_refused_off_a_folder():
    with pytest.raises(GankitError, match="data.name=folder and data.background=alpha"):
        load_data("mnist", channels=4)


def fake_folder(root: Path, n: int) -> list[Path]:
    """`n` empty files named like a user's photos, in two subfolders (split_files reads names)."""
    files = []
    for i in range(n):
        f = root / f"part{i % 2}" / f"IMG_{i:04d}.png"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.touch()
        files.append(f)
    return list_images(root)


def test_split_is_disjoint_covers_and_holds_out_15_percent(tmp_path):
    files = fake_folder(tmp_path / "a", 200)
    train = split_files(tmp_path / "a", files, "train")
    test = split_files(tmp_path / "a", files, "test")
    assert not set(train) & set(test)
    assert sorted(train + test) == files == split_files(tmp_path / "a", files, "all")
    assert abs(len(test) / len(files) - TEST_SHARE) < 0.06   # 15 % of 200 is 30; binomial sd 5
    # a copy elsewhere holds out the same files
    shutil.copytree(tmp_path / "a", tmp_path / "elsewhere" / "b")
    copy = list_images(tmp_path / "elsewhere" / "b")
    test_copy = split_files(tmp_path / "elsewhere" / "b", copy, "test")
    assert [f.relative_to(tmp_path / "elsewhere" / "b") for f in test_copy] == \
           [f.relative_to(tmp_path / "a") for f in test]


def test_small_folder_is_not_split(tmp_path):
    files = fake_folder(tmp_path, MIN_SPLIT - 1)
    for split in ("train", "test", "all"):
        assert split_files(tmp_path, files, split) == files


def test_load_data_splits_a_folder(tmp_path):
    for i in range(MIN_SPLIT + 10):
        Image.new("RGB", (4, 4), (i, 0, 0)).save(tmp_path / f"{i:03d}.png")
    sizes = {s: len(load_data("folder", str(tmp_path), image_size=4, split=s).images)
             for s in ("train", "test", "all")}
    assert sizes["train"] + sizes["test"] == sizes["all"] == MIN_SPLIT + 10 and sizes["test"] > 0


def test_cli_trains_a_4_channel_dcgan_and_draws_its_grid(tmp_path, capsys):
    folder = tmp_path / "rgba"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        a = rng.integers(0, 256, (20, 24, 4), dtype=np.uint8)
        a[:6, :, 3] = 0                                       # transparent top rows
        Image.fromarray(a, "RGBA").save(folder / f"{i}.png")
    out = tmp_path / "run"
    # The preset names data.channels=3, so alpha needs data.channels=4 (or 0) beside it.
    sets = [f"data.path={folder}", "data.image_size=16", "data.background=alpha",
            "data.channels=4", "model.name=dcgan", "train.steps=2", "model.g_hidden=4",
            "model.d_hidden=4", "model.z_dim=8", "train.batch_size=4", "train.report=false",
            "train.device=cpu"]
    argv = ["train", "--preset", "dcgan64-folder", "--out", str(out)]
    for s in sets:
        argv += ["--set", s]
    assert main(argv) == 0
    grid = out / "samples" / "step-000002.png"
    assert f"final samples: {grid}" in capsys.readouterr().out
    with Image.open(grid) as im:
        assert im.mode == "RGB"     # drawn over a checkerboard: no alpha of its own
    assert '"channels": 4' in (out / "generator.json").read_text()


@pytest.mark.skipif(not EMOJI.is_dir(), reason=f"{EMOJI} not found: the shared emoji folder")
def test_emoji_corners_load_white():
    files = list_images(EMOJI)[::max(1, len(list_images(EMOJI)) // 20)][:20]
    assert len(files) == 20
    for f in files:
        t = load_image(f, 64, 3)
        for y, x in ((0, 0), (0, 63), (63, 0), (63, 63)):
            assert pixel(t, y, x) == [255, 255, 255], f"{f}: corner ({y}, {x})"
        a = load_image(f, 64, 4, background="alpha")
        assert a[3, 0, 0] == 0 and a[3].max() == 255      # transparent corner, opaque drawing
