"""gankit: generative adversarial networks from a first course, as tested software.

From Python: `gankit.train(...)`, `gankit.load(...)`, `gankit.show(...)` (see `gankit.api`).
"""

import sys
import types

from gankit import threads  # noqa: F401  (first: it sets torch's OpenMP wait policy)

__version__ = "0.1.0"

# The Python API lives in gankit.api (the CLI's layer: it needs torch, the trainer, the
# report). `import gankit` must stay light (`gankit --help` in well under 0.5 s), so these
# names load it on first use (PEP 562), not here.
_API = ("load", "show", "Run")


def __getattr__(name: str):
    if name in _API:
        from gankit import api  # on first use only: import gankit stays light (see above)
        return getattr(api, name)
    if name == "train":  # the subpackage, not yet imported: import it (it is callable)
        import gankit.train  # light: train/__init__.py imports nothing heavy
        return sys.modules["gankit.train"]
    raise AttributeError(f"module 'gankit' has no attribute {name!r}")


class CallablePackage(types.ModuleType):
    """gankit.train is both the trainer's package (gankit.train.run, .loop, ...) and the call
    `gankit.train(preset=..., overrides=...)`: the package sets this as its module class, so the
    call works whichever of the two was imported first."""

    def __call__(self, *args, **kwargs):
        from gankit import api  # on first call only: import gankit stays light (see above)
        return api.train(*args, **kwargs)
