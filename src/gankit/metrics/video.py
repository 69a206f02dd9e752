"""Measures of a video generator: per-frame FID, identity consistency, motion.

- **Frame evaluator** (`FrameEvaluator`): a small CNN that says which digits appear in a
  32 x 32 frame (multi-label: one sigmoid per digit), trained on synthesised Moving MNIST
  frames by scripts/train_video_evaluator.py and shipped with its card. Frames of any size
  are turned grey and resized to 32 x 32 first (a 64 x 64 frame then shows the same 14-pixel
  digits as a 32 x 32 one: `gankit.data.video` keeps the literature's proportions).
- **Per-frame FID**: the Fréchet distance between the evaluator's penultimate features of
  every generated frame and every frame of as many real clips (moving-mnist synthesised from
  the held-out test digits), beside the same distance between two independent real sets
  (the floor a perfect generator would reach with this many clips).
- **Identity consistency**: the share of clips whose predicted digit set (digits with
  probability > 0.5) is the same, and not empty, in every frame. A digit that morphs into
  another, or fades out, fails it; real clips score near 100 % (a frame where two digits
  overlap can hide one).
- **Motion**: the mean distance, in pixels, the centre of mass of the ink moves from one
  frame to the next, beside the real clips' value. A static clip scores 0; flicker (ink
  jumping about) scores far above the real value.
"""

from __future__ import annotations

import dataclasses
import functools
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gankit import artifacts
from gankit.config import DataConfig
from gankit.data.base import to_unit_range
from gankit.errors import GankitError
from gankit.metrics import image
from gankit.metrics.registry import register_metric

SIDE = 32             # the frame evaluator's input side
N_DIGITS = 10
REAL_SEEDS = (1_000, 2_000)  # the two real clip sets: the reference, and the floor's second
MODEL = "gankit.metrics.video.FrameEvaluator"
FIX = "run scripts/train_video_evaluator.py (or reinstall gankit)"


class FrameEvaluator(nn.Module):
    """Which digits a frame shows: (B, 1, 32, 32) in [-1, 1] -> (B, 10) logits, one per digit.

    The first layer keeps the full 32 x 32 (a frame's digit is only 14 pixels), and each
    stride-2 layer is followed by one at its side; global features come from a 4 x 4 pool."""

    def __init__(self, channels: int = 32, feature_dim: int = 128):
        super().__init__()
        c = channels

        def conv(c_in, c_out, stride):
            return [nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out),
                    nn.ReLU(True)]

        self.body = nn.Sequential(  # one flat list: the shipped weights' names follow it
            *conv(1, c, 1),                             # (B, c, 32, 32)
            *conv(c, 2 * c, 2), *conv(2 * c, 2 * c, 1),  # (B, 2c, 16, 16)
            *conv(2 * c, 4 * c, 2), *conv(4 * c, 4 * c, 1),  # (B, 4c, 8, 8)
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),      # (B, 64c)
        )
        self.feature = nn.Sequential(nn.Linear(64 * c, feature_dim), nn.ReLU(True))  # (B, F)
        self.head = nn.Linear(feature_dim, N_DIGITS)    # (B, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def frames_of(clips: torch.Tensor) -> torch.Tensor:
    """(N, C, T, H, W) in [-1, 1] -> (N*T, 1, 32, 32): each frame, grey, at the evaluator's
    side."""
    n, c, t, h, w = clips.shape
    x = clips.transpose(1, 2).reshape(n * t, c, h, w).mean(1, keepdim=True)
    if h != SIDE or w != SIDE:
        x = F.interpolate(x, size=(SIDE, SIDE), mode="bilinear", antialias=True,
                          align_corners=False)
    return x.clamp(-1, 1)


def multi_hot(labels: torch.Tensor) -> torch.Tensor:
    """(N, digits) digit labels -> (N, 10) float targets: 1 for every digit in the clip."""
    return torch.zeros(len(labels), N_DIGITS).scatter_(1, labels, 1.0)


# ---- the shipped evaluator ------------------------------------------------------------

def _stem() -> Path:
    return Path(str(resources.files("gankit").joinpath("metrics", "weights",
                                                       "moving-mnist-frame-evaluator")))


@functools.lru_cache(maxsize=1)
def load_frame_evaluator() -> tuple[FrameEvaluator, dict]:
    """The shipped frame evaluator in eval mode, and its card."""
    state, card = artifacts.load(_stem(), kind="evaluator", fix=FIX)
    if card.get("model") != MODEL:
        raise GankitError(f"{_stem()}.json describes {card.get('model')!r}, not {MODEL}: {FIX}")
    net = FrameEvaluator(**card.get("kwargs", {}))
    return artifacts.load_into(net, state, f"{_stem()}.safetensors", FIX).eval(), card


@torch.no_grad()
def judge_frames(net: FrameEvaluator, clips: torch.Tensor, batch: int = 1000) -> dict:
    """Every frame through the evaluator: features (N*T, F) and digit probabilities (N, T, 10)."""
    n, t = clips.shape[0], clips.shape[2]
    feats, probs = [], []
    for x in frames_of(clips).split(batch):
        f = net.features(x)
        feats.append(f)
        probs.append(torch.sigmoid(net.head(f)))
    return {"features": torch.cat(feats), "probs": torch.cat(probs).view(n, t, N_DIGITS)}


# ---- the measures (plain functions of clips or probabilities) ----------------------------

