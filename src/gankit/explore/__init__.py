"""Exploring a trained generator: interpolation, truncation, class grids, steering, a web page.

    latent.py    seeded noise, lerp/slerp, one-hot class vectors (truncation: gankit.generator)
    pictures.py  class x seed grids, interpolation strips and GIFs, truncation grids
    control.py   controllable generation: move z along a classifier's class gradient
    server.py    `gankit serve`: the local web explorer (page.html)
    commands.py  the `gankit explore ...` and `gankit serve` subcommands

Each takes a `gankit.generator.Generator` (`gankit.generator.load(path)`).
"""
