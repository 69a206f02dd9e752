"""gankit.explore: interpolation, truncation, class grids, steering, and their CLI paths."""
import math
import re

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gankit import cli
from gankit.explore import control, latent, pictures
from gankit.generator import Generator
from gankit.models import build_generator
from gankit.models.snapshot import save_snapshot

DIGITS = [str(i) for i in range(10)]


def tiny_snapshot(folder, n_classes, class_names):
    """A tiny seeded DCGAN-28 snapshot on MNIST (untrained: only shapes and plumbing matter)."""
    torch.manual_seed(0)
    kwargs = dict(z_dim=8, channels=1, hidden=4, n_classes=n_classes)
    G = build_generator("dcgan28", kwargs).eval()
    for m in G.modules():  # DCGAN's N(0, 0.02) init draws near-constant grey: spread it out
        if isinstance(m, nn.ConvTranspose2d):
            nn.init.normal_(m.weight, std=0.3)
    folder.mkdir()
    save_snapshot(folder, G, "dcgan28", kwargs, (1, 28, 28), class_names,
                  extra={"data": {"name": "mnist"}})
    return Generator(G, {"data_shape": [1, 28, 28], "class_names": class_names,
                         "data": {"name": "mnist"}}), folder


@pytest.fixture
def uncond(tmp_path):
    return tiny_snapshot(tmp_path / "uncond", 0, DIGITS)


@pytest.fixture
def cond(tmp_path):
    return tiny_snapshot(tmp_path / "cond", 3, ["cat", "dog", "owl"])


# ---- interpolation and truncation ----------------------------------------------------------

@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolation_endpoints_are_the_endpoints(method):
    gen = torch.Generator().manual_seed(1)
    a, b = torch.randn(5, 64, generator=gen), torch.randn(5, 64, generator=gen)
    fn = latent.INTERPOLATIONS[method]
    assert torch.equal(fn(a, b, 0), a) and torch.equal(fn(a, b, 1), b)
    path = latent.interpolate(a[0], b[0], 7, method)
    assert path.shape == (7, 64)
    assert torch.equal(path[0], a[0]) and torch.equal(path[-1], b[0])


def test_slerp_stays_on_the_sphere_where_lerp_cuts_inside():
    a = torch.tensor([3.0, 0.0])
    b = torch.tensor([0.0, 3.0])
    assert latent.slerp(a, b, 0.5).norm().item() == pytest.approx(3.0, rel=1e-6)
    assert latent.lerp(a, b, 0.5).norm().item() == pytest.approx(3 / math.sqrt(2), rel=1e-6)


def test_interpolated_images_start_and_end_at_the_seeds_images(uncond):
    g, _ = uncond
    for method in ("lerp", "slerp"):
        frames = pictures.latent_interpolation_images(g, 3, 8, 5, method)
        ends = g.render(pictures.noise(g, [3, 8]))
        # (allclose: a batch of 5 and one of 2 may take different kernels)
        assert torch.allclose(frames[0], ends[0], atol=1e-6)
        assert torch.allclose(frames[-1], ends[1], atol=1e-6)
        assert not torch.equal(frames[1], frames[0])


def test_raw_truncation_bounds_shrinks_monotonically_and_inf_is_untruncated():
    z = torch.randn(1000, 16, generator=torch.Generator().manual_seed(0))
    assert torch.equal(latent.truncate(z, math.inf, keep_norm=False), z)
    prev = torch.zeros_like(z)
    for psi in (0.1, 0.5, 1.0, 2.0, 4.0):
        t = latent.truncate(z, psi, keep_norm=False)
        assert t.abs().max() <= psi
        assert torch.all(t.sign() == z.sign())           # the same sample, moved toward 0
        assert torch.all(t.abs() >= prev.abs() - 1e-6)   # and less so as psi grows
        prev = t
    # at a large threshold it is nearly the untruncated draw
    assert (latent.truncate(z, 6.0, keep_norm=False) - z).abs().max() < 1e-3


