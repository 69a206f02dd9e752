"""Adversarial examples (FGSM, PGD) and adversarial training: `gankit attack`.

    acc, x_adv = adversarial_accuracy(model, x, y, "fgsm", eps=0.25)   # ε on the [0, 1] scale
    gankit attack fgsm --eps 0.05,0.1,0.2,0.25,0.3 --model mnist
    gankit attack train --adv fgsm --eps 0.25 --out robust.safetensors   # + robust.json, its card
"""

import math
from pathlib import Path

import torch

from gankit import progress
from gankit.errors import GankitError
from gankit.robust.adversarial import train_classifier
from gankit.robust.attacks import RealFake, adversarial_accuracy, fgsm, pgd, predict
from gankit.robust.picture import save_attack_picture
from gankit.robust.targets import load_target, save_classifier

N_PICTURED = 8


def parse_eps(text: str, many: bool = True) -> list[float]:
    """'0.05,0.1' -> [0.05, 0.1]; each ε a number in [0, 1] (the [0, 1] pixel scale)."""
    items = [t.strip() for t in str(text).split(",")] if many else [str(text).strip()]
    values = []
    for t in items:
        try:
            v = float(t)
        except ValueError:
            raise GankitError(f"--eps {text!r}: {t!r} is not a number; give "
                              f"{'comma-separated values' if many else 'a value'} in [0, 1], "
                              "e.g. 0.1,0.25") from None
        if not math.isfinite(v) or not 0 <= v <= 1:
            raise GankitError(f"--eps {text!r}: {t} is outside [0, 1]; ε is a share of the "
                              "[0, 1] pixel range (0.25 moves each pixel by a quarter of it)")
        values.append(v)
    return values


def parse_alpha(text: str | None) -> float | None:
    """PGD's step size, on the same [0, 1] scale as ε; None keeps the default 2.5 ε / steps."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise GankitError(f"--alpha {text!r} is not a number: give a step size in (0, 1]") from None
    if not 0 < value <= 1:
        raise GankitError(f"--alpha {text}: the PGD step size must be in (0, 1], e.g. 0.01")
    return value


def attack_table(attack: str, spec: str, eps_text: str, data: str | None = None,
                 n: int | None = 2000, out: str | None = None, steps: int = 40,
                 alpha: str | None = None, seed: int = 0) -> tuple[list[tuple], Path, str]:
    """`gankit attack fgsm|pgd`: accuracy at ε = 0 (clean) and each ε, and the picture.

    Returns ([(ε, accuracy)], picture path, what was attacked)."""
    eps_list = parse_eps(eps_text)
    alpha = parse_alpha(alpha)
    out_path = Path(out or f"attack-{attack}.png")
    if out_path.suffix.lower() != ".png" or not out_path.parent.is_dir():
        raise GankitError(f"--out {out_path}: give a .png file in an existing folder")
    target = load_target(spec, data, n, seed)
    kwargs = {"steps": steps, "alpha": alpha} if attack == "pgd" else {}
    clean_pred = predict(target.model, target.x)
    rows, pictured = [(0.0, (clean_pred == target.y).float().mean().item())], []
    # A few examples from across the set for the picture (the held-out split is sorted by class).
    shown = torch.randperm(len(target.x), generator=torch.Generator().manual_seed(seed))
    shown = shown[:N_PICTURED]
    names = target.classes
    with progress.bar(len(eps_list) * len(target.x), f"{attack} ({len(eps_list)} budgets)") as b:
        for eps in eps_list:
            acc, adv = adversarial_accuracy(target.model, target.x, target.y, attack, eps,
                                            seed=seed, bar=b, **kwargs)
            rows.append((eps, acc))
            pictured.append((eps, adv[shown],
                             [names[i] for i in predict(target.model, adv[shown])]))
    title = f"{attack.upper()} on {target.what}"
    save_attack_picture(out_path, target.x[shown], [names[i] for i in target.y[shown]],
                        [names[i] for i in clean_pred[shown]], pictured, title)
    return rows, out_path, target.what


def train_and_save(out: str, adv: str, eps_text: str, dataset: str = "mnist",
                   data: str | None = None, epochs: int = 6, steps: int = 7,
                   alpha: str | None = None, seed: int = 0) -> tuple[Path, dict]:
    """`gankit attack train`: train a classifier (adversarially unless adv='none'), save it
    as OUT (.safetensors) and its card beside it (.json). Returns (OUT, card)."""
    (eps,) = parse_eps(eps_text, many=False)
    alpha = parse_alpha(alpha)
    if Path(out).suffix != ".safetensors" or not Path(out).parent.is_dir():
        raise GankitError(f"--out {out}: give a .safetensors file in an existing folder")
    model, card = train_classifier(dataset, data, adv=adv, eps=eps, epochs=epochs, steps=steps,
                                   alpha=alpha, seed=seed, show_progress=True)
    return save_classifier(out, model, card), card


__all__ = ["RealFake", "adversarial_accuracy", "attack_table", "fgsm", "load_target",
           "parse_eps", "pgd", "predict", "train_and_save"]
