"""DCGAN generators and discriminators (Radford et al., 2016).

The five rules of the paper hold for every model here: no pooling (strided convs only),
BatchNorm in G and D, no fully connected hidden layers, ReLU in G with a Tanh output,
LeakyReLU(0.2) in D with a raw logit output (the sigmoid lives in the loss).

With `n_classes > 0` a model is conditional (`models/conditional.py`): G's input map has
z_dim + n_classes channels, D's input image C + n_classes channels (model.d_cond=concat, the
course's), or DCGAN-28's D projects its last features on a learned class embedding instead
(model.d_cond=projection, Miyato & Koyama 2018). DCGAN-28's D can also name the class itself
(model.d_classify, the auxiliary classifier of AC-GAN, Odena et al. 2017).
"""

import math

import torch
from torch import nn

from gankit.models.blocks import up_conv
from gankit.errors import GankitError
from gankit.models.conditional import class_vector, with_class, with_class_maps
from gankit.models.init import dcgan_init


D_CONDS = ("concat", "projection", "none")


def _g_block(c_in, c_out, kernel, stride, padding, size_in, upsample, last=False):
    up = up_conv(c_in, c_out, kernel, stride, padding, size_in, upsample, bias=last)
    if last:
        return nn.Sequential(up, nn.Tanh())
    return nn.Sequential(up, nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


def _d_block(c_in, c_out, kernel, stride, padding=0, bn=True):
    layers = [nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


class DCGANGenerator28(nn.Module):
    """The course's week-2 DCGAN generator for 28x28 images: z as a (z_dim, 1, 1) map."""
    config_args = {"z_dim": "z_dim", "hidden": "g_hidden", "upsample": "upsample",
                   "bn_mean": "bn_init_mean", "n_classes": "n_classes"}  # arg -> model.* key

    def __init__(self, z_dim: int = 64, channels: int = 1, hidden: int = 64,
                 upsample: str = "transposed", bn_mean: float = 1.0, n_classes: int = 0):
        super().__init__()
        self.z_dim, self.n_classes = z_dim, n_classes
        h = hidden
        self.net = nn.Sequential(
            _g_block(z_dim + n_classes, h * 4, 3, 2, 0, 1, upsample),  # (B, 4h, 3, 3)
            _g_block(h * 4, h * 2, 4, 1, 0, 3, upsample),         # (B, 2h, 6, 6)
            _g_block(h * 2, h, 3, 2, 0, 6, upsample),             # (B, h, 13, 13)
            _g_block(h, channels, 4, 2, 0, 13, upsample, last=True),  # (B, C, 28, 28)
        )
        dcgan_init(self, bn_mean)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = with_class(z.view(len(z), self.z_dim), y, self.n_classes)  # (B, z_dim + K)
        return self.net(z[:, :, None, None])


class MinibatchStd(nn.Module):
    """Appends one channel: the std of each feature over groups of `group` samples, averaged
    (Karras et al. 2018, ProGAN), so D can see a batch that lacks variety."""

    def __init__(self, group: int = 4):
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = math.gcd(b, self.group)
        std = x.view(g, b // g, c, h, w).var(0, unbiased=False).add(1e-8).sqrt()  # (B/g, C, H, W)
        s = std.mean(dim=(1, 2, 3)).view(-1, 1, 1, 1).repeat(g, 1, h, w)       # (B, 1, H, W)
        return torch.cat([x, s], dim=1)                                         # (B, C + 1, H, W)


class DCGANDiscriminator28(nn.Module):
    """The course's week-2 DCGAN discriminator: three stride-2 convs down to one logit.

    `input_bn=False` drops BatchNorm on the first layer, as the DCGAN paper does: D sees real
    and fake in separate batches, and BatchNorm right at the input normalises away any
    per-batch offset, so D cannot see that the fakes' background is grey instead of black.
    The course keeps it (`input_bn=True`). `bn=False` drops BatchNorm everywhere, as a
    WGAN-GP critic must (its gradient penalty is per sample). `mbstd` > 0 adds a minibatch
    standard deviation channel (groups of `mbstd` samples) before the last conv.

    The course's D (28 -> 13 -> 5 -> 1, 4x4 kernels, stride 2, no padding) sees only the top-left
    22x22 pixels: the last conv reads rows 0-3 of the 5x5 map, which cover pixels 0-21, so G is
    free to draw anything in the right and bottom six pixels (a digit's stroke can reach
    them). `full_view=True` pads the second conv by one (13 -> 6) and gives the last conv a
    6x6 kernel, so every pixel reaches the logit.

    A conditional D sees the class as maps beside the image (`cond="concat"`), or, with
    `cond="projection"` (Miyato & Koyama 2018), the logit gains the inner product of a learned
    class embedding with the last conv's input features summed over space: the class then
    speaks to what D has seen, not to its first layer only, which makes G draw the class it is
    asked for more faithfully.

    `classify=True` adds a second head beside the logit: K class logits from the same
    features (AC-GAN's auxiliary classifier, Odena et al. 2017), which the trainer fits to the
    real images' labels and G is asked to satisfy (loss.ac_weight). It needs features that have
    not seen the label (a D given class maps could read the class off its input), so it goes
    with `cond="projection"` or `cond="none"` (AC-GAN's own D: the class only in the head).
    `forward(x, y, classes=True)` returns (logits (B,), class logits (B, K)).
    """
    config_args = {"hidden": "d_hidden", "bn_mean": "bn_init_mean", "input_bn": "d_input_bn",
                   "bn": "d_bn", "mbstd": "d_mbstd", "n_classes": "n_classes", "cond": "d_cond",
                   "classify": "d_classify", "full_view": "d_full_view"}

    def __init__(self, channels: int = 1, hidden: int = 16, bn_mean: float = 1.0,
                 input_bn: bool = True, bn: bool = True, n_classes: int = 0, mbstd: int = 0,
                 cond: str = "concat", classify: bool = False, full_view: bool = False):
        super().__init__()
        if cond not in D_CONDS:
            raise GankitError(f"model.d_cond must be one of {', '.join(D_CONDS)}, got {cond!r}")
        if classify and not n_classes:
            raise GankitError("model.d_classify needs a conditional model: set model.n_classes "
                              "to the number of classes")
        if classify and cond == "concat":
            raise GankitError("model.d_classify needs a D whose features have not seen the class "
                              "(class maps at its input give it away): set model.d_cond="
                              "projection or none")
        if n_classes and cond == "none" and not classify:
            raise GankitError("model.d_cond=none leaves D blind to the class: set "
                              "model.d_classify=true (AC-GAN) or model.d_cond=concat or projection")
        self.n_classes, self.cond, self.classifies = n_classes, cond, classify
        h, maps = hidden, n_classes if cond == "concat" else 0
        width = h * 2 + bool(mbstd)
        last = 6 if full_view else 4                      # the last map's side and kernel
        self.net = nn.Sequential(
            _d_block(channels + maps, h, 4, 2, bn=input_bn and bn),  # (B, h, 13, 13)
            _d_block(h, h * 2, 4, 2, padding=int(full_view), bn=bn),  # (B, 2h, 5, 5) or 6x6
            *([MinibatchStd(mbstd)] if mbstd else []),    # (B, 2h + 1, ...)
            nn.Conv2d(width, 1, last, 2),                 # (B, 1, 1, 1)
        )
        if n_classes and cond == "projection":            # (B, K) class vector -> (B, 2h)
            self.embed = nn.Linear(n_classes, width, bias=False)
        if classify:
            self.classifier = nn.Conv2d(width, n_classes, last, 2)  # (B, K, 1, 1)
        dcgan_init(self, bn_mean)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None,
                classes: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        if classes and not self.classifies:
            raise GankitError("this D has no class head: build it with model.d_classify=true")
        if self.cond == "concat" or not self.n_classes:
            x = with_class_maps(x, y, self.n_classes)     # (B, C + K, H, W)
            return self.net(x).view(len(x))               # (B,) logits
        feats = self.net[:-1](x)                          # (B, 2h, 5, 5) or 6x6
        logits = self.net[-1](feats).view(len(x))         # (B,)
        if self.cond == "projection":
            e = self.embed(class_vector(y, self.n_classes, len(x)).to(x))  # (B, 2h)
            logits = logits + (e * feats.sum((2, 3))).sum(1)
        return (logits, self.classifier(feats).flatten(1)) if classes else logits  # (B, K)


def _stages(size: int) -> int:
    """How many doublings take a 4x4 map to `size` (a power of two, at least 8)."""
    if size < 8 or size & (size - 1):
        raise GankitError(f"the DCGAN family makes square images whose side is a power of two "
                          f"from 8 up (32, 64, 128, ...), not {size}: set data.image_size to one")
    return int(math.log2(size)) - 2


def _width(hidden: int, stage: int, stages: int) -> int:
    """Channels after doubling `stage` (0-based) of `stages`: hidden at the full-size end,
    twice that per halving, at most 8 x hidden (the DCGAN paper's 64x64 widths, and the
    width pytorch/examples and StudioGAN build their other sizes with)."""
    return hidden * min(2 ** (stages - 1 - stage), 8)


class DCGANGenerator(nn.Module):
    """The DCGAN paper's generator built from the image side, as pytorch/examples and
    StudioGAN build theirs: z projected to a 4x4 map by a transposed conv, then one
    stride-2 doubling per power of two up to `size` (32: three, 64: four, 128: five). At
    size 64 it is the paper's network, layer for layer (and `dcgan64`'s weights load)."""
    config_args = {"z_dim": "z_dim", "hidden": "g_hidden", "upsample": "upsample",
                   "n_classes": "n_classes", "bn_mean": "bn_init_mean"}

    def __init__(self, z_dim: int = 100, channels: int = 3, hidden: int = 64,
                 upsample: str = "transposed", n_classes: int = 0, size: int = 64,
                 bn_mean: float = 1.0):
        super().__init__()
        self.z_dim, self.n_classes, self.size = z_dim, n_classes, size
        n = _stages(size)
        widths = [_width(hidden, i, n) for i in range(n)]     # e.g. 64: [8h, 4h, 2h, h]
        blocks = [_g_block(z_dim + n_classes, widths[0], 4, 1, 0, 1, upsample)]  # (B, w0, 4, 4)
        for i in range(1, n):                                 # (B, w_i, 4 * 2^i, 4 * 2^i)
            blocks.append(_g_block(widths[i - 1], widths[i], 4, 2, 1, 2 ** (i + 1), upsample))
        blocks.append(_g_block(widths[-1], channels, 4, 2, 1, size // 2, upsample,
                               last=True))                    # (B, C, size, size)
        self.net = nn.Sequential(*blocks)
        dcgan_init(self, bn_mean)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = with_class(z.view(len(z), self.z_dim), y, self.n_classes)  # (B, z_dim + K)
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """The DCGAN paper's discriminator built from the image side: stride-2 convs halve the
    image down to 4x4 (no BatchNorm on the first, as in the paper; none at all with
    `bn=False`), then a 4x4 conv to one logit. At size 64 it is the paper's network.
    `mbstd` > 0 adds ProGAN's minibatch standard deviation channel before the last conv.
    A conditional D sees the class as maps beside the image (`cond="concat"`) or, with
    `cond="projection"` (Miyato & Koyama 2018), adds to the logit the inner product of a
    learned class embedding with the last conv's input features summed over space."""
    config_args = {"hidden": "d_hidden", "bn": "d_bn", "n_classes": "n_classes",
                   "mbstd": "d_mbstd", "cond": "d_cond"}

    def __init__(self, channels: int = 3, hidden: int = 64, bn: bool = True,
                 n_classes: int = 0, size: int = 64, mbstd: int = 0, cond: str = "concat"):
        super().__init__()
        if cond not in ("concat", "projection"):
            raise GankitError(f"model.d_cond must be concat or projection for model.name=dcgan, "
                              f"got {cond!r}")
        self.n_classes, self.cond = n_classes, cond
        maps = n_classes if cond == "concat" else 0
        n = _stages(size)
        widths = [_width(hidden, i, n) for i in reversed(range(n))]  # e.g. 64: [h, 2h, 4h, 8h]
        layers = [_d_block(channels + maps, widths[0], 4, 2, 1, bn=False)]  # (B, h, size/2, ..)
        for i in range(1, n):                                  # (B, w_i, size / 2^(i+1), ...)
            layers.append(_d_block(widths[i - 1], widths[i], 4, 2, 1, bn=bn))
        if mbstd:
            layers.append(MinibatchStd(mbstd))                 # (B, w + 1, 4, 4)
        width = widths[-1] + bool(mbstd)
        layers.append(nn.Conv2d(width, 1, 4, 1, 0))            # (B, 1, 1, 1)
        self.net = nn.Sequential(*layers)
        if n_classes and cond == "projection":                 # (B, K) class vector -> (B, w)
            self.embed = nn.Linear(n_classes, width, bias=False)
        dcgan_init(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.cond == "concat" or not self.n_classes:
            x = with_class_maps(x, y, self.n_classes)      # (B, C + K, H, W)
            return self.net(x).view(len(x))                # (B,) logits
        feats = self.net[:-1](x)                           # (B, w, 4, 4)
        logits = self.net[-1](feats).view(len(x))          # (B,)
        e = self.embed(class_vector(y, self.n_classes, len(x)).to(x))  # (B, w)
        return logits + (e * feats.sum((2, 3))).sum(1)


class DCGANGenerator64(DCGANGenerator):
    """`dcgan64`: the family at 64x64 (the name older snapshots and presets use)."""
    config_args = {"z_dim": "z_dim", "hidden": "g_hidden", "upsample": "upsample",
                   "n_classes": "n_classes"}

    def __init__(self, z_dim: int = 100, channels: int = 3, hidden: int = 64,
                 upsample: str = "transposed", n_classes: int = 0):
        super().__init__(z_dim, channels, hidden, upsample, n_classes, size=64)


class DCGANDiscriminator64(DCGANDiscriminator):
    """`dcgan64`: the family's D at 64x64."""
    config_args = {"hidden": "d_hidden", "bn": "d_bn", "n_classes": "n_classes"}

    def __init__(self, channels: int = 3, hidden: int = 64, bn: bool = True,
                 n_classes: int = 0):
        super().__init__(channels, hidden, bn, n_classes, size=64)
