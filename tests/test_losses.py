import math

import pytest
import torch

from gankit.errors import GankitError
from gankit.losses import d_loss_bce, g_loss_minimax, g_loss_non_saturating, get_losses


def test_d_loss_is_bce_on_real_1_fake_0():
    real, fake = torch.tensor([0.0]), torch.tensor([0.0])   # D says 0.5 everywhere
    assert d_loss_bce(real, fake).item() == pytest.approx(math.log(2))
    # A perfect D (large real logits, very negative fake logits) has loss near 0 ...
    assert d_loss_bce(torch.tensor([20.0]), torch.tensor([-20.0])).item() < 1e-8
    # ... and a D fooled the other way round has a large loss.
    assert d_loss_bce(torch.tensor([-20.0]), torch.tensor([20.0])).item() > 19


def test_label_smoothing_moves_the_real_optimum():
    logits = torch.linspace(-5, 5, 1001)
    loss = torch.stack([d_loss_bce(l.view(1), torch.tensor([-30.0]), smooth=0.1) for l in logits])
    best = torch.sigmoid(logits[loss.argmin()]).item()
    assert best == pytest.approx(0.9, abs=0.01)


def test_g_losses_signs_and_optima():
    fooled, caught = torch.tensor([10.0]), torch.tensor([-10.0])
    # Both losses fall as D(G(z)) rises: G wants to be called real.
    assert g_loss_non_saturating(fooled) < g_loss_non_saturating(caught)
    assert g_loss_minimax(fooled) < g_loss_minimax(caught)
    # minimax = log(1 - D(G(z))) <= 0; non-saturating = -log D(G(z)) >= 0
    assert g_loss_minimax(caught).item() == pytest.approx(math.log(1 - torch.sigmoid(caught).item()),
                                                          abs=1e-6)
    assert g_loss_non_saturating(fooled).item() == pytest.approx(-math.log(torch.sigmoid(fooled).item()),
                                                                 abs=1e-6)


def test_saturating_gradient_vanishes_where_non_saturating_does_not():
    """Near D(G(z)) = 0 (D confidently rejects the fakes) the minimax loss gives G almost no
    gradient, while the non-saturating loss gives it a strong one: the course's motivation."""
    def grad(fn, logit):
        l = torch.tensor([logit], requires_grad=True)
        fn(l).backward()
        return l.grad.item()

    g_minimax, g_ns = grad(g_loss_minimax, -10.0), grad(g_loss_non_saturating, -10.0)
    assert abs(g_minimax) < 1e-4          # sigmoid(-10) ~ 4.5e-5
    assert abs(g_ns) > 0.99               # 1 - sigmoid(-10) ~ 1
    assert g_minimax < 0 and g_ns < 0     # both push the logit up
    # Near D(G(z)) = 1 it is the other way round.
    assert abs(grad(g_loss_minimax, 10.0)) > 0.99
    assert abs(grad(g_loss_non_saturating, 10.0)) < 1e-4


def test_unknown_loss_name():
    with pytest.raises(GankitError, match="loss.g_loss"):
        get_losses("bce", "wasserstein-ish")


def test_r1_penalty_of_a_linear_critic_is_its_squared_weight_norm():
    from gankit.losses import r1_penalty
    w = torch.tensor([3.0, 4.0])
    x = torch.randn(16, 2, requires_grad=True)
    assert r1_penalty(x, x @ w).item() == pytest.approx(25.0)
