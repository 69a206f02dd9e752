"""FGSM and PGD: L∞-bounded adversarial examples against any classifier of gankit images.

ε is stated on the [0, 1] pixel scale, as Goodfellow et al. (2015) and Madry et al. (2018)
state it for MNIST: every pixel may move by at most ε of the black-to-white range. gankit
images live in [-1, 1], a range twice as wide, so in tensor units the budget is 2ε. Every
perturbed image is clipped back to [-1, 1], so it is still a valid image.

A classifier here is any module mapping (B, C, H, W) images to (B, K) logits; labels are
(B,) class indices. `RealFake` turns a GAN discriminator into one (class 1 = real).
"""

import torch
import torch.nn.functional as F
from torch import nn

RANGE = 2.0  # width of gankit's [-1, 1] pixel range, in tensor units per unit of ε
LOW, HIGH = -1.0, 1.0


class RealFake(nn.Module):
    """A discriminator's logit l as two-class logits [0, l]: softmax gives [1 - σ(l), σ(l)].

    Class 1 is "real", so the cross-entropy of class 1 is D's own BCE loss on real images,
    and argmax says "real" exactly when D(x) > 1/2.
    """

    def __init__(self, D: nn.Module):
        super().__init__()
        self.D = D

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logit = self.D(x)                                        # (B,)
        return torch.stack([torch.zeros_like(logit), logit], 1)  # (B, 2)


def _input_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """∇x of the summed cross-entropy: per-example gradients, whatever the batch size."""
    x = x.detach().requires_grad_(True)
    loss = F.cross_entropy(model(x), y, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x)  # leaves the parameters' .grad untouched
    return grad


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """Fast gradient sign method: x + ε·sign(∇x J(θ, x, y)), clipped to [-1, 1]."""
    if eps == 0:
        return x.detach().clone()
    step = RANGE * eps * _input_gradient(model, x, y).sign()
    return (x.detach() + step).clamp(LOW, HIGH)


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int = 40,
        alpha: float | None = None, random_start: bool = True,
        generator: torch.Generator | None = None) -> torch.Tensor:
    """Projected gradient descent (Madry et al. 2018): `steps` FGSM steps of size `alpha`
    (default 2.5 ε / steps, their choice), each projected back onto the ε-ball around x and
    clipped to [-1, 1]; from a uniform random start inside the ball."""
    if eps == 0:
        return x.detach().clone()
    alpha = 2.5 * eps / steps if alpha is None else alpha
    e, a = RANGE * eps, RANGE * alpha
    x = x.detach()
    x_adv = x
    if random_start:
        noise = torch.rand(x.shape, generator=generator).to(x.device) * 2 - 1  # U(-1, 1)
        x_adv = (x + e * noise).clamp(LOW, HIGH)
    for _ in range(steps):
        x_adv = x_adv + a * _input_gradient(model, x_adv, y).sign()
        x_adv = torch.minimum(torch.maximum(x_adv, x - e), x + e).clamp(LOW, HIGH)
    return x_adv


ATTACKS = {"fgsm": fgsm, "pgd": pgd}


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """(N, C, H, W) -> (N,) predicted classes."""
    return torch.cat([model(b).argmax(1) for b in x.split(batch_size)])


def adversarial_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, attack: str,
                         eps: float, batch_size: int = 500, seed: int = 0, bar=None,
                         **kwargs) -> tuple[float, torch.Tensor]:
    """Accuracy of `model` (in eval mode) on attacked copies of (x, y), and those copies
    (`bar`: a tqdm bar advanced by each batch's images)."""
    fn = ATTACKS[attack]
    if attack == "pgd":
        kwargs.setdefault("generator", torch.Generator().manual_seed(seed))
    adv = []
    for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
        adv.append(fn(model, xb, yb, eps, **kwargs))
        if bar is not None:
            bar.update(len(xb))
    adv = torch.cat(adv)
    return (predict(model, adv) == y).float().mean().item(), adv
