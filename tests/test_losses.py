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


def test_hinge_losses_on_known_logits():
    from gankit.losses import d_loss_hinge, g_loss_linear
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-3.0, 0.0, 1.0])
    # relu(1 - real) = [0, 0.5, 2] -> mean 5/6; relu(1 + fake) = [0, 1, 2] -> mean 1
    assert d_loss_hinge(real, fake).item() == pytest.approx(5 / 6 + 1)
    assert g_loss_linear(fake).item() == pytest.approx(2 / 3)


def test_least_squares_losses_on_known_logits():
    from gankit.losses import d_loss_least_squares, g_loss_least_squares
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    # ((0 + 4) / 2 + (0 + 4) / 2) / 2 = 2
    assert d_loss_least_squares(real, fake).item() == pytest.approx(2.0)
    # with smoothing 0.5 the real target is 0.5: ((0.25 + 6.25) / 2 + 2) / 2
    assert d_loss_least_squares(real, fake, smooth=0.5).item() == pytest.approx((3.25 + 2) / 2)
    assert g_loss_least_squares(fake).item() == pytest.approx((1 + 1) / 2 / 2)


def test_wasserstein_critic_loss_is_the_score_gap():
    from gankit.losses import d_loss_wasserstein
    assert d_loss_wasserstein(torch.tensor([3.0, 5.0]), torch.tensor([1.0, -1.0])).item() == -4.0


def test_gradient_penalty_is_zero_for_a_unit_norm_linear_critic():
    from gankit.losses import gradient_penalty
    torch.manual_seed(0)
    w = torch.randn(1, 28, 28)
    w = w / w.norm()                                    # ||grad|| = ||w|| = 1 everywhere
    critic = lambda x: (x * w).flatten(1).sum(1) + 3.0  # noqa: E731
    real, fake = torch.randn(16, 1, 28, 28), torch.randn(16, 1, 28, 28)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-10)
    # ... and (2 - 1)^2 = 1 for weights of norm 2: the penalty sees the gradient's norm.
    assert gradient_penalty(lambda x: critic(2 * x), real, fake).item() == pytest.approx(1.0)


def test_gradient_penalty_uses_one_weight_per_sample_and_reaches_the_critic():
    from gankit.losses import gradient_penalty
    seen = {}

    def critic(x):
        seen["x"] = x
        return (x ** 2).flatten(1).sum(1)               # grad = 2x: depends on where x_hat is

    real, fake = torch.ones(8, 3, 4, 4), torch.zeros(8, 3, 4, 4)
    w = torch.nn.Parameter(torch.tensor(1.0))
    gp = gradient_penalty(lambda x: w * critic(x), real, fake)
    x_hat = seen["x"]
    eps = x_hat.flatten(1)
    assert torch.allclose(eps, eps[:, :1].expand_as(eps))   # one eps for all of a sample
    assert len(set(eps[:, 0].tolist())) == 8                # different eps across samples
    gp.backward()                                           # create_graph: D's weights get a grad
    assert w.grad is not None and w.grad.abs().item() > 0


@pytest.mark.parametrize("d_name,g_name", [("hinge", "hinge"), ("least-squares", "least-squares"),
                                           ("wgan-gp", "wasserstein"), ("bce", "non-saturating")])
def test_each_objective_has_its_own_default_g_loss(d_name, g_name):
    from gankit.losses import OBJECTIVES
    objective, g = get_losses(d_name, "")
    assert objective is OBJECTIVES[d_name] and g is objective.g_losses[g_name]


def test_g_loss_that_does_not_match_the_objective_is_refused():
    with pytest.raises(GankitError, match="mismatched loss.g_loss 'minimax' for loss.d_loss 'hinge'"):
        get_losses("hinge", "minimax")
    with pytest.raises(GankitError, match="unknown loss.d_loss"):
        get_losses("wgan", "")
