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
        kind = MatmulConvTranspose2d if matmul_pays(size_in, c_out) else nn.ConvTranspose2d
        return kind(c_in, c_out, kernel, stride, padding, bias=bias)
    if upsample == "resize":
        # Resize straight to the transposed conv's output size, then a 3x3 "same" conv, so
        # the two modes are drop-in replacements with identical shapes.
        return nn.Sequential(nn.Upsample(size=(size_out, size_out), mode="nearest"),
                             nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias))
    raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, got {upsample!r}")


def matmul_pays(size_in: int, c_out: int) -> bool:
    """Whether a transposed conv from size_in x size_in maps to c_out channels is faster on a
    CPU as a matrix product (`MatmulConvTranspose2d`) than in oneDNN's kernel, as measured by
    benchmarks/transposed_conv.py (forward and backward, channels_last, batch 128, 2 threads,
    alone; torch : matrix product over several runs on a shared 2-core machine): maps of at
    most 3x3, where oneDNN's blocking has little to block (z 64 -> 256 x 3 x 3: 2.5x to 3.9x;
    256 x 3 x 3 -> 128 x 6 x 6: 0.95x to 2.1x, 1.2x typical), and one output channel, a grey
    image's last layer (64 x 13 x 13 -> 1 x 28 x 28: 1.45x to 2.4x; 32 x 14 x 14 -> 1 x 28
    x 28: 1.4x to 1.5x). The course's DCGAN step as a whole: 1.08x (in-process, 2 threads).
    From 4x4 maps up with several output channels torch's was as fast or faster at the
    presets' widths (0.31x to 0.99x), so those layers stay nn.ConvTranspose2d; at the DCGAN
    paper's 64-wide 64-pixel G (batch 64) two of them were faster as products (512 x 4 x 4 ->
    256 x 8 x 8: 1.42x; 64 x 32 x 32 -> 3 x 64 x 64: 1.05x, one run each), not taken yet."""
    return size_in * size_in <= 9 or c_out == 1


class _MatmulConvTranspose(torch.autograd.Function):
    """conv_transpose2d (groups 1, dilation 1, no output padding) as one matrix product and a
    col2im, with its backward as an im2col and two matrix products.

    Written by hand because torch's own col2im, F.fold, is a single-threaded scalar loop
    (9 ms for this G's 6x6 layer, against 1 to 2 ms for the k * k strided adds here); the
    matrix products are MKL's. The work is done in channels_last order, (B, H, W, C), where
    every kernel tap (i, j) is one strided slice of the output: input pixel (h, w) adds
    x[h, w] @ weight[:, :, i, j] to output pixel (h * stride + i, w * stride + j), before the
    padding is cropped off."""

    @staticmethod
    def forward(ctx, x, weight, stride: int, padding: int):
        b, c_in, h, w = x.shape
        _, c_out, k, _ = weight.shape
        rows, taps = _MatmulConvTranspose.matrices(x, weight)
        cols = (rows @ taps).view(b, h, w, k, k, c_out)
        full = x.new_zeros(b, (h - 1) * stride + k, (w - 1) * stride + k, c_out)
        for i in range(k):
            for j in range(k):
                full[:, i:i + (h - 1) * stride + 1:stride,
                     j:j + (w - 1) * stride + 1:stride] += cols[:, :, :, i, j]
        out = full[:, padding:full.shape[1] - padding, padding:full.shape[2] - padding]
        ctx.save_for_backward(x, weight)  # the inputs, so a double backward reaches them
        ctx.geometry = (b, c_in, h, w, c_out, k, stride, padding)
        fmt = (torch.channels_last if x.is_contiguous(memory_format=torch.channels_last)
               else torch.contiguous_format)
        return out.permute(0, 3, 1, 2).contiguous(memory_format=fmt)  # (B, c_out, H', W')

    @staticmethod
    def matrices(x, weight):
        """x as rows (B * H * W, c_in) and the weight as taps (c_in, k * k * c_out): views of
        channels_last tensors, copies of others."""
        rows = x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])
        return rows, weight.permute(0, 2, 3, 1).reshape(weight.shape[0], -1)

    @staticmethod
    def backward(ctx, grad):
        rows, taps = _MatmulConvTranspose.matrices(*ctx.saved_tensors)
        b, c_in, h, w, c_out, k, stride, padding = ctx.geometry
        g = grad.permute(0, 2, 3, 1)                                 # (B, H', W', c_out)
        if padding:
            g = nn.functional.pad(g, (0, 0, padding, padding, padding, padding))
        cols = g.new_empty(b, h, w, k, k, c_out)                     # im2col of the gradient
        for i in range(k):
            for j in range(k):
                cols[:, :, :, i, j] = g[:, i:i + (h - 1) * stride + 1:stride,
                                        j:j + (w - 1) * stride + 1:stride]
        cols = cols.view(b * h * w, k * k * c_out)
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = (cols @ taps.t()).view(b, h, w, c_in).permute(0, 3, 1, 2)
        if ctx.needs_input_grad[1]:
            grad_w = (rows.t() @ cols).view(c_in, k, k, c_out).permute(0, 3, 1, 2)
        return grad_x, grad_w, None, None


class MatmulConvTranspose2d(nn.ConvTranspose2d):
    """An `nn.ConvTranspose2d` computed as matrix products where that is faster
    (`matmul_pays`): the same module, weights, state dict and output (snapshots load either
    way; up to float rounding), its output in its input's memory layout.

    z (1x1) to a generator's first k x k map is the one product (B, c_in) @ (c_in, c_out * k
    * k), on any device; larger inputs take `_MatmulConvTranspose` on a CPU. Elsewhere (a GPU
    for larger inputs, autocast, torch.compile, groups, dilation, output padding) it is
    torch's own layer."""

    def forward(self, x: torch.Tensor, output_size=None) -> torch.Tensor:
        if (x.dim() != 4 or self.groups != 1 or self.dilation != (1, 1) or any(self.output_padding)
                or self.stride[0] != self.stride[1] or self.padding[0] != self.padding[1]
                or output_size is not None or torch.compiler.is_compiling()
                or torch.is_autocast_enabled(x.device.type)):
            return super().forward(x, output_size)
        w = self.weight                                              # (c_in, c_out, k, k)
        b, (c_in, c_out, kh, kw) = len(x), w.shape
        if x.shape[-2:] == (1, 1) and not any(self.padding):
            if w.is_contiguous():
                out = (x.reshape(b, c_in) @ w.view(c_in, -1)).view(b, c_out, kh, kw)
            else:  # channels_last: (c_in, k, k, c_out) in memory
                out = (x.reshape(b, c_in) @ w.permute(0, 2, 3, 1).reshape(c_in, -1))
                out = out.view(b, kh, kw, c_out).permute(0, 3, 1, 2)  # (B, c_out, k, k)
        elif x.device.type == "cpu" and kh == kw:
            out = _MatmulConvTranspose.apply(x, w, self.stride[0], self.padding[0])
        else:
            return super().forward(x, output_size)
        return out if self.bias is None else out + self.bias.view(1, -1, 1, 1)


def as_torch_layers(module: nn.Module) -> nn.Module:
    """`module` with every `MatmulConvTranspose2d` turned back into the `nn.ConvTranspose2d`
    it computes (in place; same weights): the network as a plain script builds it. The speed
    benchmarks' peers (the lean loop, the course's loop) run it this way."""
    for m in module.modules():
        if type(m) is MatmulConvTranspose2d:
            m.__class__ = nn.ConvTranspose2d
    return module
