"""The real images a generator is measured against, and their features cached on disk.

For the data sets with a domain evaluator the real side is the evaluator's held-out test split
(`evaluator.split_indices`): 2,000 of the 10,000 bundled MNIST digits, 10,000 of
Fashion-MNIST's 70,000, the images the evaluator never trained on. This holds for the files
the evaluator's card names (the bundled digits, or an .npz whose sha256 is the card's), and
for an image folder: its fixed 15 % held-out split (`data.folder.split_files`), which its own
evaluator (`folder_evaluator.py`) and a run at data.split=train never see. Any other source
(IDX folders read with data.split, another .npz) is used as it loads. The provenance says
which (`describe`).
"""

import hashlib
import json
import os
import sys
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from gankit.artifacts import atomic_write
from gankit.config import DataConfig
from gankit.data.mnist import bundled_test_split
from gankit.data.splits import is_split_file
from gankit.metrics.evaluator import EVALUATORS

HELD_OUT = "evaluator's held-out test split"


def cache_dir() -> Path:
    return Path(os.environ.get("GANKIT_CACHE", Path.home() / ".cache" / "gankit"))


def held_out(data_cfg: dict) -> bool:
    """Is the data the file the evaluator was trained on, so that its test split exists?
    A folder always has its fixed split (`data.folder.split_files`; all of a small one)."""
    if data_cfg["name"] == "folder" or bundled_test_split(data_cfg["name"], data_cfg.get("path")):
        return True  # (the Fashion test split ships with gankit: data/bundled/README.md)
    return data_cfg["name"] in EVALUATORS and is_split_file(data_cfg["name"], data_cfg.get("path"))


def _data_identity(data_cfg: dict) -> str:
    """What names a real data set for the cache: its source file's size and mtime, or 'bundled'."""
    path = data_cfg.get("path") or ""
    if not path or bundled_test_split(data_cfg["name"], path):
        return f"{data_cfg['name']}:bundled"
    p = Path(path).resolve()
    st = p.stat() if p.exists() else None
    return f"{data_cfg['name']}:{p}:{st.st_size if st else 0}:{st.st_mtime_ns if st else 0}"


def _split(data_cfg: dict) -> str:
    """Which images of the source: the held-out split, all of an .npz or folder, or an IDX split."""
    path = data_cfg.get("path") or ""
    if held_out(data_cfg):
        return HELD_OUT
    if not path or path.endswith(".npz"):
        return "all"
    return f"split {data_cfg.get('split', 'train')}"


def describe(data_cfg: dict, n_used: int, n_total: int) -> str:
    """The provenance's `real`, e.g.
    "mnist (bundled, evaluator's held-out test split): 2000 of 2000 images"."""
    bundled = not data_cfg.get("path") or bundled_test_split(data_cfg["name"], data_cfg["path"])
    where = "bundled" if bundled else data_cfg["path"]
    return f"{data_cfg['name']} ({where}, {_split(data_cfg)}): {n_used} of {n_total} images"


def load_real(data_cfg: dict) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1]: every real image metrics may use (see the module notes)."""
    cfg = DataConfig.from_card(data_cfg)
    if held_out(data_cfg):
        cfg.split = "test"
    elif not cfg.path or cfg.path.endswith(".npz"):
        cfg.split = "all"  # another .npz: all of it (data.split picks only in the split files)
    return cfg.load(stream=False).images


def real_images(data_cfg: dict, n_real: int, seed: int = 0) -> tuple[torch.Tensor, int]:
    """Up to n_real real images, a fixed random subset, and how many there were to choose from."""
    x = load_real(data_cfg)
    n_total = len(x)
    if n_real < n_total:  # a fixed subset, the same on every call
        x = x[torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))[:n_real]]
    return x, n_total


def real_features(data_cfg: dict, extractor: str, extractor_sha: str, featurize_fn,
                  n_real: int, seed: int = 0) -> tuple[dict, int]:
    """Features of up to n_real real images, cached on disk per (data, split, extractor)."""
    key_text = json.dumps([_data_identity(data_cfg), _split(data_cfg), extractor_sha, n_real, seed])
    key = hashlib.sha256(key_text.encode()).hexdigest()[:16]
    path = cache_dir() / "real-features" / f"{data_cfg['name']}-{extractor}-{key}.safetensors"
    if path.is_file():
        try:
            t = load_file(path)
            return t, int(t.pop("n_total"))
        except (SafetensorError, OSError, ValueError, KeyError) as e:  # truncated, foreign
            # A cache is only a cache: say so once, and compute it again below.
            print(f"note: the cached real features {path} could not be read "
                  f"({type(e).__name__}); computing them again", file=sys.stderr)
    x, n_total = real_images(data_cfg, n_real, seed)
    tensors = {k: v.contiguous() for k, v in featurize_fn(x).items()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: save_file({**tensors, "n_total": torch.tensor(n_total)},
                                                 str(tmp)))
    except OSError as e:  # a read-only cache costs time on the next call, not this result
        print(f"note: the real features could not be cached in {path.parent} ({e.strerror}); "
              "set GANKIT_CACHE to a folder you may write to", file=sys.stderr)
    return tensors, n_total
