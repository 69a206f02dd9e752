"""Mode coverage on the 2D toy mixtures, as defined in VEEGAN (Srivastava et al. 2017) and
used by Unrolled GAN and PacGAN.

A generated point is high quality when it lies within 3 standard deviations of the nearest
mixture centre. A mode is covered when it is the nearest centre of at least one high-quality
point. The papers report both on 2,500 samples.
"""

import torch


def toy_metrics(points: torch.Tensor, centres: torch.Tensor, std: float,
                n_sigma: float = 3.0) -> dict:
    d = torch.cdist(points.double(), centres.double())     # (N, K)
    nearest_d, nearest = d.min(dim=1)
    good = nearest_d <= n_sigma * std
    covered = torch.unique(nearest[good])
    per_mode = torch.bincount(nearest[good], minlength=len(centres))
    return {"modes_covered": int(len(covered)), "n_modes": int(len(centres)),
            "high_quality_pct": float(good.double().mean() * 100),
            "per_mode": [int(c) for c in per_mode.tolist()], "n": int(len(points))}
