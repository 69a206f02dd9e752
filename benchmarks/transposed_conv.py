"""Transposed convolutions: torch's layer (oneDNN on a CPU) against gankit's
`MatmulConvTranspose2d` (one matrix product and a col2im), forward and backward, per shape.

`python benchmarks/transposed_conv.py [--threads 2] [--batch 128]` prints, for G's layer
shapes of the presets (the course's DCGAN-28 and the 32- and 64-pixel folder generators), the
median milliseconds of a forward and backward pass of each, channels_last as gankit trains,
and whether `gankit.models.blocks.matmul_pays` takes the matrix product for it. Run it alone:
it is where the rule in matmul_pays comes from.
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # gankit's own thread setting
os.environ.setdefault("GOMP_SPINCOUNT", "30000")

import torch  # noqa: E402
from torch import nn  # noqa: E402

from gankit.models.blocks import MatmulConvTranspose2d, matmul_pays  # noqa: E402

# (c_in, c_out, size_in, kernel, stride, padding): the presets' G layers
SHAPES = [(64, 256, 1, 3, 2, 0), (256, 128, 3, 4, 1, 0), (128, 64, 6, 3, 2, 0),
          (64, 1, 13, 4, 2, 0), (32, 1, 14, 4, 2, 1), (128, 64, 4, 4, 2, 1),
          (64, 32, 8, 4, 2, 1), (32, 3, 16, 4, 2, 1), (16, 3, 32, 4, 2, 1)]


def forward_backward_ms(layer: nn.Module, x: torch.Tensor, grad: torch.Tensor, n: int) -> float:
    def once():
        x.grad = None
        layer.zero_grad(set_to_none=True)
        layer(x).backward(grad)
    for _ in range(3):
        once()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        once()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cl = torch.channels_last
    print(f"forward + backward, ms (median of {args.repeats}), batch {args.batch}, "
          f"{args.threads} threads, channels_last, torch {torch.__version__}")
    print("| layer | torch (oneDNN) | matrix product | torch / matrix | gankit takes |")
    print("|---|---|---|---|---|")
    for c_in, c_out, size, k, s, p in SHAPES:
        ours = MatmulConvTranspose2d(c_in, c_out, k, s, p, bias=False).to(memory_format=cl)
        theirs = nn.ConvTranspose2d(c_in, c_out, k, s, p, bias=False).to(memory_format=cl)
        theirs.load_state_dict(ours.state_dict())
        x = torch.randn(args.batch, c_in, size, size).to(memory_format=cl).requires_grad_(True)
        grad = torch.randn_like(theirs(x))
        a = forward_backward_ms(theirs, x, grad, args.repeats)
        b = forward_backward_ms(ours, x, grad, args.repeats)
        size_out = grad.shape[-1]
        print(f"| {c_in} x {size} x {size} -> {c_out} x {size_out} x {size_out} (k{k} s{s} p{p}) "
              f"| {a:.1f} | {b:.1f} | {a / b:.2f}x | "
              f"{'matrix product' if matmul_pays(size, c_out) else 'torch'} |", flush=True)


if __name__ == "__main__":
    main()
