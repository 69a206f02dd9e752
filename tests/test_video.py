"""Video generation: Moving MNIST clips, the TGAN modules, training, pictures and measures."""

import io
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

from gankit.cli import main
from gankit.config import apply_overrides, load_preset
from gankit.data import load_data
from gankit.data.video import digit_bank, moving_mnist, trajectories
from gankit.errors import GankitError
from gankit.generator import load
from gankit.metrics import video as vm
from gankit.video import FRAME_MS
from gankit.models.video import (ImageGenerator, fold, TemporalGenerator, TGANGenerator,
                                 VideoDiscriminator, translate)
from gankit.training import run
from gankit.video import gif_bytes

# A clip small enough to train in a second: 4 frames of 8x8, one digit (3 pixels wide), the
# preset's content (the shipped mnist-dcgan, which takes z of 64) drawn at 3 pixels. Offsets are
# not rounded: an untrained G moves less than a pixel, and Pillow merges identical GIF frames.
TINY = ["data.image_size=8", "data.frames=4", "data.digits=1", "data.n_clips=64",
        "model.g_hidden=4", "model.d_hidden=4", "model.content_side=3",
        "model.whole_pixels=false", "train.batch_size=4",
        "train.n_samples=2", "train.device=cpu", "train.log_every=2", "train.sample_every=2",
        "train.ckpt_every=2"]


def tiny(steps: int):
    return apply_overrides(load_preset("tgan-moving-mnist-small"), [f"train.steps={steps}", *TINY])


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


# ---- clips ------------------------------------------------------------------------------------

def test_trajectories_bounce_inside_the_free_range():
    corners = trajectories(500, 64, 36, np.random.default_rng(0))     # (500, 64, 2)
    assert corners.min() >= 0 and corners.max() <= 36
    steps = np.abs(np.diff(corners, axis=1)).max(axis=2)
    assert steps.max() <= 5                                           # 3.6 px per frame, rounded
    assert (corners == 0).any() and (corners == 36).any()             # they do reach the walls


