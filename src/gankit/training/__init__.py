"""Training: the trainer protocol and registry (`protocol`), the trainers (`gan`, `vae`,
`video`), the loop (`loop`), the run directory (`run`), the health monitor (`health`).

(The package was called `gankit.train`, a name the function `gankit.train(...)` now has; the
old module names still import: see `gankit/__init__.py`.)"""
