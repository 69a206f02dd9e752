"""Image metrics in a feature space: FID, KID, IS (torchmetrics), precision/recall, coverage.

All functions take features already computed by an extractor (the domain evaluator's
penultimate layer, or Inception's pool3), so the extractor runs once per image set and real
features can be cached. torchmetrics does the FID/KID/IS math: it is handed the features
through an identity "extractor".
"""

import warnings

import torch
from torch import nn


# torchmetrics warns that KID and IS keep every feature in memory; that is the intent here.
warnings.filterwarnings("ignore", message=r".*will save all extracted features in buffer")


class _Given(nn.Identity):
    """A feature "extractor" that returns its input: the features were computed already."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features


def fid(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to (N, F) real and (M, F) fake features."""
    from torchmetrics.image.fid import FrechetInceptionDistance  # a second to import: on use
    metric = FrechetInceptionDistance(feature=_Given(real.shape[1]))
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return float(metric.compute())


def kid(real: torch.Tensor, fake: torch.Tensor, subsets: int = 100,
        subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance (cubic polynomial kernel MMD^2): mean and std over subsets."""
    size = min(subset_size, len(real), len(fake))
    from torchmetrics.image.kid import KernelInceptionDistance  # a second to import: on use
    metric = KernelInceptionDistance(feature=_Given(real.shape[1]), subsets=subsets,
                                     subset_size=size)
    metric.update(real.float(), real=True)
    metric.update(fake.float(), real=False)
    with torch.random.fork_rng():  # KID draws random subsets: keep it reproducible
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


def inception_score(logits: torch.Tensor, splits: int = 10, seed: int = 0) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) on the classifier's softmax: mean and std over splits."""
    from torchmetrics.image.inception import InceptionScore  # a second to import: on use
    metric = InceptionScore(feature=_Given(logits.shape[1]), splits=splits)
    metric.update(logits.float())
    with torch.random.fork_rng():  # IS shuffles before splitting
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


def _knn_radii(x: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """Distance from each row of x to its k-th nearest other row."""
    radii = []
    for block in x.split(chunk):
        d = torch.cdist(block, x)                           # (chunk, N)
        radii.append(d.kthvalue(k + 1, dim=1).values)       # +1: the point itself is at 0
    return torch.cat(radii)


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor,
            chunk: int) -> torch.Tensor:
    """For each point: is it within radii[j] of some centre j?"""
    hits = []
    for block in points.split(chunk):
        hits.append((torch.cdist(block, centres) <= radii).any(dim=1))
    return torch.cat(hits)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3,
                     chunk: int = 1000) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019).

    Each set's manifold is the union of balls around its points reaching the k-th nearest
    neighbour. Precision: share of fakes inside the real manifold (quality). Recall: share of
    reals inside the fake manifold (diversity). Hand-written: torchmetrics has no k-NN
    precision/recall.
    """
    real, fake = real.float(), fake.float()
    precision = _inside(fake, real, _knn_radii(real, k, chunk), chunk).float().mean()
    recall = _inside(real, fake, _knn_radii(fake, k, chunk), chunk).float().mean()
    return float(precision), float(recall)


def class_coverage(logits: torch.Tensor, n_classes: int | None = None,
                   min_share: float = 0.01) -> dict:
    """How the classifier spreads generated samples over classes.

    covered: classes with at least `min_share` of the samples; kl_uniform: KL(histogram ||
    uniform) in nats, 0 when every class is equally frequent, log(K) when all are one class.
    """
    n_classes = n_classes or logits.shape[1]
    hist = torch.bincount(logits.argmax(1), minlength=n_classes).double()
    p = hist / hist.sum()
    nz = p > 0
    kl = float((p[nz] * (p[nz] * n_classes).log()).sum())
    return {"covered": int((p >= min_share).sum()), "n_classes": n_classes,
            "kl_uniform": kl, "histogram": [int(h) for h in hist.tolist()]}


def class_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> dict:
    """For a conditional G: how often the classifier names the class each sample was asked for.

    overall: the share of all samples; per_class[k]: the share of class-k samples called k.
    """
    hit = (logits.argmax(1) == labels).double()
    n_classes = max(int(labels.max()) + 1, logits.shape[1])
    per_class = [float(hit[labels == k].mean()) if (labels == k).any() else None
                 for k in range(n_classes)]
    return {"overall": float(hit.mean()), "per_class": per_class,
            "min": min(a for a in per_class if a is not None)}
