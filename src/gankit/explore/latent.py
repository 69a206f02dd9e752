"""Points in a generator's noise space: seeded draws, interpolation, class vectors.

Seeds: `seed_z(z_dim, s)` is the first row of `gankit sample --seed s`'s noise, so the image
of seed s here is the first image of that command's grid.

Truncation (`check_psi`, `truncate`) lives in `gankit.generator`, so that
`Generator.generate(psi=...)` and these pictures truncate the same way; imported from there.
"""

import torch
import torch.nn.functional as F

from gankit.errors import GankitError
from gankit.generator import check_psi, truncate  # noqa: F401  (the explore API names them)


def seed_z(z_dim: int, seed: int) -> torch.Tensor:
    """(z_dim,) standard normal noise of one seed."""
    if not 0 <= int(seed) < 2**63:
        raise GankitError(f"seed {seed}: seeds are whole numbers from 0 to 2**63 - 1")
    return torch.randn(1, z_dim, generator=torch.Generator().manual_seed(int(seed)))[0]


def lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Linear interpolation; torch.lerp returns a at t=0 and b at t=1 exactly."""
    return torch.lerp(a, b, float(t))


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation along the great circle from a to b (last dimension).

    Normal noise lives near a sphere of radius sqrt(z_dim); the midpoint of a straight line
    between two draws is shorter than either and so atypical (White, "Sampling Generative
    Networks", 2016). At t=0 and t=1 the weights are 1 and 0 exactly, so the ends are a and b.
    """
    t = float(t)
    a64, b64 = a.double(), b.double()
    cos = F.cosine_similarity(a64, b64, dim=-1).clamp(-1, 1).unsqueeze(-1)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    if bool((sin.abs() < 1e-6).any()):  # (anti)parallel: the great circle is undefined
        return lerp(a, b, t)
    out = (torch.sin((1 - t) * omega) / sin) * a64 + (torch.sin(t * omega) / sin) * b64
    return out.to(a.dtype)


INTERPOLATIONS = {"lerp": lerp, "slerp": slerp}


def interpolate(a: torch.Tensor, b: torch.Tensor, steps: int, method: str = "slerp") -> torch.Tensor:
    """(steps, *a.shape): `steps` points from a to b inclusive."""
    if method not in INTERPOLATIONS:
        raise GankitError(f"interpolation method must be one of {', '.join(INTERPOLATIONS)}, "
                          f"got {method!r}")
    if steps < 2:
        raise GankitError(f"an interpolation needs at least 2 steps, got {steps}")
    fn = INTERPOLATIONS[method]
    return torch.stack([fn(a, b, i / (steps - 1)) for i in range(steps)])


def one_hot(classes, n_classes: int) -> torch.Tensor:
    """(B,) class indices -> (B, n_classes) float one-hot vectors."""
    return F.one_hot(torch.as_tensor(classes, dtype=torch.long), n_classes).float()
