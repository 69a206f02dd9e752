"""Training health: what D and G are doing, said in plain words.

Two kinds of signs, on two schedules:
- the step's statistics (D's loss and G's, D(x) and D(G(z)) with their spread, D's accuracy on
  real and on fake, the gradient norms that reached G and D), as the collector's means and
  standard deviations at every log interval (`observe`): a dead D (its output the same for
  every image, or no gradient reaching it), a dead G (no gradient reaching it, or the same
  sample for every z), D overpowering, G overpowering;
- the diversity of G's samples from one fixed noise batch, every `health.every` steps
  (`probe`): their mean pairwise distance as a share of the real data's, in the domain
  evaluator's feature space where one exists (else in pixels; points for the 2D toys), and
  how many classes (toys: modes) they cover, against what the same number of real images
  cover. The evaluator's diversity sees each image with its background (the mean of its
  border) taken as black, so varied digits on a uniform grey background are read as digits,
  not as one grey class; coverage is the most classes of three readings (as drawn, background
  to black, outer frame blacked). Mode collapse is a fall from the run's own best, or a run
  that never reached the real data's variety (stuck from the start, or a frozen G).

A root cause hides its consequences: a dead D leaves G without gradient (so no dead G, and
no collapse, is called beside it); a dead G is beaten by any D (so no D overpowering, and no
collapse).

A diagnosis is made when its sign holds for `health.patience` observations (or probes) in a
row; it is written to the progress display, to `health.jsonl` and (from there) to the report,
once, until it clears. Divergence (a non-finite loss or gradient) is not diagnosed here but
handled by the training loop (`loop.py`), which restores the last good checkpoint;
`record_restore` writes it down.

    monitor = HealthMonitor(cfg, data, run_dir, device)
    for d in monitor.observe(step, means, stds): print(d)   # every log interval
    for d in monitor.probe(step, G): print(d)         # every health.every steps
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gankit.generator import Generator
from gankit.losses import OBJECTIVES
from gankit.metrics import to_evaluator_input
from gankit.metrics.evaluator import EVALUATORS, featurize, load_evaluator
from gankit.metrics.image import class_coverage
from gankit.rundir import HEALTH as HEALTH_FILE
from gankit.rundir import append_jsonl, read_jsonl
# D's output is a probability (sigmoid of its logit) only for these D losses; the D(x)- and
# accuracy-based diagnoses are skipped for the others (a WGAN critic's sign means nothing).
PROBABILISTIC_D_LOSSES = {name for name, o in OBJECTIVES.items() if o.score is torch.sigmoid}

TITLES = {
    "dead_d": "dead discriminator",
    "dead_g": "dead generator",
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


# No gradient: a norm at or below this (a detached or zeroed path gives exactly 0). Constant
# output: a spread of D's scores, or a diversity of G's samples, at or below these.
NO_GRADIENT = 1e-12
FLAT_SCORES = 1e-4
SAME_SAMPLES = 1e-3


def frame_mask(x: torch.Tensor, border: int) -> torch.Tensor:
    """(H, W) bool for images x (N, C, H, W): True on the outer `border` pixels."""
    frame = torch.ones(x.shape[-2:], dtype=torch.bool, device=x.device)
    frame[border:-border, border:-border] = False
    return frame


def background_to_black(x: torch.Tensor, border: int = 2) -> torch.Tensor:
    """Images (N, C, H, W) in [-1, 1] with each one's background (the mean of its `border`
    pixels wide frame) moved to -1 and its contrast stretched to fill [-1, 1], at most twice
    (so an image of faint noise stays faint): what the evaluator, trained on black
    backgrounds, should see of digits on any uniform background."""
    flat = x.flatten(2)                                                     # (N, C, HW)
    bg = x[:, :, frame_mask(x, border)].mean(2, keepdim=True)               # (N, C, 1)
    far = (flat - bg).abs().amax(2, keepdim=True)                          # (N, C, 1)
    gain = (2 / far.clamp_min(1e-6)).clamp(max=2.0)
    return (-1 + (flat - bg).abs() * gain).clamp(-1, 1).view_as(x)


def frame_to_black(x: torch.Tensor, border: int = 3) -> torch.Tensor:
    """Images (N, C, H, W) in [-1, 1] with their outer `border` pixels set to -1 (black)."""
    return x.masked_fill(frame_mask(x, border), -1.0)


def mean_pairwise_distance(x: torch.Tensor) -> float:
    """(N, ...) -> mean L2 distance over the N(N-1)/2 pairs."""
    return float(torch.pdist(x.flatten(1).double()).mean())


class DiversityProbe:
    """Diversity and coverage of G's samples from one fixed noise batch, against real data."""

    def __init__(self, data, n: int, z: torch.Tensor):
        self.z = z                                       # (n, z_dim), on the training device
        idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:n]
        self.centres = data.centres if data.is_points else None
        self.net = None
        if data.is_points:                               # a 2D toy mixture
            self.kind, real = "points", data.points[idx]
        elif data.name in EVALUATORS:
            self.kind, self.net, real = "evaluator", load_evaluator(data.name), data.images[idx]
        elif hasattr(data, "dataset"):                   # a folder streamed from disk
            self.kind, real = "pixels", torch.stack([data.dataset[int(i)] for i in idx])
        else:
            self.kind, real = "pixels", data.images[idx]
        features, self.real_coverage = self._features(real.cpu())
        self.real_diversity = mean_pairwise_distance(features)

    def _features(self, x: torch.Tensor) -> tuple[torch.Tensor, int | None]:
        """Samples -> (features in the probe's space, classes or modes covered, or None).

        Covered: classes (the evaluator's argmax; toys: the nearest mode) given at least 1 % of
        the samples, as in `gankit eval`'s class coverage. For toys this is looser than the
        eval's 3-sigma mode metric on purpose: on a batch of ~100 points that one is mostly
        noise early in training, and the question here is only whether G spreads or collapses.
        """
        if self.kind == "points":
            return x, class_coverage(-torch.cdist(x, self.centres))["covered"]
        if self.kind == "pixels":
            return x, None
        features, logits = featurize(self.net, to_evaluator_input(background_to_black(x)))
        # Coverage: the most classes any of three readings finds, so that a background the
        # evaluator never saw is not read as one class: the images as drawn, the background
        # moved to black (digits on a uniform grey), and the outer 3 pixels blacked (digits
        # inside a noisy grey frame: wgan-gp-mnist-course-exact at 1,500 steps read 1 class
        # against the black background, 9 with the frame blacked, where the eye sees varied
        # digits). A collapsed G reads few classes in all three.
        views = [logits] + [featurize(self.net, to_evaluator_input(v))[1]
                            for v in (x, frame_to_black(x))]
        return features, max(class_coverage(v)["covered"] for v in views)

    @torch.no_grad()
    def measure(self, G: torch.nn.Module) -> dict:
        g = Generator(G, {})  # a conditional G: balanced classes, fixed like z
        x = g.render(self.z, g.labels(len(self.z)))
        features, covered = self._features(x)
        out = {"diversity": mean_pairwise_distance(features) / max(self.real_diversity, 1e-12),
               "centre": features.double().mean(0) / max(self.real_diversity, 1e-12)}
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
            self.probe_ = DiversityProbe(data, self.h.n, z)
        self.probabilistic = cfg.loss.d_loss in PROBABILISTIC_D_LOSSES
        self.observed: list[dict] = []                  # the loop's means, per log interval
        self.history: list[dict] = []                   # one record per probe (health.jsonl)
        self.streak = dict.fromkeys(TITLES, 0)
        self.active: set[str] = set()
        self.same_samples = False                       # the last probe: G's output frozen
        self.centre = None                              # the last probe's mean feature

    def observe(self, step: int, means: dict, stds: dict | None = None) -> list[Diagnosis]:
        """The collector's means (and standard deviations) at a log interval -> new diagnoses."""
        rec = {"step": step, **means, **{f"{k}_std": v for k, v in (stds or {}).items()}}
        rec.update(self._trends(rec))
        self.observed.append(rec)
        return self._judge(step, self._stat_signs(rec),
                           ("dead_d", "dead_g", "d_overpowering", "g_overpowering"))

    def probe(self, step: int, G: torch.nn.Module) -> list[Diagnosis]:
        """Measure G's samples; write the check's record to health.jsonl; new diagnoses."""
        latest = {k: v for k, v in (self.observed[-1] if self.observed else {}).items()
                  if k != "step" and not k.endswith("_std")}
        rec = {"step": step, **latest, **self.probe_.measure(G)}
        centre, self.centre = self.centre, rec.pop("centre")
        self.history.append(rec)
        # One sample for every z that has not moved since the last probe: G's output is frozen
        # (a collapsed G that still learns moves its few samples around).
        self.same_samples = (rec["diversity"] <= SAME_SAMPLES and centre is not None
                             and float((self.centre - centre).norm()) <= SAME_SAMPLES)
        dead = self.same_samples or self.active & {"dead_d", "dead_g"}
        new = self._judge(step, {} if dead else self._collapse_signs(rec), ("mode_collapse",))
        rec["active"] = sorted(self.active)
        self._write({k: (round(v, 6) if isinstance(v, float) else v) for k, v in rec.items()})
        return new

    def _judge(self, step: int, signs: dict, codes: tuple[str, ...]) -> list[Diagnosis]:
        """Count each sign's streak; a diagnosis once it has held `patience` times in a row."""
        new = []
        for code in codes:
            self.streak[code] = self.streak[code] + 1 if code in signs else 0
            if self.streak[code] >= self.h.patience and code not in self.active:
                self.active.add(code)
                new.append(Diagnosis(code, step, *signs[code]))
            elif code not in signs:
                self.active.discard(code)
        for d in new:
            self._write({"step": step, "diagnosis": d.code, "title": d.title,
                         "message": d.message, "advice": d.advice})
        return new

    # -- the signs ----------------------------------------------------------------------------
    def _trends(self, rec: dict) -> dict:
        """Loss slopes per 1,000 steps over the last few checks (least squares)."""
        recent = (self.observed + [rec])[-max(self.h.patience, 4):]
        if len(recent) < 3:
            return {}
        steps = np.array([r["step"] for r in recent], dtype=float) / 1000
        return {f"{k}_trend": float(np.polyfit(steps, [r[k] for r in recent], 1)[0])
                for k in ("d_loss", "g_loss")}

    def _stat_signs(self, r: dict) -> dict[str, tuple[str, str]]:
        """code -> (message, advice) for each sign present in these running means."""
        signs = {}
        loss = self.cfg.loss
        dead_d = self._dead_d(r)
        if dead_d:
            signs["dead_d"] = (
                f"{dead_d}. A D whose verdict does not depend on the image gives G nothing to "
                "learn from.",
                "Look at D's last layers (a layer initialised or clipped to zero, ReLUs that all "
                "died, an output detached from the graph); if it died during training, restart "
                f"from an earlier checkpoint with a lower optim.lr_d (now {self.cfg.optim.lr_d:g}).")
            return signs  # G's missing gradient and D's missing verdict follow from it
        if r["g_grad"] <= NO_GRADIENT or self.same_samples:
            what = ([f"no gradient reaches G (‖∇G‖ {r['g_grad']:.2g})"]
                    if r["g_grad"] <= NO_GRADIENT else []) + (
                ["G draws the same sample for every z, and it has not moved since the last check "
                 f"(diversity of the fixed batch {self.history[-1]['diversity']:.2g} of the real "
                 "data's)"]
                if self.same_samples else [])
            signs["dead_g"] = (
                "; ".join(what)[0].upper() + "; ".join(what)[1:] + ". G is not training.",
                "Look at G's last layers (a layer initialised to zero, a saturated Tanh, an output "
                "detached from the graph, a frozen parameter); if it died during training, "
                f"restart from an earlier checkpoint with a lower optim.lr_g (now "
                f"{self.cfg.optim.lr_g:g}).")
        # D calls nearly every fake fake: a mean D(G(z)) under the floor; or, for the
        # non-saturating loss, G's loss E[-log D(G(z))] above -log(floor): the mean score
        # can sit a hair above the floor on a few fakes while most are rejected outright.
        nonsat = loss.d_loss == "bce" and loss.g_loss in ("", "non-saturating")
        floor = self.h.d_fake_floor
        rejected = r["d_fake"] < floor or (nonsat and r["g_loss"] > -np.log(floor))
        if self.probabilistic and rejected and r["d_acc_fake"] > 0.95 and "dead_g" not in signs:
            top = max(h["g_grad"] for h in self.observed)
            vanished = r["g_grad"] < 0.1 * top
            grad = (f"G's gradient has vanished to {r['g_grad']:.2g} (it was {top:.2g})"
                    if vanished else f"G's gradient norm is {r['g_grad']:.2g}")
            trend = (f", and G's loss is rising ({r['g_loss_trend']:+.3g} per 1,000 steps)"
                     if r.get("g_loss_trend", 0) > 0 else "")
            saturating = loss.g_loss == "minimax"
            signs["d_overpowering"] = (
                f"D calls almost every fake fake: mean D(G(z)) {r['d_fake']:.3f}, D right on "
                f"{r['d_acc_fake']:.0%} of fakes, G's loss {r['g_loss']:.3g}; {grad}{trend}. A verdict of '100 % fake' "
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
        return signs

    def _dead_d(self, r: dict) -> str:
        """What shows D is dead ('' when nothing does): no gradient reaches it, or its scores
        are the same for every real and fake image of the interval."""
        if r["d_grad"] <= NO_GRADIENT:
            return f"No gradient reaches D (‖∇D‖ {r['d_grad']:.2g})"
        spread = max(r.get("d_real_std", np.inf), r.get("d_fake_std", np.inf))
        scale = 1 + abs(r["d_real"])
        if spread <= FLAT_SCORES * scale and abs(r["d_real"] - r["d_fake"]) <= FLAT_SCORES * scale:
            return (f"D's output is the same for every image: D(x) {r['d_real']:.4g} ± "
                    f"{r['d_real_std']:.2g}, D(G(z)) {r['d_fake']:.4g} ± {r['d_fake_std']:.2g}")
        return ""

    def _collapse_signs(self, r: dict) -> dict[str, tuple[str, str]]:
        """Mode collapse: a fall from the run's best, or far below the real data's variety."""
        signs, probe = {}, self.probe_
        best = max(self.history, key=lambda h: h["diversity"])
        # Early samples are noise, more varied than any data: a fall from there while G comes
        # to cover more classes is learning, not collapse. So a diversity drop counts only
        # when coverage (where measured) has not grown since the most diverse check.
        drop = [f"diversity {r['diversity']:.2f} of the real data's, down from "
                f"{best['diversity']:.2f}"] if (
            r["diversity"] < self.h.collapse_drop * best["diversity"]
            and r.get("coverage", 0) <= best.get("coverage", 0)) else []
        unit = "modes" if probe.kind == "points" else "classes"
        if "coverage" in r:
            most = max(h["coverage"] for h in self.history)
            # From 1 or 2 classes, one fewer is noise, not a collapse; and before health.grace
            # the samples are noise whose classes (read against a black background) come and go.
            if (most >= 3 and r["coverage"] <= self.h.collapse_drop * most
                    and r["step"] >= self.h.grace):
                drop.append(f"{r['coverage']} {unit} covered, down from {most}")
        # Against the real data: a run stuck from the start has no better past to fall from.
        # Stuck means not learning. A slow start whose diversity still climbs towards the real
        # data's is left alone (the course DCGAN draws varied digits on a grey background for
        # its first thousand steps, and the evaluator calls nearly all of them one class); and
        # few classes among samples about as varied as real ones is noise not yet shaped into
        # digits, not a collapse.
        # Climbing: up by health.progress from the lowest of the previous few checks (a slow
        # climb need not rise that much at every single check).
        before = [h["diversity"] for h in self.history[-1 - max(self.h.patience, 3):-1]]
        climbing = bool(before) and r["diversity"] - min(before) >= self.h.progress
        low = []
        if r["step"] >= self.h.grace and not climbing:
            if ("coverage" in r and r["coverage"] < self.h.min_coverage * probe.real_coverage
                    and r["diversity"] < self.h.varied):
                low.append(f"{r['coverage']} {unit} covered where {len(probe.z)} real images "
                           f"cover {probe.real_coverage}")
            if r["diversity"] < self.h.min_diversity:
                low.append(f"diversity {r['diversity']:.2f} of the real data's")
        if drop or low:
            what = ("have become much less varied: " + "; ".join(drop + low) if drop else
                    "are far less varied than the real data: " + "; ".join(low))
            signs["mode_collapse"] = (
                f"G's samples from a fixed noise batch {what}. G is mapping many z to few "
                "outputs that D does not reject.",
                "Add an R1 penalty (loss.r1_gamma) or an EMA of G (train.ema_decay=0.999); "
                "lower the learning rates; more D steps (train.d_steps) can also help.")
        return signs

    def _write(self, record: dict) -> None:
        append_jsonl(self.file, record)


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
    append_jsonl(Path(run_dir) / HEALTH_FILE,
            {"step": step, "diagnosis": d.code, "title": d.title, "message": d.message,
             "advice": d.advice, "restored_to": to_step, "lr_g": lrs[0], "lr_d": lrs[1]})
    return d


def read_health(run_dir: Path) -> tuple[list[dict], list[dict]]:
    """health.jsonl -> (check records, diagnosis records); empty lists where there is none."""
    rows = read_jsonl(Path(run_dir) / HEALTH_FILE)
    return ([r for r in rows if "diagnosis" not in r], [r for r in rows if "diagnosis" in r])


__all__ = ["Diagnosis", "DiversityProbe", "HealthMonitor", "HEALTH_FILE", "TITLES", "read_health",
           "record_restore"]
