"""The MLP GAN of the course's first week, and a small MLP pair for the 2D toy mixtures.

With `n_classes > 0` the image MLPs are conditional: G's input is z and a one-hot class
vector, D's input the flattened image and the same vector (for a fully connected D, class
maps concatenated to the channels and flattened would only repeat each class bit H*W times).
"""

import math

import torch
from torch import nn

from gankit.models.conditional import class_vector, with_class


class MLPGenerator(nn.Module):
    """Noise -> Linear+BatchNorm+ReLU blocks that double the width -> Linear -> Tanh image."""
    config_args = {"z_dim": "z_dim", "hidden": "g_hidden", "n_classes": "n_classes"}  # -> model.*

    def __init__(self, z_dim: int = 64, shape: tuple = (1, 28, 28), hidden: int = 128,
                 n_blocks: int = 4, n_classes: int = 0):
        super().__init__()
        self.z_dim, self.shape, self.n_classes = z_dim, tuple(shape), n_classes
        widths = [z_dim + n_classes] + [hidden * 2**i for i in range(n_blocks)]  # 64, 128, 256, 512, 1024
        blocks = [nn.Sequential(nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU(inplace=True))
                  for a, b in zip(widths, widths[1:])]                # (B, widths[i+1])
        self.net = nn.Sequential(
            *blocks,
            nn.Linear(widths[-1], math.prod(self.shape)),             # (B, C*H*W)
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = with_class(z.view(len(z), self.z_dim), y, self.n_classes)  # (B, z_dim + K)
        return self.net(z).view(len(z), *self.shape)                   # (B, C, H, W)


class MLPDiscriminator(nn.Module):
    """Image -> Linear+LeakyReLU(0.2) blocks that halve the width -> one logit."""
    config_args = {"hidden": "d_hidden", "n_classes": "n_classes"}

    def __init__(self, shape: tuple = (1, 28, 28), hidden: int = 128, n_blocks: int = 3,
                 n_classes: int = 0):
        super().__init__()
        self.n_classes = n_classes
        widths = [math.prod(shape) + n_classes] + [hidden * 2**i for i in reversed(range(n_blocks))]
        blocks = [nn.Sequential(nn.Linear(a, b), nn.LeakyReLU(0.2, inplace=True))
                  for a, b in zip(widths, widths[1:])]                # (B, widths[i+1])
        self.net = nn.Sequential(*blocks, nn.Linear(widths[-1], 1))   # (B, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = x.flatten(1)                                               # (B, C*H*W)
        if self.n_classes:
            x = torch.cat([x, class_vector(y, self.n_classes, len(x)).to(x)], dim=1)
        return self.net(x).view(len(x))                                # (B,) logits


class ToyGenerator(nn.Module):
    """z -> ReLU MLP -> a point in the plane (linear output: toy data is not in [-1, 1])."""
    config_args = {"z_dim": "z_dim", "hidden": "g_hidden", "n_layers": "n_layers"}

    def __init__(self, z_dim: int = 16, hidden: int = 128, n_layers: int = 3, out_dim: int = 2):
        super().__init__()
        self.z_dim = z_dim
        layers, width = [], z_dim
        for _ in range(n_layers):
            layers += [nn.Linear(width, hidden), nn.ReLU(inplace=True)]  # (B, hidden)
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, out_dim))    # (B, 2)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z)


class ToyDiscriminator(nn.Module):
    """A point in the plane -> LeakyReLU MLP -> one logit."""
    config_args = {"hidden": "d_hidden", "n_layers": "n_layers"}

    def __init__(self, hidden: int = 128, n_layers: int = 3, in_dim: int = 2):
        super().__init__()
        layers, width = [], in_dim
        for _ in range(n_layers):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2, inplace=True)]  # (B, hidden)
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, 1))          # (B, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).view(len(x))                                  # (B,) logits
