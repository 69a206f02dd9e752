"""What D sees: DiffAugment and annealed instance noise, both applied to real and fake alike.

DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"):
the same random, differentiable transformations on every image D judges, real or fake, in D's
step and in G's, so D cannot memorise a small data set and G's gradient still flows through
the augmentation. The three policies below are a port of the authors' DiffAugment_pytorch.py
(MIT), kept by hand because no maintained library ships them with these exact ranges; each
draws fresh parameters per sample.

Instance noise (Sønderby et al. 2017; Arjovsky & Bottou 2017): Gaussian noise on D's inputs
makes the real and fake distributions overlap, so D's gradient is informative even when they
are far apart; sigma decays linearly to 0 so the final G is judged on clean samples.
"""

import torch
import torch.nn.functional as F

from gankit.errors import GankitError
from gankit.stats import report


def rand_color(x: torch.Tensor) -> torch.Tensor:
    """Brightness +-0.5, saturation x[0, 2], contrast x[0.5, 1.5] (images in [-1, 1])."""
    b = len(x)
    x = x + (torch.rand(b, 1, 1, 1, device=x.device) - 0.5)
    mean = x.mean(dim=1, keepdim=True)                              # (B, 1, H, W)
    x = (x - mean) * (torch.rand(b, 1, 1, 1, device=x.device) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)                      # (B, 1, 1, 1)
    return (x - mean) * (torch.rand(b, 1, 1, 1, device=x.device) + 0.5) + mean


def rand_translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ratio * size pixels in each direction, zero-filled."""
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device)
    tx = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device)
    ib, iy, ix = torch.meshgrid(torch.arange(b, device=x.device), torch.arange(h, device=x.device),
                                torch.arange(w, device=x.device), indexing="ij")  # (B, H, W) each
    # Index into a 1-pixel zero border: out-of-range source pixels land on the border.
    iy = (iy + ty + 1).clamp(0, h + 1)
    ix = (ix + tx + 1).clamp(0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)             # (B, H+2, W+2, C)
    return padded[ib, iy, ix].permute(0, 3, 1, 2)                   # (B, C, H, W)


def rand_cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero one square of ratio * size at a random centre in each image."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device)
    ox = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device)
    ib, iy, ix = torch.meshgrid(torch.arange(b, device=x.device), torch.arange(ch, device=x.device),
                                torch.arange(cw, device=x.device), indexing="ij")  # (B, ch, cw)
    iy = (iy + oy - ch // 2).clamp(0, h - 1)
    ix = (ix + ox - cw // 2).clamp(0, w - 1)
    mask = torch.ones(b, h, w, dtype=x.dtype, device=x.device)
    mask[ib, iy, ix] = 0
    return x * mask.unsqueeze(1)


POLICIES = {"color": rand_color, "translation": rand_translation, "cutout": rand_cutout}


def parse_policy(text: str) -> tuple[str, ...]:
    """'color,translation,cutout' -> the policy names, checked; '' -> () (off)."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in POLICIES]
    if bad:
        raise GankitError(f"unknown train.diffaugment policy {bad[0]!r}: use a comma-separated "
                          f"subset of {', '.join(POLICIES)}, or empty for none")
    return names


def diff_augment(x: torch.Tensor, policy: tuple[str, ...]) -> torch.Tensor:
    """Apply the named policies in order; the identity (the same tensor) when policy is empty."""
    for name in policy:
        x = POLICIES[name](x)
    return x


def instance_noise_sigma(sigma0: float, anneal_kimg: float, kimg: float) -> float:
    """sigma0 at 0 kimg, falling linearly to 0 at anneal_kimg, and 0 from then on."""
    if sigma0 <= 0 or anneal_kimg <= 0:
        return 0.0
    sigma = sigma0 * max(0.0, 1.0 - kimg / anneal_kimg)
    report("noise_sigma", sigma)
    return sigma
