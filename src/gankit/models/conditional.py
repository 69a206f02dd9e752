"""Class conditioning for the conditional GAN (Mirza & Osindero, 2014; the course's week 4).

G sees a one-hot class vector concatenated to z; D sees the same one-hot vector as constant
maps concatenated to the image channels. Labels reach G and D as LongTensor indices (B,),
or, for G and D alike, as a float class vector (B, n_classes) that is used as is, so a soft
mix of two classes (explore's class interpolation) needs no special path.
"""

import torch
import torch.nn.functional as F

from gankit.errors import GankitError


def class_vector(y, n_classes: int, batch: int) -> torch.Tensor:
    """Labels -> (B, n_classes) float: indices are one-hot encoded, float vectors pass through."""
    if y is None:
        raise GankitError(f"this model is conditional on {n_classes} classes: pass y, a "
                          "LongTensor of class indices (B,) or a float class vector "
                          f"(B, {n_classes})")
    if y.is_floating_point():
        if tuple(y.shape) != (batch, n_classes):
            raise GankitError(f"a float class vector must have shape ({batch}, {n_classes}), "
                              f"got {tuple(y.shape)}")
        return y
    if tuple(y.shape) != (batch,):
        raise GankitError(f"class indices must have shape ({batch},), got {tuple(y.shape)}")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise GankitError(f"class index out of range: got {int(y.min())}..{int(y.max())}, "
                          f"the model has classes 0..{n_classes - 1}")
    return F.one_hot(y.long(), n_classes).float()


def with_class(z: torch.Tensor, y, n_classes: int) -> torch.Tensor:
    """G's input: (B, z_dim) -> (B, z_dim + n_classes), or z itself when unconditional."""
    if not n_classes:
        return z
    return torch.cat([z, class_vector(y, n_classes, len(z)).to(z)], dim=1)


def with_class_maps(x: torch.Tensor, y, n_classes: int) -> torch.Tensor:
    """D's input: (B, C, H, W) -> (B, C + n_classes, H, W), one constant map per class."""
    if not n_classes:
        return x
    v = class_vector(y, n_classes, len(x)).to(x)                     # (B, K)
    maps = v[:, :, None, None].expand(-1, -1, *x.shape[2:])          # (B, K, H, W)
    return torch.cat([x, maps], dim=1)