def test_truncation_keeps_each_seeds_norm_and_tends_to_a_direction_at_zero():
    z = torch.randn(500, 64, generator=torch.Generator().manual_seed(1))
    assert torch.equal(latent.truncate(z, math.inf), z)
    for psi in (0.0, 1e-4, 0.5, 1.0, 3.0):
        t = latent.truncate(z, psi)
        assert torch.allclose(t.norm(dim=1), z.norm(dim=1), rtol=1e-5)   # still on z's sphere
        assert torch.all(t.sign() == z.sign())
        if psi:  # the raw truncation's direction
            raw = latent.truncate(z, psi, keep_norm=False)
            assert torch.allclose(t / t.norm(dim=1, keepdim=True),
                                  raw / raw.norm(dim=1, keepdim=True), atol=1e-5)
    # psi 0 is the limit of small psi, not one point for every seed
    assert torch.allclose(latent.truncate(z, 0.0), latent.truncate(z, 1e-4), atol=1e-4)
    assert (latent.truncate(z, 0.0)[0] - latent.truncate(z, 0.0)[1]).abs().max() > 0.1
    # the largest coordinates shrink most: truncation evens out z's coordinates
    t = latent.truncate(z, 0.5)
    assert torch.all(t.abs().amax(1) / t.norm(dim=1) < z.abs().amax(1) / z.norm(dim=1))


def test_raw_truncation_toward_zero_gives_one_image_for_every_seed(uncond):
    g, _ = uncond
    seeds = list(range(8))
    rows = pictures.truncation_images(g, [0.0, 1e-4, math.inf], seeds,
                                      keep_norm=False).view(3, 8, 1, 28, 28)
    assert all(torch.equal(rows[0, 0], rows[0, i]) for i in seeds)
    assert torch.allclose(rows[1], rows[0].expand_as(rows[1]), atol=1e-3)
    assert (rows[2] - rows[2, :1]).abs().amax() > 0.05   # untruncated seeds do differ


def test_the_truncation_sheet_sets_both_forms_side_by_side_with_the_trade_under_each_row(uncond):
    g, _ = uncond
    psis, seeds = [0.0, math.inf], [0, 1, 2]
    one = pictures.truncation_sheet(g, psis, seeds, forms=("sphere",))
    both = pictures.truncation_sheet(g, psis, seeds)
    measures = {(f, p): {"precision": 0.5, "recall": 0.25} for f in ("sphere", "zero") for p in psis}
    noted = pictures.truncation_sheet(g, psis, seeds, measures=measures)
    cell = 3 * (len(seeds) * 30 + 2)  # a row of 28 px images, 2 px padding, 3x
    assert one.height == 3 * (len(psis) * 30 + 2) and one.width > cell   # the plain grid
    # the second form is a second grid beside the first, under a title line
    assert both.width == one.width + cell + pictures.SHEET_GAP and both.height > one.height
    # each row gets a line for its precision and recall: dark pixels under every row
    row = 3 * 32  # each row drawn as its own one-row grid
    title = (both.height - len(psis) * row)
    assert noted.width == both.width and noted.height == both.height + len(psis) * title
    px = np.asarray(noted.convert("L"))
    for k in range(len(psis)):
        under = px[title + k * (row + title) + row:title + (k + 1) * (row + title)]
        assert (under < 128).any(), f"no text under row {k}"
    # the two forms part where psi is small (raw psi 0: G(0) for every seed), and agree at inf
    px = np.asarray(both.convert("L"))
    start = both.width - 2 * cell - pictures.SHEET_GAP
    sphere, zero = px[title:, start:start + cell], px[title:, -cell:]
    assert (sphere[:row] != zero[:row]).any() and (sphere[row:] == zero[row:]).all()


def test_explore_truncation_measures_each_row(uncond, tmp_path, capsys):
    _, u = uncond
    code, out, err = run_cli(capsys, "truncation", u, "--psi", "0,inf", "--seeds", "0-1",
                             "--measure", "16", "--out", tmp_path / "t.png")
    assert code == 0, err
    assert "measuring precision and recall of 16 samples per row" in out
    assert "squeezed toward 0 it trades recall (variety) for precision" in out


