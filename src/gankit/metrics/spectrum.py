"""The checkerboard measure: how much generated images' spectra peak at the stride-2 frequencies.

A stride-2 transposed convolution whose kernel does not divide evenly by its stride paints a
period-2 pattern on its output (Odena et al. 2016, "Deconvolution and checkerboard
artifacts"); a later layer doubling the size again turns it into period 4, and so on. In the
Fourier domain those patterns are power at the stride-2 frequencies: (H/p, 0), (0, W/p) and
the diagonals (H/p, +-W/p), for periods p = 2, 4, ... Durall et al. (2020) read up-sampling
artifacts off the azimuthally averaged power spectrum; this measure compares each stride-2
frequency with it:

1. each image (grey: the mean of its channels), minus its mean, through `torch.fft.fft2`;
   the power |F|^2 averaged over the images;
2. for each period p (while it repeats at least 4 times across the image): the power at its
   stride-2 frequencies over the azimuthal average of the power at the same radii (the ring
   r +- 1.5 around each, the stride-2 frequencies themselves left out). A 1-D profile alone
   would dilute a peak at (H/2, 0) over its whole ring, about 30 times at 28x28, and put
   (H/2, W/2) in a corner ring of its own;
3. `checkerboard`: the largest of those ratios. A smooth, isotropic spectrum gives about 1;
   real data gives the reference (`gankit eval` prints its value beside the generator's).
"""

import torch


def _power(images: torch.Tensor, batch: int) -> torch.Tensor:
    """(N, C, H, W) -> (H, W) mean power spectrum of the grey images, their means removed."""
    power = torch.zeros(images.shape[-2:], dtype=torch.float64)
    for x in images.split(batch):
        g = x.double().mean(dim=1)                               # (B, H, W) grey
        g = g - g.mean(dim=(-2, -1), keepdim=True)               # no DC: only the patterns
        power += torch.fft.fft2(g).abs().pow(2).sum(0)           # (H, W)
    return power / len(images)


def _radius(h: int, w: int) -> torch.Tensor:
    """(H, W): each FFT frequency's distance from 0, in cycles per image (of the shorter side)."""
    s = min(h, w)
    fy = torch.fft.fftfreq(h, d=1 / s).view(-1, 1)
    fx = torch.fft.fftfreq(w, d=1 / s).view(1, -1)
    return torch.sqrt(fy ** 2 + fx ** 2)


def radial_power(images: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    """(N, C, H, W) -> P(k), k = 0, 1, ...: the power spectrum averaged over rings of radius k."""
    power = _power(images, batch)
    k = _radius(*power.shape).round().long().flatten()
    total = torch.zeros(int(k.max()) + 1, dtype=torch.float64).index_add_(0, k, power.flatten())
    return total / torch.bincount(k, minlength=len(total)).double().clamp(min=1)


def stride2_points(h: int, w: int) -> dict[int, list[tuple[int, int]]]:
    """period -> FFT indices (row, col) of the stride-2 frequencies: periods 2, 4, ... while
    the pattern repeats at least 4 times across the shorter side."""
    out, period = {}, 2
    while min(h, w) / period >= 4:
        fy, fx = h // period, w // period
        out[period] = [(fy, 0), (0, fx), (fy, fx), (fy, w - fx)] if period > 2 else \
            [(fy, 0), (0, fx), (fy, fx)]                         # at period 2, +fx and -fx coincide
        period *= 2
    return out


def checkerboard_ratios(images: torch.Tensor, batch: int = 1000) -> dict[int, float]:
    """period -> power at that period's stride-2 frequencies over the azimuthal average there.

    The azimuthal average at radius r is taken over the ring r +- 1.5 (wide enough to hold
    more than a few frequencies even in the corners), leaving out the stride-2 frequencies
    themselves, so that a peak does not raise its own reference.
    """
    power = _power(images, batch)
    h, w = power.shape
    r = _radius(h, w)
    points = stride2_points(h, w)
    rest = torch.ones(h, w, dtype=torch.bool)
    for group in points.values():
        for i, j in group:
            rest[i, j] = False
    out = {}
    for period, group in points.items():
        peak = sum(float(power[i, j]) for i, j in group)
        ring = sum(float(power[rest & ((r - r[i, j]).abs() <= 1.5)].mean()) for i, j in group)
        out[period] = peak / max(ring, 1e-30)
    return out


def checkerboard(images: torch.Tensor) -> float:
    """The largest stride-2 ratio of (N, C, H, W) images in [-1, 1]: about 1 without artifacts."""
    return max(checkerboard_ratios(images).values())
