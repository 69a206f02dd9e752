"""Training health: what D and G are doing, read every `health.every` steps, said in plain words.

The trainer returns, every step, D's loss and G's, mean D(x) and D(G(z)), D's accuracy on real
and on fake and the gradient norms that reached G and D. The monitor averages them over each
interval (on the device: no sync until a check) and, at a check, adds the diversity of G's
samples from one fixed noise batch: their mean pairwise distance as a share of the real data's,
in the domain evaluator's feature space where one exists (else in pixels; points for the 2D
toys), and how many classes (toys: modes) they cover.

A diagnosis is made when its sign holds for `health.patience` checks in a row; it is written
to the progress display, to `health.jsonl` and (from there) to the report, once, until it
clears. Divergence (a non-finite loss or gradient) is not diagnosed here but handled by the
training loop (`run.py`), which restores the last good checkpoint; `record_restore`
writes it down.

    monitor = HealthMonitor(cfg, data, run_dir, device)
    monitor.update(stats)                       # every step
    for d in monitor.check(step, G): print(d)   # every health.every steps
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gankit.errors import GankitError
from gankit.losses import OBJECTIVES
from gankit.train.trainer import STAT_NAMES

HEALTH_FILE = "health.jsonl"
# D's output is a probability (sigmoid of its logit) only for these D losses; the D(x)- and
# accuracy-based diagnoses are skipped for the others (a WGAN critic's sign means nothing).
PROBABILISTIC_D_LOSSES = {name for name, o in OBJECTIVES.items() if o.score is torch.sigmoid}

TITLES = {
    "d_overpowering": "discriminator overpowering",
    "g_overpowering": "generator overpowering (D is not learning)",
    "mode_collapse": "mode collapse",
    "divergence": "divergence",
}


@dataclass
class Diagnosis:
    code: str       # a key of TITLES
    step: int
    message: str    # what was seen, with the numbers
    advice: str     # what to try

    @property
    def title(self) -> str:
        return TITLES[self.code]

    def __str__(self) -> str:
        return f"health, step {self.step}: {self.title}. {self.message} {self.advice}"


def mean_pairwise_distance(x: torch.Tensor) -> float:
    """(N, ...) -> mean L2 distance over the N(N-1)/2 pairs."""
    return float(torch.pdist(x.flatten(1).double()).mean())


class DiversityProbe:
    """Diversity and coverage of G's samples from one fixed noise batch, against real data."""

    def __init__(self, data, n: int, z: torch.Tensor):
        from gankit.metrics.evaluator import EVALUATORS
        self.z = z                                       # (n, z_dim), on the training device
        idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:n]
        self.centres = getattr(data, "centres", None)
        self.net = None
        if self.centres is not None:                     # a 2D toy mixture
            self.kind, real = "points", data.points[idx]
        elif data.name in EVALUATORS:
            from gankit.metrics.evaluator import load_evaluator
            self.kind, self.net, real = "evaluator", load_evaluator(data.name), data.images[idx]
        elif hasattr(data, "dataset"):                   # a folder streamed from disk
            self.kind, real = "pixels", torch.stack([data.dataset[int(i)] for i in idx])
        else:
            self.kind, real = "pixels", data.images[idx]
        self.real_diversity = mean_pairwise_distance(self._features(real.cpu())[0])

    def _features(self, x: torch.Tensor) -> tuple[torch.Tensor, int | None]:
        """Samples -> (features in the probe's space, classes or modes covered, or None).

        Covered: classes (the evaluator's argmax; toys: the nearest mode) given at least 1 % of
        the samples, as in `gankit eval`'s class coverage. For toys this is looser than the
        eval's 3-sigma mode metric on purpose: on a batch of ~100 points that one is mostly
        noise early in training, and the question here is only whether G spreads or collapses.
        """
        from gankit.metrics.image import class_coverage
        if self.kind == "points":
            return x, class_coverage(-torch.cdist(x, self.centres))["covered"]
        if self.kind == "pixels":
            return x, None
        from gankit.metrics import to_evaluator_input
        from gankit.metrics.evaluator import featurize
        features, logits = featurize(self.net, to_evaluator_input(x))
        return features, class_coverage(logits)["covered"]

    @torch.no_grad()
    def measure(self, G: torch.nn.Module) -> dict:
        from gankit.sample import default_labels
        k = getattr(G, "n_classes", 0)  # a conditional G: balanced classes, fixed like z
        y = default_labels(len(self.z), k).to(self.z.device) if k else None
        G.eval()
        try:
            x = G(self.z, y).cpu()
        finally:
            G.train()
        features, covered = self._features(x)
        out = {"diversity": mean_pairwise_distance(features) / max(self.real_diversity, 1e-12)}
        if covered is not None:
            out["coverage"] = covered
        return out


