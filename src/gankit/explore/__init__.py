"""Exploring a trained generator: interpolation, truncation, class grids, steering, a web page.

    latent.py    seeded noise, lerp/slerp, the truncation trick, one-hot class vectors
    pictures.py  class x seed grids, interpolation strips and GIFs, truncation grids
    control.py   controllable generation: move z along a classifier's class gradient
    server.py    `gankit serve`: the local web explorer (page.html)
    commands.py  the `gankit explore ...` and `gankit serve` subcommands

The names below load on first use (PEP 562), so `gankit --help` does not import torch.
"""

import importlib

_API = {
    "seed_z": "latent", "truncate": "latent", "lerp": "latent", "slerp": "latent",
    "interpolate": "latent", "one_hot": "latent",
    "class_seed_images": "pictures", "latent_interpolation_images": "pictures",
    "class_interpolation_images": "pictures", "truncation_images": "pictures",
    "write_grid": "pictures", "write_frames": "pictures",
    "steer": "control", "load_generator": "source",
}


def __getattr__(name):
    if name in _API:
        return getattr(importlib.import_module(f"gankit.explore.{_API[name]}"), name)
    raise AttributeError(f"module 'gankit.explore' has no attribute {name!r}")


__all__ = list(_API)
