"""gankit: generative adversarial networks from a first course, as tested software.

From Python: `gankit.train(...)`, `gankit.load(...)`, `gankit.show(...)` (see `gankit.api`).
The trainer's package is `gankit.training`; its old name still imports (`from
gankit.train.gan import GANTrainer`), as the same modules.
"""

import importlib
import sys
import types
from importlib.machinery import ModuleSpec

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
    raise AttributeError(f"module 'gankit' has no attribute {name!r}")


def train(*args, **kwargs):
    """`gankit train` from Python: `gankit.api.train` (its arguments and notes are there)."""
    from gankit import api  # on first call only: import gankit stays light (see above)
    return api.train(*args, **kwargs)


# -- the trainer package's old name -----------------------------------------------------------
# Until it became `gankit.training`, the trainer package was `gankit.train`, which users and
# notebooks import from. `gankit.train` is now the function above; the old module names are
# served by a finder that hands back the `gankit.training` module itself (one class, one
# registry), never a copy: `from gankit.train.gan import GANTrainer` and `from gankit.train
# import run` keep working. (`import gankit.train.gan as m` does not: `gankit.train` is the
# function; write `from gankit.training import gan as m`.)
OLD, NEW = "gankit.train", "gankit.training"


class _OldName:
    """A meta path finder and loader for `gankit.train.X` -> the module `gankit.training.X`."""

    def find_spec(self, name, path=None, target=None):
        return ModuleSpec(name, self) if name.startswith(OLD + ".") else None

    def create_module(self, spec):
        return None  # a placeholder module; exec_module puts the real one in its place

    def exec_module(self, module):
        # importlib takes back whatever sys.modules holds under the name once this returns
        sys.modules[module.__name__] = importlib.import_module(NEW + module.__name__[len(OLD):])


def _old_package_getattr(name: str):
    try:
        return importlib.import_module(f"{OLD}.{name}")
    except ModuleNotFoundError:
        raise AttributeError(f"module {OLD!r} (now {NEW!r}) has no attribute {name!r}") from None


if not any(isinstance(f, _OldName) for f in sys.meta_path):
    sys.meta_path.insert(0, _OldName())
_old = types.ModuleType(OLD, f"The trainer package's old name: see {NEW}.")
_old.__path__ = []                       # a package: `gankit.train.X` is looked up (by _OldName)
_old.__getattr__ = _old_package_getattr  # `from gankit.train import run`
sys.modules.setdefault(OLD, _old)
