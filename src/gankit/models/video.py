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

Clips are (B, C, T, H, W) in [-1, 1]: torch's Conv3d layout. T and the frame side must be
powers of two (T >= 4, side >= 8), since every layer doubles or halves them.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import GankitError


MOTIONS = ("frames", "warp")


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


class TGANGenerator(nn.Module):
    """G(z) -> clips (B, C, T, H, W): T latent frames z_t from z, each drawn from (z, z_t).

    t_dim, the size of z_t, is TGAN's z_dim when 0. A smaller one (MoCoGAN's motion codes
    have 10 dimensions) leaves less room for a frame to differ from the others in anything
    but where the digit is. motion="warp" draws the content once from z and moves it by an
    offset per frame read from z_t (the module docstring)."""

    config_args = {"z_dim": "z_dim", "hidden": "g_hidden", "t_dim": "t_dim", "motion": "motion"}
    n_classes = 0  # unconditional (the conditional variant is not built)

    def __init__(self, shape: tuple, z_dim: int = 64, hidden: int = 32, t_dim: int = 0,
                 motion: str = "frames"):
        super().__init__()
        check_clip_shape(tuple(shape))
        if motion not in MOTIONS:
            raise GankitError(f"model.motion must be one of {', '.join(MOTIONS)}, got {motion!r}")
        self.shape, self.z_dim, self.motion = tuple(shape), z_dim, motion
        channels, frames, size, _ = self.shape
        t_dim = t_dim or z_dim
        self.temporal = TemporalGenerator(z_dim, frames, hidden, t_dim)
        if motion == "frames":
            self.image = ImageGenerator(z_dim + t_dim, size, channels, hidden)
        else:  # one image per clip, and an offset per frame in (-1, 1) half-sides
            self.image = ImageGenerator(z_dim, size, channels, hidden)
            self.shift = nn.Sequential(nn.Linear(t_dim, 2), nn.Tanh())

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        b, (c, t, h, w) = len(z), self.shape
        z_t = self.temporal(z)                                         # (B, T, Zt)
        if self.motion == "warp":
            return translate(self.image(z), self.shift(z_t))           # (B, C, T, H, W)
        zz = torch.cat([z.unsqueeze(1).expand(-1, t, -1), z_t], dim=2)  # (B, T, Z + Zt)
        frames = self.image(zz.reshape(b * t, -1))                     # (B*T, C, H, W)
        return frames.view(b, t, c, h, w).transpose(1, 2)              # (B, C, T, H, W)


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
