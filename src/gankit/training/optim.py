"""torch.optim.Adam, without the 1.6 s import of torch._dynamo on the first call.

torch wraps `Optimizer.add_param_group`, `zero_grad`, `state_dict` and `load_state_dict` in
`torch._disable_dynamo`, and `Adam.step` in a wrapper that calls `torch._dynamo.graph_break()`:
each of them imports torch._dynamo (and sympy with it) the first time it runs, about 1.6 s on
this project's 2-core machine, a third of what `gankit train` spends before its first step.
The wrappers only matter while torch.compile traces the optimizer, which gankit never does
(`train.compile` compiles the networks, not the update). So `Adam` below calls torch's own
methods past those wrappers (`functools.wraps` keeps each as `__wrapped__`): the update is
torch's, bit for bit (tests/test_speed_math.py checks it against torch.optim.Adam).

And it takes torch's fused kernel (`fused=True`: one pass over each parameter) where the
parameters allow it, unless the caller chooses: torch defaults to it nowhere and to a Python
loop of about ten small kernels per parameter on a CPU, which took 9.0 to 9.6 ms per step
for dcgan-course-exact's G on one thread, alone, against 0.8 to 0.9 ms fused (same update up to rounding).
"""

import torch

_Optimizer, _Adam = torch.optim.Optimizer, torch.optim.Adam


def _inner(method):
    """The function a torch decorator wrapped (itself where there is no wrapper)."""
    return getattr(method, "__wrapped__", method)


def _fusable(params: list) -> bool:
    """Whether torch's fused Adam takes these parameters (floating point, on a CPU or GPU)."""
    tensors = [p for g in params for p in (g["params"] if isinstance(g, dict) else [g])]
    return bool(tensors) and all(t.is_floating_point() and t.device.type in ("cpu", "cuda")
                                 for t in tensors)


class Adam(_Adam):
    """`torch.optim.Adam` with the same arguments and the same update, fused where it can be."""

    def __init__(self, params, *args, **kwargs):
        params = list(params)
        if {"fused", "foreach", "differentiable"}.isdisjoint(kwargs) and _fusable(params):
            kwargs["fused"] = True
        super().__init__(params, *args, **kwargs)

    def add_param_group(self, param_group: dict) -> None:
        _inner(_Optimizer.add_param_group)(self, param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        _inner(_Optimizer.zero_grad)(self, set_to_none)

    def state_dict(self) -> dict:
        return _inner(_Optimizer.state_dict)(self)

    def load_state_dict(self, state_dict: dict) -> None:
        _inner(_Optimizer.load_state_dict)(self, state_dict)

    def step(self, closure=None):
        with torch.set_grad_enabled(self.defaults["differentiable"]):  # as torch's wrapper does
            return _inner(_Adam.step)(self, closure)