def test_one_digit_keeps_all_its_ink_and_its_identity_in_every_frame():
    clips, labels = moving_mnist(20, frames=16, size=64, digits=1, seed=3)
    assert clips.shape == (20, 16, 64, 64) and clips.dtype == np.uint8 and labels.shape == (20, 1)
    bank, bank_labels = digit_bank(64, "train")
    ink = clips.reshape(20, 16, -1).sum(axis=2, dtype=np.int64)       # (20, 16)
    assert (ink == ink[:, :1]).all()                                  # nothing cut off by a wall
    for clip, (label,) in zip(clips, labels):
        def ink_box(frame):
            ys, xs = np.nonzero(frame)
            return frame[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        for t in range(1, 16):  # every frame is the first one's digit, moved
            assert np.array_equal(ink_box(clip[t]), ink_box(clip[0]))
        assert label in bank_labels


def test_clips_are_seeded_and_two_digits_are_pasted_with_max():
    a, la = moving_mnist(5, 8, 32, 2, seed=1)
    b, lb = moving_mnist(5, 8, 32, 2, seed=1)
    c, _ = moving_mnist(5, 8, 32, 2, seed=2)
    assert np.array_equal(a, b) and np.array_equal(la, lb) and not np.array_equal(a, c)
    assert a.max() <= 255 and la.shape == (5, 2)


def test_load_data_moving_mnist_and_npz(tmp_path):
    data = load_data("moving-mnist", image_size=32, frames=8, digits=1, n_clips=10, seed=0)
    assert data.shape == (1, 8, 32, 32) and data.videos.dtype == torch.uint8
    assert data.labels.shape == (10, 1)
    clips = np.random.default_rng(0).integers(0, 256, (3, 4, 16, 16), dtype=np.uint8)
    np.savez(tmp_path / "grey.npz", videos=clips)
    np.savez(tmp_path / "rgb.npz", videos=np.repeat(clips[..., None], 3, axis=4))
    grey = load_data("video", str(tmp_path / "grey.npz"))
    rgb = load_data("video", str(tmp_path / "rgb.npz"))
    assert grey.shape == (1, 4, 16, 16) and rgb.shape == (3, 4, 16, 16)
    assert torch.equal(grey.videos[:, 0], torch.from_numpy(clips))


@pytest.mark.parametrize("array, words", [
    (np.zeros((3, 16, 16), np.uint8), "must be uint8 (N, T, H, W)"),         # images, not clips
    (np.zeros((2, 4, 8, 8), np.float32), "float32"),
    (np.zeros((2, 4, 8, 8, 2), np.uint8), "C 1 or 3"),
])
def test_wrong_arrays_are_one_line(tmp_path, array, words):
    np.savez(tmp_path / "bad.npz", videos=array)
    with pytest.raises(GankitError, match=re.escape(words)):
        load_data("video", str(tmp_path / "bad.npz"))


# ---- modules ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 16, 32, 32), (1, 16, 64, 64), (3, 8, 16, 16), (1, 4, 8, 8)])
def test_module_shapes(shape):
    c, t, h, _ = shape
    z = torch.randn(3, 8)
    assert TemporalGenerator(8, t, 4, t_dim=2)(z).shape == (3, t, 2)
    assert ImageGenerator(10, h, c, 4)(torch.randn(5, 10)).shape == (5, c, h, h)
    G, D = TGANGenerator(shape, z_dim=8, hidden=4, t_dim=2), VideoDiscriminator(shape, hidden=4)
    x = G(z)
    assert x.shape == (3, *shape) and x.abs().max() <= 1
    assert D(x).shape == (3,)
    assert VideoDiscriminator(shape, hidden=4, frame_branch=True)(x).shape == (3,)
    warp = TGANGenerator(shape, z_dim=8, hidden=4, t_dim=2, motion="warp")(z)
    assert warp.shape == (3, *shape) and warp.abs().max() <= 1


def test_translate_moves_the_content_and_fills_with_black():
    content = torch.rand(2, 1, 16, 16) * 2 - 1
    # 4 pixels right, then 2 up: a shift of 1 is half the side, 8 pixels.
    clips = translate(content, torch.tensor([[[0.5, 0.0], [0.0, -0.25]]]).expand(2, 2, 2))
    assert clips.shape == (2, 1, 2, 16, 16)
    assert torch.allclose(clips[:, :, 0, :, 4:], content[..., :-4], atol=1e-5)
    assert torch.all(clips[:, :, 0, :, :4] == -1)
    assert torch.allclose(clips[:, :, 1, :-2], content[:, :, 2:], atol=1e-5)
    assert torch.all(clips[:, :, 1, -2:] == -1)


def test_a_warp_generator_moves_one_image_per_clip():
    G = TGANGenerator((1, 8, 16, 16), z_dim=8, hidden=4, motion="warp").eval()
    with torch.no_grad():
        for layer in (G.start, G.step):
            layer.weight.zero_()
            layer.bias.zero_()                              # no motion: every frame the content
        z = torch.randn(2, 8)
        x = G(z)
        assert torch.allclose(x[:, :, 0:1].expand_as(x), x, atol=1e-5)
        assert not torch.allclose(x[0], x[1])
        G.start.bias.fill_(0.25)                            # starts 2 pixels right and down
        moved = G(z)
        assert torch.allclose(moved[:, :, 0:1].expand_as(moved), moved, atol=1e-5)
        assert torch.allclose(moved[..., 2:, 2:], x[..., :-2, :-2], atol=1e-4)
        G.start.bias.zero_()
        G.step.bias.fill_(0.125)                            # then 1 pixel right and down a frame
        walked = G(z)
    for t in range(1, 4):
        assert torch.allclose(walked[:, :, t, t:, t:], x[:, :, t, :-t, :-t], atol=1e-4)


def test_a_bounce_generator_moves_in_a_straight_line_and_bounces():
    G = TGANGenerator((1, 8, 16, 16), z_dim=8, hidden=4, motion="bounce").eval()
    assert G.temporal is None                               # the whole motion comes from z
    with torch.no_grad():
        for layer in (G.start, G.step):
            layer.weight.zero_()
            layer.bias.zero_()
        z = torch.randn(2, 8)
        still = G(z)
        G.step.bias.fill_(0.125)                            # 1 pixel right and down a frame
        moving = G(z)
    assert torch.allclose(still[:, :, :1].expand_as(still), still, atol=1e-5)
    for t in range(1, 4):
        assert torch.allclose(moving[:, :, t, t:, t:], still[:, :, t, :-t, :-t], atol=1e-4)
    with torch.no_grad():
        G.step.bias.fill_(0.375)                            # 3 pixels a frame: past the wall
        fast = G(z)
    # reach 1 (the whole frame, 8 px): at t = 3 it would be 9 px out; it folds back to 7
    assert torch.allclose(fast[:, :, 3, 7:, 7:], still[:, :, 3, :-7, :-7], atol=1e-4)


def test_fold_bounces_off_the_walls():
    u = torch.tensor([0.0, 0.3, 0.5, 0.7, 1.5, -0.7, 2.1])
    assert torch.allclose(fold(u, 0.5), torch.tensor([0.0, 0.3, 0.5, 0.3, -0.5, -0.3, 0.1]),
                          atol=1e-6)


def test_whole_pixel_motion_rounds_offsets_and_keeps_a_gradient():
    G = TGANGenerator((1, 8, 16, 16), z_dim=8, hidden=4, motion="warp", whole_pixels=True)
    with torch.no_grad():
        G.start.bias.fill_(0.3 / 8)                         # 0.3 pixels: rounded to none
        G.start.weight.zero_()
        G.step.weight.zero_()
        G.step.bias.zero_()
    x = G(torch.randn(2, 8))
    still = G.image(torch.randn(2, 8))
    assert torch.all((x == x[:, :, :1]))                    # whole pixels: no blur, no motion
    x.sum().backward()
    assert G.start.bias.grad is not None and G.start.bias.grad.abs().sum() > 0
    assert still.shape == (2, 1, 16, 16)


def test_pretrained_content_is_frozen_and_centred():
    G = TGANGenerator((1, 16, 32, 32), z_dim=64, hidden=4, motion="warp",
                      content="mnist-dcgan", content_side=14).train()
    assert not any(p.requires_grad for p in G.image.parameters())
    assert not G.image.g.training                           # its BatchNorm keeps its statistics
    frame = G.image(torch.randn(3, 64))
    assert frame.shape == (3, 1, 32, 32)
    assert torch.all(frame[..., :9, :] == -1) and torch.all(frame[..., 23:, :] == -1)
    assert torch.all(frame[..., :9] == -1) and torch.all(frame[..., 23:] == -1)
    assert (frame[..., 9:23, 9:23] > 0).any()               # a digit's ink in the middle
    clips = G(torch.randn(3, 64))
    assert clips.shape == (3, 1, 16, 32, 32)


def test_a_conditional_content_takes_a_uniform_class_from_z():
    content = TGANGenerator((1, 16, 32, 32), z_dim=64, hidden=4, motion="warp",
                            content="mnist-cdcgan", content_side=14).image
    torch.manual_seed(0)
    z = torch.randn(20_000, 64)
    y, z2 = content.class_of(z)
    counts = torch.bincount(y, minlength=10).float() / len(y)
    assert torch.all((counts - 0.1).abs() < 0.01)           # uniform over the 10 classes
    assert torch.equal(z2[:, 1:], z[:, 1:])
    assert abs(z2[:, 0].mean()) < 0.03 and abs(z2[:, 0].std() - 1) < 0.03  # normal again
    assert abs(torch.corrcoef(torch.stack([z2[:, 0], y.float()]))[0, 1]) < 0.03
    frame = content(z[:3])
    assert frame.shape == (3, 1, 32, 32) and torch.all(frame[..., :9, :] == -1)


@pytest.mark.parametrize("kwargs, match", [
    (dict(content="moving-mnist-tgan"), "not an image generator of 1-channel images"),
    (dict(content="mnist-dcgan", z_dim=32), "set model.z_dim=64"),
    (dict(content="mnist-dcgan", content_side=40), "model.content_side must be in 1..32"),
    (dict(content="mnist-dcgan", motion="frames"), "need model.motion=warp or bounce"),
    (dict(content="no-such"), "no pretrained generator 'no-such'"),
    (dict(content_side=14), "model.content_side is the side of model.content's image"),
])
def test_bad_content_is_one_line(kwargs, match):
    kwargs = {"z_dim": 64, "hidden": 4, "motion": "warp", **kwargs}
    with pytest.raises(GankitError, match=match):
        TGANGenerator((1, 16, 32, 32), **kwargs)


def test_an_unknown_motion_is_one_line():
    with pytest.raises(GankitError, match="model.motion must be one of frames, warp"):
        TGANGenerator((1, 8, 16, 16), motion="flow")


def test_z_sets_the_whole_clip_and_frames_differ():
    G = TGANGenerator((1, 8, 16, 16), z_dim=8, hidden=4).eval()
    x = G(torch.randn(2, 8))
    assert not torch.allclose(x[0], x[1])                   # two z, two clips
    assert not torch.allclose(x[0, :, 0], x[0, :, 1])       # the frames of one clip move


@pytest.mark.parametrize("shape", [(1, 16, 28, 28), (1, 12, 32, 32), (1, 16, 32, 16)])
def test_a_frame_size_the_model_cannot_make_is_one_line(shape):
    with pytest.raises(GankitError, match="power of two"):
        TGANGenerator(shape)


# ---- training -----------------------------------------------------------------------------------

def test_resume_is_bit_identical(tmp_path):
    straight, _ = run.start(tiny(6), str(tmp_path / "a"))
    half, _ = run.start(tiny(3), str(tmp_path / "b"))
    run.resume(str(half), ["train.steps=6"])
    a = torch.load(straight / "state.pt", weights_only=True)["trainer"]
    b = torch.load(half / "state.pt", weights_only=True)["trainer"]
    assert a["step"] == b["step"] == 6
    for part in ("G", "D", "G_ema"):
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), f"{part}.{key} differs"
    card = json.loads((straight / "generator.json").read_text())
    assert card["data_shape"] == [1, 4, 8, 8] and card["model"] == "tgan"
    strip = Image.open(straight / "samples" / "step-000006.png")
    assert strip.width > strip.height                       # one clip per row, frames across


