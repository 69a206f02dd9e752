import pytest
import torch

from gankit.augment import (POLICIES, diff_augment, instance_noise_sigma, parse_policy,
                            rand_cutout, rand_translation)
from gankit.errors import GankitError

ALL = ("color", "translation", "cutout")


@pytest.mark.parametrize("policy", [(name,) for name in POLICIES] + [ALL])
@pytest.mark.parametrize("shape", [(4, 1, 28, 28), (3, 3, 64, 64)])
def test_diffaugment_keeps_shapes_and_is_differentiable(policy, shape):
    torch.manual_seed(0)
    x = torch.rand(shape, requires_grad=True)
    out = diff_augment(x * 2 - 1, policy)
    assert out.shape == x.shape and torch.isfinite(out).all()
    assert not torch.equal(out, x * 2 - 1)                   # it did something
    out.pow(2).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0     # gradient flows back to x


def test_diffaugment_off_is_the_identity():
    x = torch.randn(2, 1, 28, 28)
    assert diff_augment(x, ()) is x
    assert diff_augment(x, parse_policy("")) is x


def test_translation_moves_pixels_by_whole_steps_and_fills_zeros():
    torch.manual_seed(1)
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0                                      # one bright pixel
    out = rand_translation(x, ratio=0.125)                   # shifts of -2..2 pixels
    assert torch.all(out.sum(dim=(1, 2, 3)) == 1.0)          # moved, not blurred or lost
    where = out[:, 0].flatten(1).argmax(1)
    dy, dx = where // 16 - 8, where % 16 - 8
    assert dy.abs().max() <= 2 and dx.abs().max() <= 2 and len(set(dy.tolist())) > 1


def test_cutout_zeroes_a_square_of_half_the_side_at_most():
    torch.manual_seed(2)
    out = rand_cutout(torch.ones(32, 2, 16, 16), ratio=0.5)
    zeros = (out[:, 0] == 0).flatten(1).sum(1)
    assert torch.all(zeros > 0) and torch.all(zeros <= 64)  # an 8x8 square, clipped at edges
    assert torch.equal(out[:, 0], out[:, 1])                # the same mask on every channel


def test_unknown_policy_is_refused():
    assert parse_policy(" color, cutout ") == ("color", "cutout")
    with pytest.raises(GankitError, match="unknown train.diffaugment policy 'flip'"):
        parse_policy("color,flip")


def test_instance_noise_falls_linearly_to_zero():
    assert instance_noise_sigma(0.5, 100, 0) == 0.5
    assert instance_noise_sigma(0.5, 100, 25) == pytest.approx(0.375)
    assert instance_noise_sigma(0.5, 100, 50) == pytest.approx(0.25)
    assert instance_noise_sigma(0.5, 100, 100) == 0.0
    assert instance_noise_sigma(0.5, 100, 250) == 0.0       # never negative
    assert instance_noise_sigma(0.0, 100, 10) == 0.0        # off