def identity_consistency(probs: torch.Tensor, threshold: float = 0.5) -> float:
    """Share of clips (N, T, 10) whose predicted digit set is one non-empty set in all frames."""
    sets = probs > threshold                                          # (N, T, 10)
    same = (sets == sets[:, :1]).all(dim=2).all(dim=1)                 # (N,)
    return (same & sets[:, 0].any(dim=1)).float().mean().item()


def ink_centres(clips: torch.Tensor) -> torch.Tensor:
    """(N, C, T, H, W) in [-1, 1] -> centre of mass (N, T, 2) of the ink, in pixels (y, x);
    an inkless frame sits at the canvas centre."""
    ink = (clips.mean(1) + 1) / 2                                     # (N, T, H, W) in [0, 1]
    h, w = ink.shape[-2:]
    mass = ink.sum((2, 3))                                            # (N, T)
    ys = torch.arange(h, dtype=ink.dtype).view(1, 1, h, 1)
    xs = torch.arange(w, dtype=ink.dtype).view(1, 1, 1, w)
    safe = mass.clamp_min(1e-6)
    inked = mass > 1e-6
    cy = torch.where(inked, (ink * ys).sum((2, 3)) / safe, torch.full_like(mass, (h - 1) / 2))
    cx = torch.where(inked, (ink * xs).sum((2, 3)) / safe, torch.full_like(mass, (w - 1) / 2))
    return torch.stack([cy, cx], dim=2)


def motion(clips: torch.Tensor) -> float:
    """Mean frame-to-frame displacement of the ink's centre of mass, in pixels."""
    c = ink_centres(clips)                                            # (N, T, 2)
    return (c[:, 1:] - c[:, :-1]).norm(dim=2).mean().item()


# ---- registered metrics ------------------------------------------------------------------

def real_clips(data_cfg: dict, n: int, seed: int) -> torch.Tensor:
    """n real clips (N, C, T, H, W) in [-1, 1] like those the generator was trained on:
    moving-mnist from the held-out test digits (seeded), or the first n of a user's .npz."""
    cfg = dataclasses.replace(DataConfig.from_card(data_cfg), split="test", n_clips=n)
    data = cfg.load(seed=seed)
    if not data.is_video:
        raise GankitError(f"the generator's card names data {cfg.name!r}, not clips: "
                          "video metrics need data.name moving-mnist or video")
    return to_unit_range(data.videos[:n])


class ClipMeasures:
    """What the video metrics share, made once per `gankit.metrics.Inputs`."""

    def __init__(self, inp):
        self.inp = inp

    @functools.cached_property
    def real(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Two independent real sets of as many clips as were generated."""
        n = len(self.inp.fake)
        a, b = (real_clips(self.inp.data_cfg, n, s) for s in REAL_SEEDS)
        self.inp.provenance.update(real=f"{len(a)} clips ({self.inp.data_cfg.get('name')}, "
                                   f"held-out digits, seed {REAL_SEEDS[0]})")
        return a, b

    @functools.cached_property
    def judged(self) -> dict:
        """The frame evaluator's view of the fake and both real sets (digit clips only)."""
        name = self.inp.data_cfg.get("name")
        if name != "moving-mnist":
            raise GankitError(f"frame_fid and identity read digits with the Moving MNIST frame "
                              f"evaluator; this generator's data is {name!r}: use "
                              "--metrics motion")
        net, card = load_frame_evaluator()
        self.inp.provenance.update(extractor="gankit moving-mnist frame evaluator "
                                   "(penultimate layer)", extractor_sha256=card["weights_sha256"])
        real_a, real_b = self.real
        return {"fake": judge_frames(net, self.inp.fake), "real": judge_frames(net, real_a),
                "real_b": judge_frames(net, real_b)}


def measures(inp) -> ClipMeasures:
    if not hasattr(inp, "_clip_measures"):
        inp._clip_measures = ClipMeasures(inp)
    return inp._clip_measures


def _check_clips(inp) -> None:
    if inp.fake.dim() != 5:
        raise GankitError("video metrics measure video generators (clips); this one draws "
                          f"{tuple(inp.fake.shape[1:])} samples")


@register_metric("frame_fid", needs=("clips",), keys=("frame_fid", "frame_fid_real"),
                 default=("eval",),
                 rows=lambda v: [("per-frame FID", f"{v['frame_fid']:.4g} (real vs real: "
                                  f"{v['frame_fid_real']:.3g})")])
def _frame_fid(inp) -> dict:
    _check_clips(inp)
    j = measures(inp).judged
    return {"frame_fid": image.fid(j["real"]["features"], j["fake"]["features"]),
            "frame_fid_real": image.fid(j["real"]["features"], j["real_b"]["features"])}


@register_metric("identity", needs=("clips",), keys=("identity", "identity_real"),
                 default=("eval", "train"),
                 rows=lambda v: [("identity consistency", f"{100 * v['identity']:.1f} % "
                                  f"(real clips: {100 * v['identity_real']:.1f} %)")])
def _identity(inp) -> dict:
    _check_clips(inp)
    j = measures(inp).judged
    return {"identity": identity_consistency(j["fake"]["probs"]),
            "identity_real": identity_consistency(j["real"]["probs"])}


@register_metric("motion", needs=("clips",), keys=("motion", "motion_real"),
                 default=("eval", "train"),
                 rows=lambda v: [("motion (ink centre, px/frame)", f"{v['motion']:.3g} "
                                  f"(real clips: {v['motion_real']:.3g})")])
def _motion(inp) -> dict:
    _check_clips(inp)
    return {"motion": motion(inp.fake), "motion_real": motion(measures(inp).real[0])}