def test_image_settings_are_refused_for_video(tmp_path):
    with pytest.raises(GankitError, match="train.diffaugment"):
        run.start(apply_overrides(tiny(1), ["train.diffaugment=color"]), str(tmp_path / "r"))
    with pytest.raises(GankitError, match="model.name=tgan"):
        run.start(apply_overrides(tiny(1), ["model.name=dcgan28", "model.d_frame=false",
                                            "model.motion=frames", "model.content=",
                                            "model.content_side=0", "model.whole_pixels=false"]),
                  str(tmp_path / "r2"))
    assert not (tmp_path / "r").exists() and not (tmp_path / "r2").exists()


# ---- the toolkit around it ------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run_dir, _ = run.start(tiny(2), str(tmp_path_factory.mktemp("video") / "run"))
    return run_dir


def test_sample_writes_a_gif_grid_and_an_npz_of_videos(trained, tmp_path):
    assert main(["sample", str(trained), "--n", "4", "--out", str(tmp_path / "c.gif")]) == 0
    gif = Image.open(tmp_path / "c.gif")
    assert gif.n_frames == 4 and gif.is_animated
    assert min(gif.size) >= 2 * 96                          # 2x2 clips, each upscaled to 96 px
    assert main(["sample", str(trained), "--n", "3", "--seed", "5",
                 "--out", str(tmp_path / "c.npz")]) == 0
    videos = np.load(tmp_path / "c.npz")["videos"]
    assert videos.shape == (3, 4, 8, 8) and videos.dtype == np.uint8
    again = load(str(trained)).generate(3, seed=5)
    assert np.array_equal(videos, ((again.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
                          [:, 0].numpy())


def test_explore_interp_is_a_gif_of_clips(trained, tmp_path):
    out = tmp_path / "i.gif"
    assert main(["explore", "interp", str(trained), "--seeds", "0,1", "--steps", "4",
                 "--out", str(out)]) == 0
    gif = Image.open(out)
    assert gif.n_frames == 4                                 # the clips' frames, played together


def test_serve_answers_a_gif_for_a_video_generator(trained):
    from gankit.explore.server import Explorer
    body = Explorer(load(str(trained))).image({"seed": ["3"]})
    assert body[:6] == b"GIF89a"


def test_show_plays_clips_and_a_video_handle(trained):
    from gankit import api
    clips = load(str(trained)).generate(4, seed=1)          # (4, 1, 4, 8, 8)
    shown = api.show(clips, nrow=2)                          # outside Jupyter: an animated GIF
    frames = [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(shown)]
    drawn = [np.asarray(f.convert("L")) for f in
             ImageSequence.Iterator(Image.open(io.BytesIO(gif_bytes(clips, 2))))]
    assert len(frames) == 4 and all(np.array_equal(a, b) for a, b in zip(frames, drawn))
    assert len(list(ImageSequence.Iterator(api.show(load(str(trained)))))) == 4  # 16 clips


@pytest.mark.parametrize("args, words", [
    (["explore", "truncation", "SRC", "--out", "OUT.png"], "makes video clips"),
    (["sample", "SRC", "--out", "OUT.jpg"], "must end in"),
    (["sample", "SRC", "--class", "3", "--out", "OUT.gif"], "unconditional"),
    (["train", "--preset", "tgan-moving-mnist-small", "--set", "data.image_size=28",
      "--set", "train.steps=1"], "power of two"),
])
def test_bad_input_is_one_line_and_exit_2(trained, tmp_path, capsys, args, words):
    args = [str(trained) if a == "SRC" else str(tmp_path / ("out" + a[3:])) if a.startswith("OUT")
            else a for a in args]
    assert main([*args, "--out", str(tmp_path / "run")] if args[0] == "train" else args) == 2
    assert words in error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_wrong_rank_npz_through_the_cli_is_one_line(tmp_path, capsys):
    np.savez(tmp_path / "images.npz", videos=np.zeros((4, 8, 8), np.uint8))
    assert main(["train", "--preset", "tgan-moving-mnist-small", "--set", "data.name=video",
                 "--set", f"data.path={tmp_path / 'images.npz'}",
                 "--out", str(tmp_path / "run")]) == 2
    assert "(N, T, H, W)" in error_line(capsys)
    assert not (tmp_path / "run").exists()


# ---- measures ---------------------------------------------------------------------------------

def as_clips(videos: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(videos).unsqueeze(1).float().div(127.5).sub(1)


def test_a_static_clip_has_zero_motion_and_real_clips_move():
    clips = as_clips(moving_mnist(8, 16, 64, 1, seed=0)[0])
    static = clips[:, :, :1].expand(-1, -1, 16, -1, -1)
    assert vm.motion(static) == 0.0
    assert vm.motion(clips) == pytest.approx(0.1 * 36, rel=0.2)   # the synthesis' speed


def test_identity_consistency_on_hand_made_probabilities():
    probs = torch.zeros(2, 4, 10)
    probs[:, :, 3] = 0.9                     # both clips: a 3 throughout
    probs[1, 2:, 3], probs[1, 2:, 5] = 0.1, 0.9  # the second turns into a 5 half-way
    assert vm.identity_consistency(probs[:1]) == 1.0
    assert vm.identity_consistency(probs[1:]) == 0.0
    assert vm.identity_consistency(torch.zeros(1, 4, 10)) == 0.0  # no digit at all: not kept


def test_the_frame_evaluator_sees_a_digit_change_mid_clip():
    net, card = vm.load_frame_evaluator()
    assert card["held_out"]["per_shape"]["32x32, 1 digit(s)"] > 0.9
    clips, labels = moving_mnist(40, 16, 32, 1, seed=7, split="test")
    x = as_clips(clips)
    other = torch.roll(x, 1, dims=0)                     # the previous clip's digit
    changed = torch.cat([x[:, :, :8], other[:, :, 8:]], dim=2)
    differs = torch.from_numpy(labels[:, 0] != np.roll(labels[:, 0], 1))
    kept = vm.identity_consistency(vm.judge_frames(net, x)["probs"])
    swapped = vm.judge_frames(net, changed[differs])["probs"]
    assert kept >= 0.75                                  # real clips: the evaluator's own errors
    assert vm.identity_consistency(swapped) <= 0.15


def test_eval_prints_the_video_measures(trained, capsys):
    assert main(["eval", str(trained), "--n", "8"]) == 0
    out = capsys.readouterr().out
    for words in ("per-frame FID", "identity consistency", "motion", "real clips"):
        assert words in out
    record = json.loads((trained / "metrics.jsonl").read_text().splitlines()[-1])
    assert set(record["metrics"]) >= {"frame_fid", "frame_fid_real", "identity", "motion",
                                      "motion_real"}


def test_the_shipped_video_generator_samples_on_a_fresh_install(tmp_path):
    from gankit import pretrained
    if "moving-mnist-tgan" not in pretrained.names():
        pytest.skip("moving-mnist-tgan is not in this tree (scripts/train_pretrained.py)")
    out = tmp_path / "clips.gif"
    assert main(["sample", "--pretrained", "moving-mnist-tgan", "--n", "4", "--out", str(out)]) == 0
    # Whole-pixel motion can leave two frames alike, which Pillow stores as one frame shown for
    # both frames' time: the clip's 16 frames are in the playing time.
    gif = Image.open(out)
    played = 0
    for i in range(gif.n_frames):
        gif.seek(i)
        played += gif.info["duration"]
    assert played == 16 * FRAME_MS
    card = pretrained.load("moving-mnist-tgan")[1]["card"]
    assert {"identity", "frame_fid", "motion"} <= set(card["metrics"]) and card["commit"]