@pytest.mark.parametrize("psi", [-1, float("nan"), "abc"])
def test_bad_psi_is_refused(psi):
    with pytest.raises(Exception, match="psi must be a number >= 0"):
        latent.truncate(torch.zeros(3), psi)


def test_class_interpolation_moves_from_one_class_to_the_other(cond):
    g, _ = cond
    G = g.module
    frames = pictures.class_interpolation_images(g, 4, 0, 2, 5)
    z = pictures.noise(g, [4])
    with torch.no_grad():
        ends = G(z.expand(2, -1), torch.tensor([0, 2]))
        mid = G(z, torch.tensor([[0.5, 0.0, 0.5]]))[0]
    assert torch.allclose(frames[0], ends[0], atol=1e-6)
    assert torch.allclose(frames[-1], ends[1], atol=1e-6)
    assert torch.allclose(frames[2], mid, atol=1e-6)
    assert not torch.allclose(frames[0], frames[-1], atol=1e-2)


def test_class_seed_grid_rows_are_classes_columns_seeds(cond):
    g, _ = cond
    G = g.module
    grid = pictures.class_seed_images(g, [2, 0], [5, 6, 7]).view(2, 3, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(grid[0, 1], G(pictures.noise(g, [6]), torch.tensor([2]))[0], atol=1e-6)
        assert torch.allclose(grid[1, 2], G(pictures.noise(g, [7]), torch.tensor([0]))[0], atol=1e-6)


# ---- controllable generation -------------------------------------------------------------

def test_steering_raises_the_target_probability_within_its_budget(uncond):
    g, _ = uncond
    classifier = control.evaluator_for(g)
    z0 = control.start_noise(g, 16, 0)
    r = control.steer(g, classifier, z0, target=3, steps=20, step_size=0.2, penalty=0.0,
                      confidence=1.0)
    assert torch.all(r.distance <= 20 * 0.2 + 1e-4)
    with torch.no_grad():
        logp = lambda x: classifier(x).log_softmax(1)[:, 3]
        assert logp(r.after).mean() > logp(r.before).mean() + 1.0
    still = control.steer(g, classifier, z0, target=3, steps=0)
    assert torch.equal(still.after, still.before) and still.distance.abs().max() == 0


# ---- the command line ------------------------------------------------------------------

def run_cli(capsys, *argv):
    try:
        code = cli.main(["explore", *map(str, argv)])
    except SystemExit as e:  # argparse's own refusals (a number out of range)
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_every_explore_command_writes_its_picture(uncond, cond, tmp_path, capsys):
    _, u = uncond
    _, c = cond
    cases = [
        (("grid", c, "--seeds", "0-4"), "grid.png", (5, 3)),
        (("grid", c, "--classes", "owl,0", "--seeds", "1,2"), "grid2.png", (2, 2)),
        (("interp", u, "--seeds", "0,1", "--steps", "6", "--method", "lerp"), "i.png", (6, 1)),
        (("interp", c, "--class", "dog", "--steps", "4"), "i.gif", None),
        (("classes", c, "--from", "0", "--to", "owl", "--steps", "5"), "c.gif", None),
        (("classes", c, "--from", "0", "--to", "2", "--steps", "5"), "c.png", (5, 1)),
        (("truncation", u, "--psi", "0,0.5,inf", "--seeds", "0-3", "--measure", "0"), "t.png",
         "sheet"),
        (("truncation", u, "--psi", "0,inf", "--seeds", "0-2", "--to-zero"), "t0.png", "sheet"),
        (("truncation", c, "--class", "1", "--measure", "0"), "t2.png", "sheet"),
        (("control", u, "--target", "7", "--n", "4", "--steps", "3"), "ctl.png", (4, 2)),
    ]
    for argv, name, cells in cases:
        out = tmp_path / name
        code, text, err = run_cli(capsys, *argv, "--out", out)
        assert code == 0, (argv, err)
        assert f"wrote {out}" in text
        with Image.open(out) as img:
            if cells is None:   # an animated GIF, forth and back
                assert img.is_animated and img.n_frames >= 6
            elif cells == "sheet":  # the truncation sheet: tested on its own below
                assert img.format == "PNG"
            else:               # cells of 28 px + 2 px padding, scaled 3x, plus a label margin
                cols, rows = cells
                assert img.height == 3 * (rows * 30 + 2)
                assert img.width >= 3 * (cols * 30 + 2)
    assert "samples classified as 7 after steering" in text


def test_explore_takes_a_pretrained_generator(cond, tmp_path, monkeypatch, capsys):
    import gankit.pretrained
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for suffix in (".json", ".safetensors"):
        (shipped / f"tiny{suffix}").write_bytes((cond[1] / f"generator{suffix}").read_bytes())
    monkeypatch.setattr(gankit.pretrained, "_folder", lambda: shipped)
    code, out, err = run_cli(capsys, "grid", "--pretrained", "tiny", "--out", tmp_path / "g.png")
    assert code == 0, err
    with Image.open(tmp_path / "g.png") as img:
        assert img.height == 3 * (3 * 30 + 2)


@pytest.mark.parametrize("argv, message", [
    (("grid", "COND", "--classes", "5"), "--classes 5: not a class of this generator; choose 0=cat"),
    (("interp", "COND", "--class", "-1"), "--class -1: not a class"),
    (("interp", "COND"), "this generator is conditional: pass --class"),
    (("interp", "UNCOND", "--class", "3"), "this generator is unconditional; drop --class"),
    (("grid", "UNCOND"), "needs a conditional generator"),
    (("truncation", "UNCOND", "--psi", "0.5,-2"), "psi must be a number >= 0"),
    (("interp", "UNCOND", "--psi", "big"), "psi must be a number >= 0"),
    (("interp", "UNCOND", "--seeds", "1,2,3"), "give the two end points"),
    (("truncation", "UNCOND", "--seeds", "7-2"), "expected at least one number, low to high"),
    (("truncation", "UNCOND", "--measure", "3"), "--measure 3: precision and recall need at least 4"),
    (("control", "UNCOND", "--target", "12"), "--target 12: not a class of this generator; choose 0 to 9"),
    (("control", "COND", "--target", "1"), "this one is conditional"),
    (("control", "UNCOND", "--target", "1", "--confidence", "2"),
     "--confidence: expected a finite number above 0 and at most 1"),
    (("interp", "MISSING"), "does not exist"),
    (("truncation", "TOY"), "makes 2D points, not images"),
    (("interp", "CORRUPT"), "could not be loaded"),
    (("interp",), "give either a run directory / snapshot or --pretrained NAME"),
    (("interp", "UNCOND", "--pretrained", "tiny"), "give either a run directory / snapshot or"),
    (("interp", "--pretrained", "no-such-gan"), "no pretrained generator 'no-such-gan'"),
    (("interp", "UNCOND", "--out", "nowhere/x.gif"), "does not exist"),
    (("interp", "UNCOND", "--out", "x.jpg"), "must end in .gif or .png"),
])
def test_bad_input_is_one_line_and_exit_2(uncond, cond, tmp_path, capsys, argv, message):
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "generator.json").write_text((uncond[1] / "generator.json").read_text())
    (corrupt / "generator.safetensors").write_bytes(b"not a safetensors file")
    toy = tmp_path / "toy"
    toy.mkdir()
    save_snapshot(toy, build_generator("toy-mlp", dict(z_dim=4, hidden=8, n_layers=1)), "toy-mlp",
                  dict(z_dim=4, hidden=8, n_layers=1), (2,), None)
    paths = {"COND": cond[1], "UNCOND": uncond[1], "MISSING": tmp_path / "nope", "CORRUPT": corrupt,
             "TOY": toy}
    argv = [paths.get(a, a) for a in argv]
    if "--out" not in argv:
        argv += ["--out", tmp_path / "x.gif" if argv[0] in ("interp", "classes") else tmp_path / "x.png"]
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_control_turns_the_shipped_mnist_dcgan_toward_a_digit(capsys, tmp_path):
    import gankit.pretrained
    if "mnist-dcgan" not in gankit.pretrained.names():
        pytest.skip("the pretrained mnist-dcgan is not in this tree (scripts/train_pretrained.py)")
    code, out, err = run_cli(capsys, "control", "--pretrained", "mnist-dcgan", "--target", "3",
                             "--n", "16", "--steps", "60", "--out", tmp_path / "c.png")
    assert code == 0, err
    after, before = map(float, re.search(r": ([\d.]+)% of 16 .*before: ([\d.]+)%", out).groups())
    assert after >= before + 20  # steering moved at least 3 of the 16 to the target
    # the independent judge's verdict is printed, and drawn: a green or red frame per "after"
    judged = float(re.search(r"independent classifiers: ([\d.]+)% are 3", out).group(1))
    assert 0 <= judged <= 100
    picture = np.asarray(Image.open(tmp_path / "c.png").convert("RGB")).astype(int)
    green = (picture[..., 1] > 200) & (picture[..., 0] < 60) & (picture[..., 2] < 60)
    red = (picture[..., 0] > 200) & (picture[..., 1] < 60) & (picture[..., 2] < 60)
    assert (green.any() or judged == 0) and (red.any() or judged == 100)


