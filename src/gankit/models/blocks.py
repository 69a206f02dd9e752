"""Up-sampling blocks for conv generators.

`transposed` is the DCGAN default. `resize` is nearest-neighbour up-sampling followed by a
stride-1 convolution: every output pixel then gets the same number of kernel taps, which
removes the checkerboard artifacts of transposed convolutions whose kernel size is not
divisible by their stride (Odena et al., "Deconvolution and Checkerboard Artifacts", 2016).
"""

import torch
from torch import nn

UPSAMPLE_MODES = ("transposed", "resize")


def up_conv(c_in: int, c_out: int, kernel: int, stride: int, padding: int, size_in: int,
            upsample: str, bias: bool) -> nn.Module:
    """A layer mapping (B, c_in, s, s) to (B, c_out, s', s') with the transposed conv's s'."""
    size_out = (size_in - 1) * stride - 2 * padding + kernel
    if upsample == "transposed":
        kind = Projection if size_in == 1 and padding == 0 else nn.ConvTranspose2d
        return kind(c_in, c_out, kernel, stride, padding, bias=bias)
    if upsample == "resize":
        # Resize straight to the transposed conv's output size, then a 3x3 "same" conv, so
        # the two modes are drop-in replacements with identical shapes.
        return nn.Sequential(nn.Upsample(size=(size_out, size_out), mode="nearest"),
                             nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias))
    raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, got {upsample!r}")


class Projection(nn.ConvTranspose2d):
    """The transposed conv that maps z, a 1x1 input, to a generator's first k x k feature map,
    computed as the one matrix product it is: (B, c_in) @ (c_in, c_out * k * k).

    Same module, weights and output as `nn.ConvTranspose2d` (snapshots load either way), only
    faster: on a CPU, oneDNN's transposed convolution takes about 4 times as long as the matrix
    product for this shape, forward and backward (z 64 -> 256 x 3 x 3 at batch 128, one
    thread, alone: 14.8 ms against 3.5 ms), and every DCGAN generator starts with it. A channels_last weight gives a channels_last output with
    no copy (its memory is laid out (c_in, k, k, c_out)). Other inputs take torch's path.
    """

    def forward(self, x: torch.Tensor, output_size=None) -> torch.Tensor:
        w = self.weight                                             # (c_in, c_out, k, k)
        if (x.shape[-2:] != (1, 1) or self.groups != 1 or any(self.padding)
                or any(self.output_padding) or self.dilation != (1, 1)):
            return super().forward(x, output_size)
        b, (c_in, c_out, kh, kw) = len(x), w.shape
        if w.is_contiguous():
            out = (x.reshape(b, c_in) @ w.view(c_in, -1)).view(b, c_out, kh, kw)
        else:  # channels_last: (c_in, k, k, c_out) in memory
            out = (x.reshape(b, c_in) @ w.permute(0, 2, 3, 1).reshape(c_in, -1))
            out = out.view(b, kh, kw, c_out).permute(0, 3, 1, 2)    # (B, c_out, k, k)
        return out if self.bias is None else out + self.bias.view(1, -1, 1, 1)


def as_torch_layers(module: nn.Module) -> nn.Module:
    """`module` with every `Projection` turned back into the `nn.ConvTranspose2d` it computes
    (in place; same weights): the network as a plain script builds it. The speed benchmarks'
    peers (the lean loop, the course's loop) run it this way."""
    for m in module.modules():
        if type(m) is Projection:
            m.__class__ = nn.ConvTranspose2d
    return module
