"""What a network would cost before it exists: built on PyTorch's `meta` device (shapes, no
storage), counted, and compared with the memory the machine has, so a width, side or batch
that cannot fit is one line naming it instead of a failed allocation deep inside torch.

The estimate is a lower bound: parameters, their gradients and Adam's two moments (4 float32
copies) for training, one for inference, plus the activations one forward pass keeps for the
backward pass. A refusal therefore means the request cannot fit, never that it might not.
"""

import os
from unittest import mock

import torch
from torch import nn

from gankit.errors import GankitError

FLOAT = 4           # bytes per float32
TRAIN_COPIES = 4    # weights, gradients, Adam's m and v


def available_bytes(device: str | torch.device = "cpu") -> int | None:
    """Memory free for new tensors on `device` (None where nothing can measure it)."""
    device = torch.device(device)
    if device.type == "cuda":
        try:
            return torch.cuda.mem_get_info(device)[0]
        except (RuntimeError, AssertionError):  # no CUDA here: the device check says so
            return None
    try:
        import psutil  # optional, not a dependency: MemAvailable counts the page cache as free
        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX
        return None


def gib(n: float) -> str:
    """Bytes for a message: GiB, or MiB below one GiB."""
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.1f} MiB"


def on_meta(build):
    """`build()` with every tensor it makes on the meta device (no memory is taken).

    Meta tensors hold no values, so drawing their initial weights is skipped: torch's meta
    kernel for `normal_` is Python that imports sympy, seconds of a command's start-up."""
    normal_ = torch.Tensor.normal_

    def skip_on_meta(t, *args, **kwargs):
        return t if t.is_meta else normal_(t, *args, **kwargs)

    with torch.device("meta"), mock.patch.object(torch.Tensor, "normal_", skip_on_meta):
        return build()


def n_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def activation_bytes(module: nn.Module, *inputs) -> int:
    """Bytes of every leaf module's output in one forward pass of `inputs`, in eval mode
    (BatchNorm's statistics untouched, no random draw): what autograd keeps for the backward
    pass, about."""
    total = 0

    def count(_m, _inp, out):
        nonlocal total
        for t in (out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(t, torch.Tensor):
                total += t.numel() * t.element_size()

    leaves = [m for m in module.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(count) for m in leaves]
    was_training = module.training
    try:
        with torch.no_grad():
            module.eval()(*inputs)
    finally:
        module.train(was_training)
        for h in hooks:
            h.remove()
    return total


def check_fits(need: int, what: str, fix: str, device="cpu") -> None:
    """Refuse `need` bytes that are more than the device has free (`what` names the request)."""
    have = available_bytes(device)
    if have is not None and need > have:
        raise GankitError(f"{what} needs at least {gib(need)} of memory and this machine has "
                          f"{gib(have)} free: {fix}")


def weight_bytes(G: nn.Module, D: nn.Module) -> int:
    """Training's weights: 4 float32 copies of every parameter of G and D."""
    return (n_parameters(G) + n_parameters(D)) * FLOAT * TRAIN_COPIES


def activation_bytes_per_sample(G: nn.Module, D: nn.Module, data_shape: tuple) -> int:
    """Activations one training sample keeps, measured with one sample through the built G
    (CPU) and D (a real and a fake): 0 where the networks take other inputs (a VAE)."""
    try:
        cond = int(getattr(G, "n_classes", 0) or 0)
        y = torch.zeros(1, dtype=torch.long) if cond else None
        g = activation_bytes(G, torch.zeros(1, int(G.z_dim)), y)
        d = activation_bytes(D, torch.zeros(1, *data_shape), y)
    except (AttributeError, RuntimeError, TypeError, ValueError):
        return 0
    return g + 2 * d
