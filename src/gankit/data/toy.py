"""The 2-D Gaussian mixtures used to study mode collapse: a ring of 8 and a grid of 25.

Parameters, and where they come from:
- Ring: 8 components evenly spaced on a circle of radius 2, std 0.02 -- the mixture of
  Metz et al. 2017, "Unrolled Generative Adversarial Networks", appendix. We could not
  read the paper's text through our search tool; the same numbers appear in public
  reproductions (e.g. stat-ml/ex2mcmc, config "gaussians_ring": sigma 0.02, rad 2.0).
  VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018) use radius 1 with std 0.01,
  which is the same mixture scaled by 1/2 (std / radius = 0.01 in both), so mode counts and
  "within 3 std" quality scores mean the same thing on either scale.
- Grid: 25 components at (-4 + 2i, -4 + 2j), i, j = 0..4, std 0.05 -- the VEEGAN 2D grid.
  Checked against code that reproduces VEEGAN: PacGAN's own experiments
  (fjxmlzn/PacGAN, synthetic_data_experiments/2DGrid_GAN&PacGAN/config.py: means
  itertools.product(range(-4, 5, 2), range(-4, 5, 2)), variance 0.05 ** 2) and
  XuSingle/Unrolled-GAN-for-Mixed-Guassian-Points (data.py: sample_grid std=0.05).
  We found no source for std 0.02 on the grid.

Points stay in these coordinates (not rescaled to [-1, 1]): a generator for them ends in a
linear layer, and the metrics measure distances in units of the std.
"""

from __future__ import annotations

import math

import torch

RING_COMPONENTS = 8
RING_RADIUS = 2.0
RING_STD = 0.02

GRID_SIDE = 5
GRID_SPACING = 2.0
GRID_STD = 0.05

TOY_NAMES = ("toy-ring", "toy-grid")


def ring_centres() -> torch.Tensor:
    """(8, 2): component k at angle 2*pi*k/8 on the circle of radius RING_RADIUS."""
    angles = torch.arange(RING_COMPONENTS, dtype=torch.float64) * (2 * math.pi / RING_COMPONENTS)
    centres = RING_RADIUS * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return centres.float()


def grid_centres() -> torch.Tensor:
    """(25, 2): (-4 + 2i, -4 + 2j), i the slow index, j the fast one."""
    offset = (GRID_SIDE - 1) / 2 * GRID_SPACING  # 4.0: centres the grid on the origin
    axis = torch.arange(GRID_SIDE, dtype=torch.float32) * GRID_SPACING - offset
    i, j = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([i.reshape(-1), j.reshape(-1)], dim=1)


def mixture(name: str) -> tuple[torch.Tensor, float]:
    """(centres (K, 2), std) of the named toy mixture."""
    if name == "toy-ring":
        return ring_centres(), RING_STD
    if name == "toy-grid":
        return grid_centres(), GRID_STD
    raise ValueError(f"not a toy data set: {name!r}")  # callers check the name first


def sample(name: str, n: int, seed: int = 0
           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """n points from the mixture, components chosen uniformly.

    Returns points (n, 2) float32, labels (n,) int64 (the component of each point),
    centres (K, 2) and std. The same seed gives the same points on every machine.
    """
    centres, std = mixture(name)
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(len(centres), (n,), generator=g)
    noise = torch.randn(n, 2, generator=g)
    return centres[labels] + std * noise, labels, centres, std
