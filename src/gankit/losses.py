"""GAN losses as pure functions of the discriminator's outputs, and the one table naming them.

D outputs logits (for WGAN, critic scores), never probabilities: `binary_cross_entropy_with_logits`
is the numerically stable form of BCE (log-sum-exp), which matters exactly when D is confident.

- D's BCE loss has label 1 on real and 0 on fake, averaged over the two halves as in the
  course. `smooth` is one-sided label smoothing (Salimans et al. 2016): real targets
  become 1 - smooth; fake targets stay 0.
- The minimax ("saturating") G loss is the one in the original objective, minimise
  log(1 - D(G(z))). Its gradient vanishes when D confidently rejects fakes, which is when G
  needs it most.
- The non-saturating G loss maximises log D(G(z)) instead: the same fixed point, but strong
  gradients early in training. It is BCE against label 1.
- Hinge (Lim & Ye 2017; Miyato et al. 2018, SNGAN): D minimises relu(1 - D(x)) + relu(1 + D(G(z))),
  so it stops pushing on samples it already judges by a margin of 1; G maximises D(G(z)).
- Least squares (Mao et al. 2017, LSGAN, a-b-c = 0-1-1): squared distance of the outputs to
  the targets, whose gradient does not vanish for fakes far on the right side of the boundary.
- Wasserstein (Arjovsky et al. 2017) with a gradient penalty (Gulrajani et al. 2017): the
  critic maximises D(x) - D(G(z)), kept 1-Lipschitz by lambda * E(||grad D(x_hat)|| - 1)^2 on
  points x_hat between real and fake samples; G maximises D(G(z)).
"""

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from gankit.errors import GankitError
from gankit.stats import report


def d_loss_bce(real_logits: torch.Tensor, fake_logits: torch.Tensor,
               smooth: float = 0.0) -> torch.Tensor:
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, 1 - smooth))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return (real + fake) / 2


def g_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    # log(1 - sigmoid(l)) = -softplus(l), so minimising it is minimising -BCE(l, 0).
    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def g_loss_non_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def r1_penalty(real: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E ||grad_x D(x)||^2 on real data, to be scaled by gamma / 2.

    Penalising D's gradient on real data keeps D from carving sharp cliffs around the data,
    which is what lets a plain GAN converge instead of circling (their Theorem 4.1).
    `real` must have requires_grad set before D saw it.
    """
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    penalty = grad.pow(2).flatten(1).sum(1).mean()
    report("r1_penalty", penalty)
    return penalty


def d_loss_hinge(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                 smooth: float = 0.0) -> torch.Tensor:
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def d_loss_least_squares(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                         smooth: float = 0.0) -> torch.Tensor:
    return ((real_logits - (1 - smooth)).pow(2).mean() + fake_logits.pow(2).mean()) / 2


def g_loss_least_squares(fake_logits: torch.Tensor) -> torch.Tensor:
    return (fake_logits - 1).pow(2).mean() / 2


def d_loss_wasserstein(real_scores: torch.Tensor, fake_scores: torch.Tensor,
                       smooth: float = 0.0) -> torch.Tensor:
    return fake_scores.mean() - real_scores.mean()


def g_loss_linear(fake_scores: torch.Tensor) -> torch.Tensor:
    """-D(G(z)): G's side of both the hinge and the Wasserstein objective."""
    return -fake_scores.mean()


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's E (||grad_x critic(x_hat)||_2 - 1)^2, to be scaled by lambda.

    x_hat = eps * real + (1 - eps) * fake with one eps ~ U[0, 1] per sample (Gulrajani et al.
    2017, Algorithm 1). `critic` is a function of x alone, so the caller decides how D is
    called (with a class label, augmentation, noise). Each sample's gradient must depend on
    that sample only: a critic with BatchNorm breaks this (the Trainer refuses one).
    """
    real, fake = real.detach(), fake.detach()
    eps = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device)  # (B, 1, ...)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    penalty = (grad.flatten(1).norm(2, dim=1) - 1).pow(2).mean()
    report("gradient_penalty", penalty)
    return penalty


@dataclass(frozen=True)
class Objective:
    """One row of the loss table: D's loss, the G losses that go with it, and what it needs."""
    d_loss: Callable            # (real_logits, fake_logits, smooth) -> scalar
    g_losses: dict              # name -> fn(fake_logits); the first is the default
    needs_gp: bool = False      # add loss.gp_lambda * gradient_penalty to D's loss
    smoothing: bool = False     # honours loss.label_smoothing
    score: Callable = torch.sigmoid  # D's output -> what stats.jsonl logs as D(x), D(G(z))


def _raw(scores: torch.Tensor) -> torch.Tensor:
    return scores


OBJECTIVES = {
    "bce": Objective(d_loss_bce, {"non-saturating": g_loss_non_saturating,
                                  "minimax": g_loss_minimax}, smoothing=True),
    "hinge": Objective(d_loss_hinge, {"hinge": g_loss_linear}, score=_raw),
    "least-squares": Objective(d_loss_least_squares, {"least-squares": g_loss_least_squares},
                               smoothing=True, score=_raw),
    "wgan-gp": Objective(d_loss_wasserstein, {"wasserstein": g_loss_linear}, needs_gp=True,
                         score=_raw),
}


def get_losses(d_name: str, g_name: str = "") -> tuple[Objective, Callable]:
    """Look the objective and its G loss up by name ("": the objective's own); the trainer
    never branches on a loss string."""
    if d_name not in OBJECTIVES:
        raise GankitError(f"unknown loss.d_loss {d_name!r}: choose one of {', '.join(OBJECTIVES)}")
    objective = OBJECTIVES[d_name]
    g_name = g_name or next(iter(objective.g_losses))
    if g_name not in objective.g_losses:
        known = {n for o in OBJECTIVES.values() for n in o.g_losses}
        what = "mismatched" if g_name in known else "unknown"
        raise GankitError(f"{what} loss.g_loss {g_name!r} for loss.d_loss {d_name!r}: choose "
                          f"one of {', '.join(objective.g_losses)} (or leave it empty)")
    return objective, objective.g_losses[g_name]


def check_critic(objective: Objective, D: torch.nn.Module, d_name: str) -> None:
    """A gradient penalty needs per-sample gradients, which BatchNorm in D does not give."""
    if objective.needs_gp and any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                                  for m in D.modules()):
        raise GankitError(f"loss.d_loss={d_name} needs a critic without BatchNorm (it mixes the "
                          "samples whose gradients the penalty measures): set model.d_bn=false")
