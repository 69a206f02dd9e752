"""Robustness benchmark: a standard and an FGSM-trained MNIST classifier under FGSM and PGD.

    python benchmarks/robust.py                 # two processes, one thread each
    python benchmarks/robust.py --jobs 1        # one after the other: about 4 minutes on an idle core
    python benchmarks/robust.py --epochs 2      # a quick look

The adversarially trained model uses FGSM from a random start (Wong et al. 2020) at training
ε 0.3 by default (--adv, --train-eps); `--adv fgsm --train-eps 0.25` is Goodfellow et al.'s
plain recipe.

Both classifiers are the domain evaluators' CNN (narrowed to --channels), trained on the
evaluators' fixed 8,000-image MNIST train split, measured on the 2,000 held-out images. ε is
on the [0, 1] pixel scale, as in Goodfellow et al. (2015), whose anchor figures are: a maxout
network misclassifies 89.4 % of FGSM examples at ε 0.25, and 17.9 % after adversarial
training. --shipped measures the shipped evaluator (trained with augmentation, no adversarial
examples) beside them. The table is printed and recorded in docs/benchmarks.md.
"""

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from gankit.metrics.evaluator import load_evaluator, load_split
from gankit.robust import adversarial_accuracy
from gankit.robust.adversarial import train_classifier
from gankit.robust.targets import data_file

sys.path.insert(0, str(Path(__file__).parent))
from record import machine, markdown_table, record  # noqa: E402

ADV = ("none", "fgsm")  # the adversarial one is --adv
ATTACKS = [("fgsm", 0.1), ("fgsm", 0.25), ("pgd", 0.1), ("pgd", 0.25)]


def train_one(adv: str, epochs: int, channels: int, train_eps: float = 0.25):
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    model, _ = train_classifier("mnist", adv=adv, eps=0.25, epochs=epochs, channels=channels,
                                seed=0, train_eps=train_eps, log=lambda line: print(f"[{adv}] {line}", flush=True))
    return model, time.perf_counter() - t0


def measure(model, x, y, pgd_steps: int) -> list[float]:
    model.eval()
    clean = (model(x).argmax(1) == y).float().mean().item()
    accs = [clean]
    for attack, eps in ATTACKS:
        kwargs = {"steps": pgd_steps} if attack == "pgd" else {}
        accs.append(adversarial_accuracy(model, x, y, attack, eps, **kwargs)[0])
    # Label-leaking check (Kurakin et al. 2017): FGSM on the model's own predictions, not the
    # true labels, so the perturbation cannot carry the label; scored against the true labels.
    with torch.no_grad():
        guess = model(x).argmax(1)
    adv = adversarial_accuracy(model, x, guess, "fgsm", 0.25)[1]
    accs.append((model(adv).argmax(1) == y).float().mean().item())
    return accs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--adv", default="fgsm-rs", choices=("fgsm", "fgsm-rs", "pgd"),
                   help="adversarial training method (default fgsm-rs: FGSM from a random start)")
    p.add_argument("--train-eps", type=float, default=0.3,
                   help="ε used in training (default 0.3; measured at 0.1 and 0.25)")
    p.add_argument("--jobs", type=int, default=2, help="processes (1: train one after the other)")
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--pgd-steps", type=int, default=10)
    p.add_argument("--shipped", action="store_true", help="also measure the shipped evaluator")
    p.add_argument("--record", action="store_true", help="write the table into docs/benchmarks.md")
    args = p.parse_args()
    torch.set_num_threads(1)
    x, y = load_split("mnist", "test", data_file("mnist", None))
    rows = []

    def add(label, model, seconds):
        accs = measure(model, x, y, args.pgd_steps)
        row = [label, f"{seconds:.0f}" if seconds else ""]
        row += [f"{100 * a:.1f} / {100 * (1 - a):.1f}" for a in accs]
        rows.append(row)
        print(" | ".join(row), flush=True)

    if args.shipped:
        add("shipped MNIST evaluator (standard, augmented, 30 epochs, 32 channels)",
            load_evaluator("mnist"), 0)
    # The two classifiers train at once, one thread each (they are independent).
    advs = ("none", args.adv)
    with ProcessPoolExecutor(args.jobs) as pool:
        jobs = [pool.submit(train_one, adv, args.epochs, args.channels, args.train_eps)
                for adv in advs]
        for adv, job in zip(advs, jobs):
            model, seconds = job.result()
            method = {"fgsm": "FGSM", "fgsm-rs": "FGSM-random-start", "pgd": "PGD"}.get(adv)
            label = ("standard" if adv == "none"
                     else f"{method}-trained (ε {args.train_eps:g}, α 0.5)")
            add(f"{label}, {args.epochs} epochs, {args.channels} channels", model, seconds)

    header = ["classifier", "train s", "clean", "FGSM ε 0.1", "FGSM ε 0.25",
              f"PGD-{args.pgd_steps} ε 0.1", f"PGD-{args.pgd_steps} ε 0.25",
              "FGSM ε 0.25, predicted labels"]
    table = markdown_table(header, rows)
    print(table)
    if args.record:
        record("robust", f"""## Adversarial examples (`python benchmarks/robust.py`)

Machine: {machine()}. Accuracy / error in % on the 2,000 held-out MNIST digits of the
evaluator split. ε on the [0, 1] pixel scale (gankit's [-1, 1] tensors move by 2ε), every
perturbed image clipped to the valid range. PGD: {args.pgd_steps} steps of 2.5 ε / steps from a
uniform random start (Madry et al. 2018). The last column attacks with the model's own
predictions instead of the true labels (no label leaking), scored against the true labels. Training wall times were taken with other jobs
sharing the CPU.

{table}""")


if __name__ == "__main__":
    main()
