"""Controllable generation (the course's fourth week): steer z until a classifier sees a class.

For a batch of start points z0, repeat: compute the evaluator's log-probability of the
target class for G(z), minus `penalty * ||z - z0||^2`, and move z a fixed distance
`step_size` along that objective's gradient. A sample stops moving once the evaluator gives
it `confidence` or more, so each moves only as far as it must; with the step budget, no z
ends farther than steps * step_size from where it started. Fixed-length steps (normalised
gradient ascent) rather than raw gradient steps: the gradient's size varies by orders of
magnitude between samples, a step length does not.

Success is judged by a second classifier, not the one that steered: a z pushed until the
evaluator says "7" can be an adversarial example (the evaluator fooled, the picture hardly a
7), and the steering classifier would call it a success every time. The judge
(`scripts/train_evaluator.py --role judge`: another seed, half as wide, trained apart) has to
see the target class too. `mark` frames each "after" image green where the judge agrees and
red where it does not.
"""

from dataclasses import dataclass

import torch

from gankit.errors import GankitError
from gankit.explore.latent import seed_z
from gankit.generator import Generator
from gankit.metrics import to_evaluator_input
from gankit.metrics.evaluator import EVALUATORS, has_judge, load_evaluator


@dataclass
class Steered:
    target: int                 # the class steered toward
    before: torch.Tensor        # (N, C, H, W) G(z0)
    after: torch.Tensor         # (N, C, H, W) G(z)
    pred_before: torch.Tensor   # (N,) evaluator's class for before
    pred_after: torch.Tensor    # (N,) and for after
    distance: torch.Tensor      # (N,) ||z - z0||
    steps_used: torch.Tensor    # (N,) steps each sample moved
    judged_before: torch.Tensor | None = None  # (N,) the judge's class for before
    judged_after: torch.Tensor | None = None   # (N,) and for after

    @property
    def success_rate(self) -> float:
        """The share the steering classifier calls the target (it was steered to say so)."""
        return (self.pred_after == self.target).float().mean().item()

    @property
    def accepted(self) -> torch.Tensor:
        """(N,) bool: the judge sees the target in the "after" image."""
        return self.judged_after == self.target

    @property
    def judged_rate(self) -> float:
        return self.accepted.float().mean().item()


def judge(r: Steered, judge_net) -> Steered:
    """r with the judge's classes of its before and after images."""
    with torch.no_grad():
        r.judged_before = judge_net(to_evaluator_input(r.before)).argmax(1)
        r.judged_after = judge_net(to_evaluator_input(r.after)).argmax(1)
    return r


def judge_for(g: Generator, name: str | None = None):
    """The independent judge of the data set the evaluator is for; None where none ships."""
    dataset = name or (g.card.get("data") or {}).get("name")
    return load_evaluator(dataset, role="judge") if has_judge(dataset) else None


def mark(images: torch.Tensor, ok: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> (N, 3, H, W) with a one-pixel frame: green where ok, red not."""
    rgb = images.expand(-1, 3, -1, -1).clone() if images.shape[1] == 1 else images.clone()
    colour = torch.where(ok[:, None], torch.tensor([-1.0, 1.0, -1.0]),
                         torch.tensor([1.0, -1.0, -1.0]))[:, :, None]       # (N, 3, 1)
    for edge in (rgb[:, :, 0, :], rgb[:, :, -1, :], rgb[:, :, :, 0], rgb[:, :, :, -1]):
        edge.copy_(colour.expand_as(edge))
    return rgb


def evaluator_for(g: Generator, name: str | None = None):
    """The domain evaluator named, or the one of the generator's data set."""
    dataset = name or (g.card.get("data") or {}).get("name")
    if dataset not in EVALUATORS:
        raise GankitError(f"no classifier to steer with for data set {dataset!r}: pass "
                          f"--evaluator {' or '.join(EVALUATORS)}")
    return load_evaluator(dataset)


def steer(g: Generator, classifier, z0: torch.Tensor, target: int, steps: int = 100, step_size: float = 0.1,
          penalty: float = 0.05, confidence: float = 0.9) -> Steered:
    """Move each row of z0 (N, z_dim) toward `target`; G and the classifier stay frozen."""
    if steps < 0 or step_size <= 0 or penalty < 0 or not 0 < confidence <= 1:
        raise GankitError("control needs --steps >= 0, --step-size > 0, --penalty >= 0 and "
                          "0 < --confidence <= 1")
    G = g.module  # called directly: steering needs the gradient through G
    G.eval()
    classifier.eval()
    z = z0.clone()
    moving = torch.ones(len(z), dtype=torch.bool)
    used = torch.zeros(len(z), dtype=torch.long)
    for step in range(steps + 1):  # steps + 1 looks, so the last step's result is checked
        z.requires_grad_(True)
        logp = classifier(to_evaluator_input(G(z))).log_softmax(1)[:, target]       # (N,)
        moving &= logp.detach().exp() < confidence
        if not moving.any() or step == steps:
            break
        objective = logp - penalty * (z - z0).pow(2).sum(1)
        (grad,) = torch.autograd.grad(objective.sum(), z)
        with torch.no_grad():
            direction = grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
            z = z.detach() + step_size * direction * moving[:, None]
        used += moving.long()
    z = z.detach()
    with torch.no_grad():
        before, after = G(z0), G(z)
        pred_b = classifier(to_evaluator_input(before)).argmax(1)
        pred_a = classifier(to_evaluator_input(after)).argmax(1)
    return Steered(target, before, after, pred_b, pred_a, (z - z0).norm(dim=1), used)


def start_noise(g: Generator, n: int, seed: int) -> torch.Tensor:
    """(n, z_dim): seeds seed, seed+1, ..., as in the other explore pictures."""
    return torch.stack([seed_z(g.z_dim, seed + i) for i in range(n)])
