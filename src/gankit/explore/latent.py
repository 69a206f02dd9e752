"""Points in a generator's noise space: seeded draws, interpolation, truncation, class vectors.

Seeds: `seed_z(z_dim, s)` is the first row of `gankit sample --seed s`'s noise, so the image
of seed s here is the first image of that command's grid.

Truncation (the "truncation trick" of BigGAN, Brock et al. 2019): every coordinate of z comes
from a standard normal truncated to [-psi, psi]. It is drawn by the inverse CDF from the
same seed's normal draw, not by resampling: a seed's z at threshold psi is its untruncated z
moved monotonically toward 0, so a row over psi shows one sample being truncated, psi = inf
is exactly the untruncated z, and psi -> 0 squeezes every seed's z into [-psi, psi]^d and
thus onto z = 0: the same image for every seed. (StyleGAN's truncation pulls toward the mean
of an intermediate w space these generators do not have; in z space its mean is 0 and it
would only rescale z, which is not "a truncated normal".)
"""

import math

import torch
import torch.nn.functional as F

from gankit.errors import GankitError


def seed_z(z_dim: int, seed: int) -> torch.Tensor:
    """(z_dim,) standard normal noise of one seed."""
    if not 0 <= int(seed) < 2**63:
        raise GankitError(f"seed {seed}: seeds are whole numbers from 0 to 2**63 - 1")
    return torch.randn(1, z_dim, generator=torch.Generator().manual_seed(int(seed)))[0]


def check_psi(psi: float) -> float:
    """A truncation threshold: a number >= 0, or inf for no truncation."""
    try:
        psi = float(psi)
    except (TypeError, ValueError):
        raise GankitError(f"truncation psi must be a number >= 0 (or inf for none), got {psi!r}") from None
    if math.isnan(psi) or psi < 0:
        raise GankitError(f"truncation psi must be a number >= 0 (or inf for none), got {psi}")
    return psi


def truncate(z: torch.Tensor, psi: float) -> torch.Tensor:
    """Map standard normal z (any shape) to a normal truncated to [-psi, psi], per coordinate.

    Inverse CDF, u = Phi(z) -> Phi^-1(Phi(-psi) + u (Phi(psi) - Phi(-psi))), in float64 so the
    tails survive; hand-written (torch.nn.init.trunc_normal_ draws fresh uniforms, which
    would lose the link between a seed's truncated and untruncated z).
    """
    psi = check_psi(psi)
    if math.isinf(psi):
        return z.clone()
    if psi == 0:
        return torch.zeros_like(z)
    z64 = z.double()
    lo, hi = torch.special.ndtr(torch.tensor(-psi, dtype=torch.float64)), torch.special.ndtr(
        torch.tensor(psi, dtype=torch.float64))
    out = torch.special.ndtri(lo + torch.special.ndtr(z64) * (hi - lo))
    return out.clamp(-psi, psi).to(z.dtype)


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
