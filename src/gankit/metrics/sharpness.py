"""Sharpness: the variance of the Laplacian (Pech-Pacheco et al. 2000), a standard blur measure.

Each image is taken to grey on the [0, 1] scale and filtered with the 3x3 Laplacian; the
variance of the response over the image is large where edges are crisp and small where they
are smeared, which is how VAE samples differ from GAN samples. The score is the mean over
images. Written with one `conv2d`: a fixed 3x3 filter needs no library.
"""

import torch
import torch.nn.functional as F

LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0],
                          [1.0, -4.0, 1.0],
                          [0.0, 1.0, 0.0]])


def laplacian_variance(images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> (N,) variance of the Laplacian of each grey image."""
    kernel = LAPLACIAN.view(1, 1, 3, 3)
    out = []
    for x in images.split(batch_size):
        grey = ((x.float().clamp(-1, 1) + 1) / 2).mean(1, keepdim=True)  # (B, 1, H, W) in [0, 1]
        response = F.conv2d(grey, kernel)                                 # (B, 1, H-2, W-2)
        out.append(response.flatten(1).var(1))                            # (B,)
    return torch.cat(out)


def sharpness(images: torch.Tensor) -> float:
    """Mean variance of the Laplacian over a set of images."""
    return float(laplacian_variance(images).mean())
