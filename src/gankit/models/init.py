"""Weight initialisation shared by the DCGAN-family models."""

from torch import nn


def dcgan_init(module: nn.Module, bn_mean: float = 1.0) -> None:
    """DCGAN paper: every conv weight from N(0, 0.02); BatchNorm scale from N(bn_mean, 0.02).

    The paper and pytorch/examples centre the BatchNorm scale on 1; the course's week-2
    notebook centres it on 0, so `dcgan-course` passes `bn_mean=0.0` to stay exact.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, bn_mean, 0.02)
            nn.init.zeros_(m.bias)
