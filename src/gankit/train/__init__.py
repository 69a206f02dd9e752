"""Training: the trainer protocol and registry, the loop, the run directory.

Calling the package, `gankit.train(preset=..., overrides=...)`, is `gankit.api.train`."""

import sys

from gankit import CallablePackage

sys.modules[__name__].__class__ = CallablePackage
