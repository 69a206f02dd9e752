"""TGAN (Saito et al. 2017, "Temporal Generative Adversarial Nets"): a video GAN.

G has two parts. The temporal generator turns one noise vector z into T latent frame
vectors z_t with 1D transposed convolutions over time; the image generator draws frame t
from (z, z_t), the same network for every frame. z is meant to carry what stays (which
digit) and z_t what changes (where it is), but nothing forces that split: a G can let z_t
change the digit too, which `gankit.metrics.video`'s identity consistency catches. D judges
the whole clip with 3D convolutions (and, optionally, each frame alone).

G's motion is TGAN's by default (model.motion=frames): every frame drawn anew from (z, z_t).
model.motion=warp draws the clip's content once, from z alone, and moves it: frame t is that
image translated by an offset computed from z_t, sampled bilinearly (a spatial transformer,
Jaderberg et al. 2015; predicting a transformation per frame instead of its pixels is the
transformation-based video model of van Amersfoort et al. 2017). What the content shows then
cannot change from frame to frame, only where it is: the right prior for Moving MNIST's rigid
digits, and a wrong one for clips whose content deforms.

model.motion=bounce moves the content in a straight line at a speed and direction read from z,
folded at the walls (`fold`): Moving MNIST's own physics, with its start, speed and direction
learned. Warp's per-frame steps, with a frozen content, collapsed to one jerky path for every
clip on this CPU (docs/benchmarks.md).

With warp or bounce motion, model.content=NAME takes the content from a shipped image generator
(`gankit pretrained`) instead of training one: its image, resized to model.content_side pixels
and centred on a black frame, is what the clip moves, and its weights stay frozen, so only the
motion is learned (MoCoGAN-HD, Tian et al. 2021: a good image generator is what a video
generator needs; they too keep it fixed and learn a motion generator in its latent space).
model.whole_pixels rounds each offset to whole pixels, as Moving MNIST's synthesis places its
digits: a fractional offset blurs the content, which D sees at once in clips that never blur.

Clips are (B, C, T, H, W) in [-1, 1]: torch's Conv3d layout. T and the frame side must be
powers of two (T >= 4, side >= 8), since every layer doubles or halves them.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import GankitError


MOTIONS = ("frames", "warp", "bounce")


def _power_of_two(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


def check_clip_shape(shape: tuple) -> None:
    """One line naming what a TGAN cannot make about a (C, T, H, W) clip shape."""
    if len(shape) != 4:
        raise GankitError("model.name 'tgan' needs video data (C, T, H, W): set "
                          "data.name=moving-mnist (or data.name=video with an .npz of clips)")
    c, t, h, w = shape
    if h != w or not _power_of_two(h) or h < 8 or not _power_of_two(t) or t < 4:
        raise GankitError(f"model.name 'tgan' makes square frames whose side is a power of two "
                          f">= 8, and a power-of-two number of frames >= 4; the data is {t} "
                          f"frames of {h}x{w}: set data.image_size (e.g. 32 or 64) and "
                          "data.frames (e.g. 16)")


class TemporalGenerator(nn.Module):
    """z (B, Z) -> latent frame vectors z_t (B, T, Zt): 1D transposed convolutions over time."""

    def __init__(self, z_dim: int, frames: int, hidden: int, t_dim: int):
        super().__init__()
        c = hidden * 4
        layers = [nn.ConvTranspose1d(z_dim, c, 4, 1, 0, bias=False),  # (B, 4h, 4)
                  nn.BatchNorm1d(c), nn.ReLU(True)]
        for _ in range(int(math.log2(frames)) - 2):                    # (B, c', 2t) each
            layers += [nn.ConvTranspose1d(c, c // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm1d(c // 2), nn.ReLU(True)]
            c //= 2
        layers += [nn.Conv1d(c, t_dim, 3, 1, 1), nn.Tanh()]           # (B, Zt, T)
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.unsqueeze(-1)).transpose(1, 2)               # (B, T, Zt)


class ImageGenerator(nn.Module):
    """(z, z_t) (N, Z + Zt) -> a frame (N, C, S, S): a DCGAN generator of transposed
    convolutions (as TGAN's; on a CPU they run 3-4x faster than resize + 3x3 convolutions)."""

    def __init__(self, in_dim: int, size: int, channels: int, hidden: int):
        super().__init__()
        n_up = int(math.log2(size)) - 2
        c = hidden * 2 ** (n_up - 1)
        self.stem = nn.Sequential(nn.Linear(in_dim, c * 16, bias=False),  # (N, c*4*4)
                                  nn.BatchNorm1d(c * 16), nn.ReLU(True))
        self.c0 = c
        layers = []
        for _ in range(n_up - 1):                                      # (N, c/2, 2s, 2s) each
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]  # (N, C, S, S)
        self.net = nn.Sequential(*layers)

    def forward(self, zz: torch.Tensor) -> torch.Tensor:
        x = self.stem(zz).view(len(zz), self.c0, 4, 4)                 # (N, c, 4, 4)
        return self.net(x)


