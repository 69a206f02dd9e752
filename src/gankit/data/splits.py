"""The fixed train/test split of the two files the domain evaluators were trained on.

The MNIST and Fashion-MNIST evaluators (`gankit.metrics.evaluator`) trained on the `train`
part of one file each, and every metric compares generated images with the `test` part, the
images no evaluator saw. Training a GAN on the same file reads only the `train` part too
(`data.split=train`, the default), so the held-out images stay held out from the GAN as well.

    train_idx, test_idx = split_indices("mnist", 10_000)   # 8,000 and 2,000 indices, sorted
    is_split_file("fashion", "fashion-mnist-70k.npz")      # True when its sha256 matches
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from gankit.errors import GankitError


class SplitFile(NamedTuple):
    file: str          # the file's usual name
    sha256: str        # what identifies it (the evaluator cards record the same hash)
    n_total: int
    n_test: int


# The split: perm = numpy default_rng(SPLIT_SEED).permutation(n_total); the first n_test
# indices are the test split, the rest train.
SPLIT_SEED = 0
SPLIT_FILES = {
    "mnist": SplitFile("mnist-10k.npz",
                       "0217e13bd0668deb198aa7d305edbf0331eb89f8a6e7dd226e03d1aa3a9bd4ef",
                       10_000, 2_000),
    "fashion": SplitFile("fashion-mnist-70k.npz",
                         "680f8d9f40a1f30289935f64bcb142fb8283fe6328fac14f2ef06ae014334671",
                         70_000, 10_000),
}
SPLIT_SIZES = {name: (f.n_total, f.n_test) for name, f in SPLIT_FILES.items()}
DATA_FILES = {name: f.file for name, f in SPLIT_FILES.items()}


def split_indices(dataset: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, test_idx) into the split file of `n` images; the same on every machine."""
    if dataset not in SPLIT_FILES:
        raise GankitError(f"no fixed split for data set {dataset!r}; available: "
                          f"{', '.join(SPLIT_FILES)}")
    n_total, n_test = SPLIT_SIZES[dataset]
    if n != n_total:
        raise GankitError(f"{dataset} split is defined for {n_total} images, got {n}; "
                          f"use the file {DATA_FILES[dataset]}")
    perm = np.random.default_rng(SPLIT_SEED).permutation(n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


@functools.lru_cache(maxsize=8)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of a file; size and mtime are in the cache key, so a changed file is hashed again."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_split_file(name: str, path: str | None) -> bool:
    """Is this the file an evaluator was trained on (empty path: the bundled MNIST digits)?"""
    if name not in SPLIT_FILES:
        return False
    if not path:
        return name == "mnist"  # the bundled digits are mnist-10k.npz
    p = Path(path).expanduser()
    if p.suffix.lower() != ".npz" or not p.is_file():
        return False
    st = p.stat()
    return _file_sha256(str(p.resolve()), st.st_size, st.st_mtime_ns) == SPLIT_FILES[name].sha256
