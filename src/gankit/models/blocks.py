"""Up-sampling blocks for conv generators.

`transposed` is the DCGAN default. `resize` is nearest-neighbour up-sampling followed by a
stride-1 convolution: every output pixel then gets the same number of kernel taps, which
removes the checkerboard artifacts of transposed convolutions whose kernel size is not
divisible by their stride (Odena et al., "Deconvolution and Checkerboard Artifacts", 2016).
"""

from torch import nn

UPSAMPLE_MODES = ("transposed", "resize")


def up_conv(c_in: int, c_out: int, kernel: int, stride: int, padding: int, size_in: int,
            upsample: str, bias: bool) -> nn.Module:
    """A layer mapping (B, c_in, s, s) to (B, c_out, s', s') with the transposed conv's s'."""
    size_out = (size_in - 1) * stride - 2 * padding + kernel
    if upsample == "transposed":
        return nn.ConvTranspose2d(c_in, c_out, kernel, stride, padding, bias=bias)
    if upsample == "resize":
        # Resize straight to the transposed conv's output size, then a 3x3 "same" conv, so
        # the two modes are drop-in replacements with identical shapes.
        return nn.Sequential(nn.Upsample(size=(size_out, size_out), mode="nearest"),
                             nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias))
    raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, got {upsample!r}")