def translate(content: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """content (B, C, H, W) moved by shift (B, T, 2) -> clips (B, C, T, H, W).

    shift is (x, y) in units of half the side (affine_grid's), so 1 moves the content half a
    frame right or down; what moves in from outside the frame is black (-1)."""
    b, t = shift.shape[:2]
    _, c, h, w = content.shape
    eye = torch.eye(2, dtype=shift.dtype, device=shift.device).expand(b * t, 2, 2)
    # affine_grid maps output coordinates to where they read from: moving by +s reads from -s.
    theta = torch.cat([eye, -shift.reshape(b * t, 2, 1)], dim=2)       # (B*T, 2, 3)
    grid = F.affine_grid(theta, [b * t, c, h, w], align_corners=False)  # (B*T, H, W, 2)
    # Sampled as content + 1, so the zeros grid_sample pads with come out black.
    src = (content + 1).unsqueeze(1).expand(b, t, c, h, w).reshape(b * t, c, h, w)
    frames = F.grid_sample(src, grid, padding_mode="zeros", align_corners=False) - 1
    return frames.view(b, t, c, h, w).transpose(1, 2)                  # (B, C, T, H, W)


def fold(u: torch.Tensor, reach: float) -> torch.Tensor:
    """u folded into [-reach, reach] as a ball bounces off two walls: the identity between them,
    mirrored beyond (a triangle wave). Unlike tanh it never saturates: an offset pushed past a
    wall comes back with a full gradient, where tanh's would vanish and leave the content stuck
    at the edge (or, with reach 1, off the frame)."""
    x = (u / reach + 1).remainder(4)                                   # in [0, 4)
    return reach * (1 - (x - 2).abs())


def centre(x: torch.Tensor, side: int, size: int) -> torch.Tensor:
    """Images (B, C, h, w) in [-1, 1] resized to side x side and centred on a black size x size
    frame: (B, C, size, size). Resized with antialiasing, as the data's digits are
    (gankit.data.video.digit_bank)."""
    if x.shape[-1] != side:
        x = F.interpolate(x, size=(side, side), mode="bilinear", antialias=True,
                          align_corners=False)                         # (B, C, side, side)
    a = (size - side) // 2
    b = size - side - a
    return F.pad(x, (a, b, a, b), value=-1.0)                          # (B, C, size, size)


class PretrainedContent(nn.Module):
    """z (B, Z) -> a frame (B, C, S, S): a shipped image generator's image of z, resized to
    `side` and centred on a black S x S frame. Its weights are frozen and it always runs in
    eval mode (its BatchNorm keeps the statistics it was shipped with).

    A conditional image generator draws the class z says, so the video generator stays
    unconditional: u = Phi(z_0) is uniform, the class is floor(K u) (uniform over the K
    classes), and z_0 becomes Phi^-1(K u - class), a standard normal again and independent of
    the class, so the image generator still gets the noise it was trained on."""

    def __init__(self, name: str, z_dim: int, size: int, channels: int, side: int = 0):
        super().__init__()
        # here, not at the top: gankit.models (which snapshot imports) imports this file
        from gankit.models.snapshot import load_snapshot, shipped_snapshot
        G, card = load_snapshot(shipped_snapshot(name))
        shape, g_z = tuple(card["data_shape"]), getattr(G, "z_dim", None)
        if len(shape) != 3 or shape[0] != channels:
            raise GankitError(f"model.content {name!r} is not an image generator of "
                              f"{channels}-channel images: choose one that is "
                              "(gankit pretrained lists them)")
        if g_z != z_dim:
            raise GankitError(f"model.content {name!r} takes z of {g_z} dimensions: set "
                              f"model.z_dim={g_z}")
        side = side or size
        if not 1 <= side <= size:
            raise GankitError(f"model.content_side must be in 1..{size} (the frame's side), "
                              f"got {side}")
        self.g, self.side, self.size = G.requires_grad_(False), side, size
        self.n_classes = getattr(G, "n_classes", 0)

    def train(self, mode: bool = True) -> "PretrainedContent":
        super().train(mode)
        self.g.eval()
        return self

    def class_of(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(the class z_0 picks (B,), z with z_0 made standard normal again (B, Z))."""
        normal = torch.distributions.Normal(0.0, 1.0)
        u = normal.cdf(z[:, 0]) * self.n_classes                       # (B,) in [0, K]
        y = u.floor().clamp(0, self.n_classes - 1)
        z0 = normal.icdf((u - y).clamp(1e-6, 1 - 1e-6))
        return y.long(), torch.cat([z0.unsqueeze(1), z[:, 1:]], dim=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.n_classes:
            y, z = self.class_of(z)
            x = self.g(z, y)                                           # (B, C, h, w)
        else:
            x = self.g(z)                                              # (B, C, h, w)
        return centre(x, self.side, self.size)                         # (B, C, S, S)


class TGANGenerator(nn.Module):
    """G(z) -> clips (B, C, T, H, W): T latent frames z_t from z, each drawn from (z, z_t).

    t_dim, the size of z_t, is TGAN's z_dim when 0. A smaller one (MoCoGAN's motion codes
    have 10 dimensions) leaves less room for a frame to differ from the others in anything
    but where the digit is. motion="warp" draws the content once from z and moves it by a
    step per frame read from z_t; motion="bounce" moves it in a straight line read from z
    (no z_t); with `content` (a shipped image generator's name) that
    content is the shipped generator's image at `content_side` pixels (the module docstring)."""

    config_args = {"z_dim": "z_dim", "hidden": "g_hidden", "t_dim": "t_dim", "motion": "motion",
                   "content": "content", "content_side": "content_side",
                   "whole_pixels": "whole_pixels"}
    n_classes = 0  # unconditional (the conditional variant is not built)

    def __init__(self, shape: tuple, z_dim: int = 64, hidden: int = 32, t_dim: int = 0,
                 motion: str = "frames", content: str = "", content_side: int = 0,
                 whole_pixels: bool = False):
        super().__init__()
        check_clip_shape(tuple(shape))
        if motion not in MOTIONS:
            raise GankitError(f"model.motion must be one of {', '.join(MOTIONS)}, got {motion!r}")
        if (content or whole_pixels) and motion == "frames":
            raise GankitError("model.content and model.whole_pixels (how the content is moved) "
                              "need model.motion=warp or bounce")
        if content_side and not content:
            raise GankitError("model.content_side is the side of model.content's image: set "
                              "model.content too, or remove model.content_side")
        self.whole_pixels = whole_pixels
        self.shape, self.z_dim, self.motion = tuple(shape), z_dim, motion
        channels, frames, size, _ = self.shape
        t_dim = t_dim or z_dim
        # bounce reads its whole motion from z: no latent frames
        self.temporal = (TemporalGenerator(z_dim, frames, hidden, t_dim) if motion != "bounce"
                         else None)
        if motion == "frames":
            self.image = ImageGenerator(z_dim + t_dim, size, channels, hidden)
        else:  # one image per clip, and an offset per frame in (-1, 1) half-sides
            self.image = (PretrainedContent(content, z_dim, size, channels, content_side)
                          if content else ImageGenerator(z_dim, size, channels, hidden))
            # Where the content starts, from z, and how far it moves in each frame, from z_t:
            # the offsets are the start plus the steps so far, folded at the walls (`fold`),
            # which is how the data's digits move. Small steps at first: the clip starts still.
            # bounce: one step for the whole clip, from z (a straight line at a fixed speed).
            self.start = nn.Linear(z_dim, 2)
            self.step = nn.Linear(z_dim if motion == "bounce" else t_dim, 2)
            with torch.no_grad():
                self.step.weight.mul_(0.1)
                self.step.bias.zero_()
            # A content smaller than the frame moves at most to the frame's edge.
            self.reach = (size - content_side) / size if content_side else 1.0

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        b, (c, t, h, w) = len(z), self.shape
        if self.motion == "frames":
            z_t = self.temporal(z)                                     # (B, T, Zt)
            zz = torch.cat([z.unsqueeze(1).expand(-1, t, -1), z_t], dim=2)  # (B, T, Z + Zt)
            frames = self.image(zz.reshape(b * t, -1))                 # (B*T, C, H, W)
            return frames.view(b, t, c, h, w).transpose(1, 2)          # (B, C, T, H, W)
        if self.motion == "bounce":
            ts = torch.arange(t, dtype=z.dtype, device=z.device).view(1, t, 1)
            steps = self.step(z).unsqueeze(1) * ts                     # (B, T, 2), 0 at t=0
        else:  # warp
            step = self.step(self.temporal(z))                         # (B, T, 2)
            steps = step.cumsum(1) - step[:, :1]                       # (B, T, 2), 0 at t=0
        shift = fold(self.start(z).unsqueeze(1) + steps, self.reach)  # (B, T, 2) half-sides
        if self.whole_pixels:  # rounded forward, the identity backward (straight-through)
            half = w / 2
            shift = shift + (torch.round(shift * half) / half - shift).detach()
        return translate(self.image(z), shift)                         # (B, C, T, H, W)


class FrameDiscriminator(nn.Module):
    """A logit per frame: (N, C, S, S) -> (N,), 2D convolutions halving the side down to 4."""

    def __init__(self, channels: int, size: int, hidden: int):
        super().__init__()
        layers, c_in, c = [], channels, hidden
        while size > 4:                                                # (N, c, s/2, s/2)
            layers += [nn.Conv2d(c_in, c, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            c_in, c, size = c, c * 2, size // 2
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c_in * 16, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


class VideoDiscriminator(nn.Module):
    """D(clip) -> one logit (B,): 3D convolutions halving time and space, no normalisation
    (so a gradient penalty or spectral norm applies per sample).

    frame_branch adds MoCoGAN's image discriminator (Tulyakov et al. 2018) as a second branch:
    the logit becomes the clip's plus the mean of every frame's own logit, so each frame must
    look like a real frame (a whole, bright digit) while the 3D branch judges the motion."""

    config_args = {"hidden": "d_hidden", "frame_branch": "d_frame"}

    def __init__(self, shape: tuple, hidden: int = 32, frame_branch: bool = False):
        super().__init__()
        check_clip_shape(tuple(shape))
        channels, t, s, _ = shape
        # Half D's width: it runs on T frames per clip, and at full width it doubles D's time.
        self.frame = (FrameDiscriminator(channels, s, max(1, hidden // 2)) if frame_branch
                      else None)
        layers, c_in, c = [], channels, hidden
        while s > 4:                                                   # (B, c, t/2, s/2, s/2)
            kt, st = (4, 2) if t > 1 else (3, 1)                       # time stops at 1 frame
            layers += [nn.Conv3d(c_in, c, (kt, 4, 4), (st, 2, 2), 1),
                       nn.LeakyReLU(0.2, True)]
            c_in, c, t, s = c, c * 2, t // st, s // 2
        self.net = nn.Sequential(*layers, nn.Flatten())                # (B, c*t*4*4)
        self.head = nn.Linear(c_in * t * 16, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        logit = self.head(self.net(x)).squeeze(1)                      # (B,)
        if self.frame is not None:
            b, c, t, h, w = x.shape
            frames = x.transpose(1, 2).reshape(b * t, c, h, w)         # (B*T, C, H, W)
            logit = logit + self.frame(frames).view(b, t).mean(1)      # (B,)
        return logit
