"""GAN losses as pure functions of the discriminator's logits.

D outputs logits, never probabilities: `binary_cross_entropy_with_logits` is the numerically
stable form of BCE (log-sum-exp), which matters exactly when D is confident.

- D's loss is BCE with label 1 on real and 0 on fake, averaged over the two halves as in the
  course. `smooth` is one-sided label smoothing (Salimans et al. 2016): real targets
  become 1 - smooth; fake targets stay 0.
- The minimax ("saturating") G loss is the one in the original objective, minimise
  log(1 - D(G(z))). Its gradient vanishes when D confidently rejects fakes, which is when G
  needs it most.
- The non-saturating G loss maximises log D(G(z)) instead: the same fixed point, but strong
  gradients early in training. It is BCE against label 1.
"""

import torch
import torch.nn.functional as F

from gankit.errors import GankitError


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
    return grad.pow(2).flatten(1).sum(1).mean()


D_LOSSES = {"bce": d_loss_bce}
G_LOSSES = {"minimax": g_loss_minimax, "non-saturating": g_loss_non_saturating}


def get_losses(d_name: str, g_name: str):
    """Look the pair up by name; the trainer never branches on a loss string."""
    if d_name not in D_LOSSES:
        raise GankitError(f"unknown loss.d_loss {d_name!r}: choose one of {', '.join(D_LOSSES)}")
    if g_name not in G_LOSSES:
        raise GankitError(f"unknown loss.g_loss {g_name!r}: choose one of {', '.join(G_LOSSES)}")
    return D_LOSSES[d_name], G_LOSSES[g_name]