def test_mark_frames_each_image_green_or_red():
    x = torch.zeros(2, 1, 5, 5) - 1
    framed = control.mark(x, torch.tensor([True, False]))
    assert framed.shape == (2, 3, 5, 5)
    assert torch.equal(framed[0, :, 0, 0], torch.tensor([-1.0, 1.0, -1.0]))   # green
    assert torch.equal(framed[1, :, -1, 2], torch.tensor([1.0, -1.0, -1.0]))  # red
    assert torch.equal(framed[:, :, 1:-1, 1:-1], x.expand(-1, 3, -1, -1)[:, :, 1:-1, 1:-1])


class Fixed(nn.Module):
    """A 'classifier' that gives every image the same logits."""

    def __init__(self, logits):
        super().__init__()
        self.logits = torch.tensor(logits)

    def forward(self, x):
        return self.logits.expand(len(x), -1)


def test_the_judge_names_a_class_only_where_every_classifier_is_sure_of_it():
    x = torch.zeros(2, 1, 28, 28)
    sure7, unsure7, sure3 = Fixed([0.0, 0, 9]), Fixed([0.0, 0.5, 1]), Fixed([0.0, 9, 0])
    assert control.Judge([sure7], 0.9)(x).tolist() == [2, 2]
    assert control.Judge([sure7, unsure7], 0.0)(x).tolist() == [2, 2]     # argmax agrees
    assert control.Judge([sure7, unsure7], 0.9)(x).tolist() == [-1, -1]   # one is not sure
    assert control.Judge([sure7, sure3], 0.0)(x).tolist() == [-1, -1]     # they disagree


def test_mnist_steers_with_the_robust_classifier_and_is_judged_by_all_three(uncond):
    g, _ = uncond
    robust = control.steering_classifier(g)
    assert robust.state_dict().keys() == control.robust_for(g).state_dict().keys()
    assert control.evaluator_for(g).head.out_features == robust.head.out_features == 10
    judge = control.judge_for(g)
    assert len(judge.nets) == 3 and judge.confidence == control.JUDGE_CONFIDENCE == 0.9


def test_the_eye_labels_cover_every_image_of_the_agreement_benchmark():
    import json
    from pathlib import Path

    doc = json.loads((Path(__file__).parents[1] / "benchmarks" / "control_labels.json").read_text())
    keys = {f"{s}/{r}.{c}" for s in ("evaluator", "robust") for r in range(4) for c in range(16)}
    assert set(doc["labels"]) == keys and doc["how"]
    assert set(doc["labels"].values()) <= {*map(str, range(10)), "none"}
