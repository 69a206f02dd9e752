"""A convolutional variational autoencoder (Kingma & Welling 2014) for 28x28 images.

The decoder is p(x | z): z -> a Bernoulli probability per pixel. Its `forward(z)` returns
that mean image on gankit's [-1, 1] scale, so it is a generator like any other (plain
`G(z)`, `z_dim` attribute) and is what a VAE run saves as its generator snapshot. Training
code (the ELBO) lives in `gankit.training.vae`, not here.
"""

import torch
from torch import nn

from gankit.models.blocks import up_conv


class VAEEncoder(nn.Module):
    """q(z | x): two stride-2 convs, then the mean and log-variance of a diagonal Gaussian."""
    config_args = {"z_dim": "z_dim", "hidden": "d_hidden"}  # arg -> model.* key

    def __init__(self, z_dim: int = 16, channels: int = 1, hidden: int = 32):
        super().__init__()
        h = hidden
        self.net = nn.Sequential(
            nn.Conv2d(channels, h, 4, 2, 1), nn.LeakyReLU(0.2),   # (B, h, 14, 14)
            nn.Conv2d(h, 2 * h, 4, 2, 1), nn.LeakyReLU(0.2),      # (B, 2h, 7, 7)
            nn.Flatten(),                                         # (B, 98h)
        )
        self.mu = nn.Linear(2 * h * 49, z_dim)                    # (B, z_dim)
        self.logvar = nn.Linear(2 * h * 49, z_dim)                # (B, z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.net(x)
        return self.mu(f), self.logvar(f)


class VAEDecoder(nn.Module):
    """p(x | z): a linear layer to a 7x7 map, then two doublings to 28x28 pixel logits."""
    config_args = {"z_dim": "z_dim", "hidden": "g_hidden", "upsample": "upsample"}

    def __init__(self, z_dim: int = 16, channels: int = 1, hidden: int = 32,
                 upsample: str = "transposed"):
        super().__init__()
        self.z_dim, self.hidden = z_dim, hidden
        h = hidden
        self.fc = nn.Sequential(nn.Linear(z_dim, 2 * h * 49), nn.ReLU())  # (B, 98h)
        self.net = nn.Sequential(
            up_conv(2 * h, h, 4, 2, 1, 7, upsample, bias=True), nn.ReLU(),  # (B, h, 14, 14)
            up_conv(h, channels, 4, 2, 1, 14, upsample, bias=True),         # (B, C, 28, 28)
        )

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        """(B, z_dim) -> (B, C, 28, 28) Bernoulli logits of each pixel being white."""
        return self.net(self.fc(z).view(len(z), 2 * self.hidden, 7, 7))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        # The Bernoulli mean σ(l) on [-1, 1]: 2σ(l) - 1 = tanh(l / 2).
        return torch.tanh(self.logits(z) / 2)
