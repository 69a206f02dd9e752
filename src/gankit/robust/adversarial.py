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
on the evaluators' fixed train split by the evaluators' own loop (`fit_classifier`), so the
held-out split never touches training.
"""

import torch
import torch.nn.functional as F

from gankit.errors import GankitError
from gankit.metrics.evaluator import MODEL, Evaluator, cross_entropy, fit_classifier, load_split
from gankit.robust.attacks import HIGH, LOW, RANGE, _input_gradient, adversarial_accuracy, fgsm, pgd
from gankit.robust.targets import class_names, data_file

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
                     train_eps: float | None = None, log=print,
                     show_progress: bool = False) -> tuple[Evaluator, dict]:
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

    def mixed(net, x, y):  # (loss, clean logits): the clean and adversarial losses mixed
        loss, logits = cross_entropy(net, x, y)
        if adv != "none":
            x_adv = adversarial_batch(net, x, y, adv, train_eps, steps, alpha, g)
            loss = mix * loss + (1 - mix) * F.cross_entropy(net(x_adv), y)
        return loss, logits

    # The evaluator script's schedule: it reaches 99 % on these 8,000 digits in few epochs.
    clean = fit_classifier(model, (x_train, y_train), (x_test, y_test), epochs, g,
                           batch_size=batch_size, lr=lr, batch_loss=mixed, log=log,
                           show_progress=show_progress)
    report = {"clean": round(clean, 4)}
    if adv != "none" or eps > 0:
        acc, _ = adversarial_accuracy(model, x_test, y_test, "fgsm", eps)
        report[f"fgsm_{eps:g}"] = round(acc, 4)
    card = {"kind": "classifier", "model": MODEL, "kwargs": config, "dataset": dataset,
            "data_shape": [1, 28, 28],
            "class_names": class_names(dataset),
            "adv": adv, "eps": eps, "train_eps": train_eps,
            "eps_scale": "[0, 1] pixel range (gankit tensors in [-1, 1] move by 2 eps)",
            "mix": mix, "pgd_steps": steps if adv == "pgd" else None,
            "pgd_alpha": alpha if adv == "pgd" else None, "epochs": epochs,
            "batch_size": batch_size, "lr": lr, "seed": seed,
            "held_out_accuracy": report, "torch_version": torch.__version__}
    return model, card
