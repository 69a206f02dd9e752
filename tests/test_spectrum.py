"""The checkerboard measure: a stride-2 pattern shows, a smooth spectrum reads about 1."""
import json

import torch

from gankit.cli import main
from gankit.data import load_data
from gankit.metrics.spectrum import checkerboard, checkerboard_ratios, radial_power, stride2_points
from gankit.training import run
from test_train import tiny


def smooth_images(n=200, size=28, seed=0):
    """Random-phase noise with power 1/f^2, the smooth spectrum of natural images."""
    g = torch.Generator().manual_seed(seed)
    f = torch.fft.fftfreq(size, d=1 / size)
    r = torch.sqrt(f.view(-1, 1) ** 2 + f.view(1, -1) ** 2).clamp(min=1)
    spectrum = torch.complex(torch.randn(n, 1, size, size, generator=g),
                             torch.randn(n, 1, size, size, generator=g)) / r
    x = torch.fft.ifft2(spectrum).real
    return x / x.abs().amax()


def test_stride2_frequencies_are_the_periods_a_stride2_layer_leaves():
    assert stride2_points(28, 28) == {2: [(14, 0), (0, 14), (14, 14)],
                                      4: [(7, 0), (0, 7), (7, 7), (7, 21)]}
    assert sorted(stride2_points(64, 64)) == [2, 4, 8, 16]


def test_radial_power_of_one_frequency_lands_in_its_ring():
    x = torch.cos(2 * torch.pi * 5 * torch.arange(28) / 28).repeat(28, 1)  # 5 cycles along W
    p = radial_power(x.view(1, 1, 28, 28))
    assert int(p.argmax()) == 5 and p[5] > 1000 * p[4]


def test_a_checkerboard_stands_out_and_smooth_images_do_not():
    x = smooth_images()
    assert 0.5 < checkerboard(x) < 2.0
    board = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).repeat(14, 14)     # period 2
    assert checkerboard(x + 0.05 * board) > 10
    period4 = torch.tensor([1.0, 1.0, -1.0, -1.0]).repeat(7).view(1, 28).repeat(28, 1)
    ratios = checkerboard_ratios(x + 0.05 * period4)
    assert ratios[4] > 10 and ratios[2] < 2


def test_real_digits_have_no_stride2_peak():
    assert checkerboard(load_data("mnist").images[:1000]) < 1.5


def test_eval_checkerboard_from_the_cli(tmp_path, capsys):
    run_dir, _ = run.start(tiny(2, "train.report=false"), str(tmp_path / "r"))
    assert main(["eval", str(run_dir), "--metrics", "checkerboard", "--n", "100"]) == 0
    out = capsys.readouterr().out
    assert "checkerboard" in out and "checkerboard, real data" in out
    record = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    assert record["metrics"]["checkerboard"] > 0 and record["metrics"]["checkerboard_real"] < 1.5
