"""Controllable generation (the course's fourth week): steer z until a classifier sees a class.

For a batch of start points z0, repeat: compute a classifier's log-probability of the
target class for G(z), minus `penalty * ||z - z0||^2`, and move z a fixed distance
`step_size` along that objective's gradient. A sample stops moving once the classifier gives
it `confidence` or more, so each moves only as far as it must; with the step budget, no z
ends farther than steps * step_size from where it started. Fixed-length steps (normalised
gradient ascent) rather than raw gradient steps: the gradient's size varies by orders of
magnitude between samples, a step length does not.

The classifier steered with is the data set's adversarially trained one where it ships
(`steering_classifier`; MNIST's: `gankit attack train --adv fgsm-rs`, ε 0.3, 16 channels):
a standard classifier's gradient finds adversarial patterns, a robust one's more often strokes.
Success is judged by more than the classifier steered with, since a z pushed until it says
"7" can be an adversarial example (the picture hardly a 7). The judge (`judge_for`) names a
class only where every classifier that ships for the data set (the judge network, trained
apart: another seed, half as wide; the robust classifier; the evaluator) names it with
probability 0.9 or more. Measured against eye labels (benchmarks/control_agreement.py), it
agreed with the eye on 92 % of the images, where the judge network alone (argmax, what this
module used before) agreed on 81 % and accepted 9 of 22 that the eye did not see as the target.
`mark` frames each "after" image green where the judge accepts and red where it does not.
"""

from dataclasses import dataclass
from importlib import resources

import torch

from gankit.errors import GankitError
from gankit.explore.latent import seed_z
from gankit.generator import Generator
from gankit.metrics import to_evaluator_input
from gankit.metrics.evaluator import EVALUATORS, has_judge, load_evaluator
from gankit.robust.targets import load_classifier

# Adversarially trained classifiers that ship (`gankit attack train`'s kind of file). MNIST's:
# robust.adversarial.train_classifier("mnist", adv="fgsm-rs", eps=0.25, train_eps=0.3,
# epochs=10, channels=16, seed=0), 93 s on one core; held-out 97.95 % clean, 90.85 % under FGSM 0.25.
ROBUST = {"mnist": resources.files("gankit").joinpath("metrics", "weights", "mnist-robust.safetensors")}
JUDGE_CONFIDENCE = 0.9  # each of the judge's classifiers must give the class this probability


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


class Judge:
    """Names an image's class only where every one of its classifiers names the same class,
    each with probability at least `confidence`; otherwise -1 (no verdict, not accepted)."""

    def __init__(self, nets: list, confidence: float = 0.0):
        self.nets, self.confidence = [n.eval() for n in nets], confidence

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) in [-1, 1] -> (N,) class, or -1."""
        probs = [n(to_evaluator_input(images)).softmax(1) for n in self.nets]   # each (N, K)
        p, cls = probs[0].max(1)
        ok = p >= self.confidence
        for q in probs[1:]:
            ok &= (q.argmax(1) == cls) & (q.gather(1, cls[:, None])[:, 0] >= self.confidence)
        return torch.where(ok, cls, -1)


def judge(r: Steered, judge_: Judge) -> Steered:
    """r with the judge's classes of its before and after images."""
    r.judged_before, r.judged_after = judge_(r.before), judge_(r.after)
    return r


def robust_for(g: Generator, name: str | None = None):
    """The shipped adversarially trained classifier of the data set; None where none ships."""
    dataset = name or (g.card.get("data") or {}).get("name")
    path = ROBUST.get(dataset)
    return None if path is None else load_classifier(path)[0].eval()


def judge_for(g: Generator, name: str | None = None) -> Judge | None:
    """The data set's judge: every classifier that ships for it (the judge network, the
    robust classifier, the evaluator) must name the class, each with JUDGE_CONFIDENCE; None
    where no second classifier ships (the evaluator alone would judge its own steering)."""
    dataset = name or (g.card.get("data") or {}).get("name")
    nets = [load_evaluator(dataset, role="judge")] if has_judge(dataset) else []
    nets += [net for net in [robust_for(g, dataset)] if net is not None]
    if not nets:
        return None
    return Judge(nets + [evaluator_for(g, dataset)], JUDGE_CONFIDENCE)


def mark(images: torch.Tensor, ok: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> (N, 3, H, W) with a one-pixel frame: green where ok, red not."""
    rgb = images.expand(-1, 3, -1, -1).clone() if images.shape[1] == 1 else images.clone()
    colour = torch.where(ok[:, None], torch.tensor([-1.0, 1.0, -1.0]),
                         torch.tensor([1.0, -1.0, -1.0]))[:, :, None]       # (N, 3, 1)
    for edge in (rgb[:, :, 0, :], rgb[:, :, -1, :], rgb[:, :, :, 0], rgb[:, :, :, -1]):
        edge.copy_(colour.expand_as(edge))
    return rgb


def steering_classifier(g: Generator, name: str | None = None):
    """What `explore control` steers with: the data set's robust classifier where one ships
    (its gradient points at strokes a person sees, not at an adversarial pattern), else its
    evaluator."""
    net = robust_for(g, name)
    return evaluator_for(g, name) if net is None else net


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
