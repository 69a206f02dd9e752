"""Adversarial training (Goodfellow et al. 2015, section 6) of a small CNN classifier.

Each batch's loss mixes the clean and the adversarial cross-entropy,

    J~(θ, x, y) = α J(θ, x, y) + (1 - α) J(θ, x + ε sign(∇x J(θ, x, y)), y),   α = 0.5,

with the adversarial examples drawn afresh from the current model at every step (FGSM, or
PGD for the stronger variant). `adv="fgsm-rs"` is FGSM from a random start (Wong et al.
2020, "Fast is better than free"): x + U(-ε, ε), one sign step of 1.25 ε, projected back onto
the ε-ball around x and clipped; it avoids the gradient masking that plain FGSM training falls
into and costs the same. `train_eps` (default: ε) lets training use a slightly larger ball than
the one measured. `adv="none"` trains the same model on clean images only: the
standard classifier to compare against.

The classifier is the domain evaluators' CNN (`gankit.metrics.evaluator.Evaluator`), trained
on the evaluators' fixed train split, so the held-out split never touches training.
"""

import math
import time

import torch
import torch.nn.functional as F

import gankit
from gankit.errors import GankitError
from gankit.metrics.evaluator import Evaluator, load_split
from gankit.robust.attacks import HIGH, LOW, RANGE, _input_gradient, adversarial_accuracy, fgsm, pgd
from gankit.robust.targets import data_file

ADV_MODES = ("none", "fgsm", "fgsm-rs", "pgd")


def adversarial_batch(model, x, y, adv: str, eps: float, steps: int, alpha: float | None,
                      generator: torch.Generator) -> torch.Tensor:
    """Adversarial copies of a batch from the model as it is now (train mode, as in training)."""
    if adv == "fgsm":
        return fgsm(model, x, y, eps)
    if adv == "fgsm-rs":
        return fgsm_random_start(model, x, y, eps, generator)
    return pgd(model, x, y, eps, steps=steps, alpha=alpha, generator=generator)


def fgsm_random_start(model, x, y, eps: float, generator: torch.Generator,
                      step: float = 1.25) -> torch.Tensor:
    """Wong et al. (2020): uniform start in the ε-ball, one FGSM step of `step`·ε, projected
    onto the ball and clipped to [-1, 1]. ε on the [0, 1] pixel scale, as everywhere here."""
    e = RANGE * eps
    x = x.detach()
    noise = torch.rand(x.shape, generator=generator).to(x.device) * 2 - 1  # U(-1, 1)
    x0 = (x + e * noise).clamp(LOW, HIGH)
    x_adv = x0 + step * e * _input_gradient(model, x0, y).sign()
    return torch.minimum(torch.maximum(x_adv, x - e), x + e).clamp(LOW, HIGH)


def train_classifier(dataset: str = "mnist", data: str | None = None, adv: str = "fgsm",
                     eps: float = 0.25, epochs: int = 6, batch_size: int = 128,
                     lr: float = 3e-3, mix: float = 0.5, steps: int = 7,
                     alpha: float | None = None, channels: int = 32, seed: int = 0,
                     train_eps: float | None = None, log=print) -> tuple[Evaluator, dict]:
    """Train on the train split; returns the model (eval mode) and its card."""
    if adv not in ADV_MODES:
        raise GankitError(f"--adv {adv!r}: choose one of {', '.join(ADV_MODES)}")
    if epochs < 1 or batch_size < 1 or steps < 1:
        raise GankitError("--epochs, --batch-size and --steps must be at least 1")
    train_eps = eps if train_eps is None else train_eps
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x_train, y_train = load_split(dataset, "train", data_file(dataset, data))  # (N, 1, 28, 28)
    x_test, y_test = load_split(dataset, "test", data_file(dataset, data))
    config = dict(channels=channels, feature_dim=128, n_classes=10, dropout=0.3)
    model = Evaluator(**config)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    per_epoch = math.ceil(len(x_train) / batch_size)
    # The evaluator script's schedule: it reaches 99 % on these 8,000 digits in few epochs.
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * per_epoch)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for idx in torch.randperm(len(x_train), generator=g).split(batch_size):
            x, y = x_train[idx], y_train[idx]
            loss = F.cross_entropy(model(x), y)
            if adv != "none":
                x_adv = adversarial_batch(model, x, y, adv, train_eps, steps, alpha, g)
                loss = mix * loss + (1 - mix) * F.cross_entropy(model(x_adv), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        model.eval()
        clean = (model(x_test).argmax(1) == y_test).float().mean().item()
        log(f"epoch {epoch}/{epochs}  loss {total / len(x_train):.4f}  held-out clean accuracy "
            f"{clean:.4f}  {time.perf_counter() - start:.0f} s")
    model.eval()
    report = {"clean": round(clean, 4)}
    if adv != "none" or eps > 0:
        acc, _ = adversarial_accuracy(model, x_test, y_test, "fgsm", eps)
        report[f"fgsm_{eps:g}"] = round(acc, 4)
    card = {"format": "gankit classifier", "architecture": "gankit.metrics.evaluator.Evaluator",
            "config": config, "dataset": dataset, "adv": adv, "eps": eps, "train_eps": train_eps,
            "eps_scale": "[0, 1] pixel range (gankit tensors in [-1, 1] move by 2 eps)",
            "mix": mix, "pgd_steps": steps if adv == "pgd" else None,
            "pgd_alpha": alpha if adv == "pgd" else None, "epochs": epochs,
            "batch_size": batch_size, "lr": lr, "seed": seed,
            "held_out_accuracy": report, "gankit_version": gankit.__version__,
            "torch_version": torch.__version__}
    return model, card