class HealthMonitor:
    def __init__(self, cfg, data, run_dir: Path, device: torch.device):
        self.cfg, self.h, self.file = cfg, cfg.health, Path(run_dir) / HEALTH_FILE
        z = torch.randn(self.h.n, cfg.model.z_dim,
                        generator=torch.Generator().manual_seed(cfg.train.seed + 1)).to(device)
        # Building the evaluator initialises layers from the global RNG: keep the training
        # stream untouched, so that a resumed run stays bit-identical.
        with torch.random.fork_rng(devices=[]):
            self.probe = DiversityProbe(data, self.h.n, z)
        self.probabilistic = cfg.loss.d_loss in PROBABILISTIC_D_LOSSES
        self.sum, self.count = torch.zeros(len(STAT_NAMES), device=device), 0
        self.history: list[dict] = []                   # one record per check
        self.streak = dict.fromkeys(TITLES, 0)
        self.active: set[str] = set()

    def update(self, stats: torch.Tensor) -> None:
        self.sum += stats
        self.count += 1

    def reset_window(self) -> None:
        self.sum.zero_()
        self.count = 0

    # -- a check ----------------------------------------------------------------------------
    def check(self, step: int, G: torch.nn.Module) -> list[Diagnosis]:
        """Close the interval: write its record to health.jsonl, return the new diagnoses."""
        means = (self.sum / max(self.count, 1)).tolist()
        rec = {"step": step, **{k: v for k, v in zip(STAT_NAMES, means)}, **self.probe.measure(G)}
        self.reset_window()
        rec.update(self._trends(rec))
        self.history.append(rec)
        signs = self._signs(rec)
        new = []
        for code in ("d_overpowering", "g_overpowering", "mode_collapse"):
            self.streak[code] = self.streak[code] + 1 if code in signs else 0
            if self.streak[code] >= self.h.patience and code not in self.active:
                self.active.add(code)
                new.append(Diagnosis(code, step, *signs[code]))
            elif code not in signs:
                self.active.discard(code)
        rec["active"] = sorted(self.active)
        self._write({k: (round(v, 6) if isinstance(v, float) else v) for k, v in rec.items()})
        for d in new:
            self._write({"step": step, "diagnosis": d.code, "title": d.title,
                         "message": d.message, "advice": d.advice})
        return new

    # -- the signs ----------------------------------------------------------------------------
    def _trends(self, rec: dict) -> dict:
        """Loss slopes per 1,000 steps over the last few checks (least squares)."""
        recent = (self.history + [rec])[-max(self.h.patience, 4):]
        if len(recent) < 3:
            return {}
        steps = np.array([r["step"] for r in recent], dtype=float) / 1000
        return {f"{k}_trend": float(np.polyfit(steps, [r[k] for r in recent], 1)[0])
                for k in ("d_loss", "g_loss")}

    def _signs(self, r: dict) -> dict[str, tuple[str, str]]:
        """code -> (message, advice) for each sign present in this check's record."""
        signs = {}
        loss = self.cfg.loss
        if self.probabilistic and r["d_fake"] < self.h.d_fake_floor and r["d_acc_fake"] > 0.95:
            top = max(h["g_grad"] for h in self.history)
            vanished = r["g_grad"] < 0.1 * top
            grad = (f"G's gradient has vanished to {r['g_grad']:.2g} (it was {top:.2g})"
                    if vanished else f"G's gradient norm is {r['g_grad']:.2g}")
            trend = (f", and G's loss is rising ({r['g_loss_trend']:+.3g} per 1,000 steps)"
                     if r.get("g_loss_trend", 0) > 0 else "")
            saturating = loss.g_loss == "minimax"
            signs["d_overpowering"] = (
                f"D calls almost every fake fake: mean D(G(z)) {r['d_fake']:.3f}, D right on "
                f"{r['d_acc_fake']:.0%} of fakes; {grad}{trend}. A verdict of '100 % fake' "
                "tells G nothing about which way to improve"
                + (", and the saturating (minimax) G loss, log(1 - D(G(z))), gives G almost "
                   "no gradient exactly then." if saturating else "."),
                ("Use loss.g_loss=non-saturating; " if saturating else "")
                + f"lower D's learning rate (optim.lr_d, now {self.cfg.optim.lr_d:g}) or "
                "train D less often; add one-sided label smoothing (loss.label_smoothing=0.1); "
                "or give G more capacity (model.g_hidden).")
        gap = r["d_real"] - r["d_fake"]
        if self.probabilistic and gap <= self.h.d_gap:
            acc = (r["d_acc_real"] + r["d_acc_fake"]) / 2
            signs["g_overpowering"] = (
                f"D is not learning: it rates fakes {'as real as' if gap >= 0 else 'more real than'}"
                f" real data (mean D(x) {r['d_real']:.2f}, D(G(z)) {r['d_fake']:.2f}; right on "
                f"{acc:.0%} of examples; D's loss {r['d_loss']:.3f}). A judge that cannot tell "
                "them apart gives G no useful feedback.",
                f"Raise D's learning rate (optim.lr_d, now {self.cfg.optim.lr_d:g}) or train "
                "it more often (train.d_steps); give D more capacity (model.d_hidden); check "
                "that the real data looks as expected.")
        best = max(self.history, key=lambda h: h["diversity"])
        # Early samples are noise, more varied than any data: a fall from there while G comes
        # to cover more classes is learning, not collapse. So a diversity drop counts only
        # when coverage (where measured) has not grown since the most diverse check.
        drop = [f"diversity {r['diversity']:.2f} of the real data's, down from "
                f"{best['diversity']:.2f}"] if (
            r["diversity"] < self.h.collapse_drop * best["diversity"]
            and r.get("coverage", 0) <= best.get("coverage", 0)) else []
        if "coverage" in r:
            most = max(h["coverage"] for h in self.history)
            # From 1 or 2 classes, one fewer is noise, not a collapse.
            if most >= 3 and r["coverage"] <= self.h.collapse_drop * most:
                unit = "modes" if self.probe.kind == "points" else "classes"
                drop.append(f"{r['coverage']} {unit} covered, down from {most}")
        if drop:
            signs["mode_collapse"] = (
                f"G's samples from a fixed noise batch have become much less varied: "
                f"{'; '.join(drop)}. G is mapping many z to few outputs that D does not yet "
                "reject.",
                "Add an R1 penalty (loss.r1_gamma) or an EMA of G (train.ema_decay=0.999); "
                "lower the learning rates; more D steps (train.d_steps) can also help.")
        return signs

    def _write(self, record: dict) -> None:
        _append(self.file, record)


def _append(path: Path, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def record_restore(run_dir: Path, step: int, to_step: int, attempt: int, max_restarts: int,
                   lrs: tuple[float, float], what: str) -> Diagnosis:
    """Write the restore the training loop made after a divergence; returns what to print."""
    where = f"the checkpoint of step {to_step}" if to_step else "fresh initial weights"
    d = Diagnosis("divergence", step,
                  f"Training diverged ({what}). Restored {where} automatically (restore "
                  f"{attempt} of at most {max_restarts}) and continued with learning rates "
                  f"G {lrs[0]:.3g}, D {lrs[1]:.3g} and a new random stream. No checkpoint was "
                  "written from the diverged state; the logs keep both attempts' lines.",
                  "If it keeps diverging: lower optim.lr_d and optim.lr_g, use "
                  "loss.g_loss=non-saturating, or add an R1 penalty (loss.r1_gamma).")
    _append(Path(run_dir) / HEALTH_FILE,
            {"step": step, "diagnosis": d.code, "title": d.title, "message": d.message,
             "advice": d.advice, "restored_to": to_step, "lr_g": lrs[0], "lr_d": lrs[1]})
    return d


def read_health(run_dir: Path) -> tuple[list[dict], list[dict]]:
    """health.jsonl -> (check records, diagnosis records); empty lists where there is none."""
    path = Path(run_dir) / HEALTH_FILE
    checks, diagnoses = [], []
    if path.is_file():
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                raise GankitError(f"{path} is corrupt (line {n} is not JSON): remove that line "
                                  "or the file to write the report without it") from None
            (diagnoses if "diagnosis" in rec else checks).append(rec)
    return checks, diagnoses


__all__ = ["Diagnosis", "DiversityProbe", "HealthMonitor", "HEALTH_FILE", "TITLES", "read_health",
           "record_restore"]
