"""MNIST and Fashion-MNIST: the bundled 10k digits, IDX folders, .npz files, downloads.

Everything here returns plain NumPy arrays, `images` uint8 (N, H, W) with 0 = background
and `labels` int64 (N,); `gankit.data.load_data` turns them into tensors.

The IDX reader is written by hand: the format is a few header bytes, and torchvision's
reader (`torchvision.datasets.mnist.read_image_file`) is private API that also insists on
its own `<root>/MNIST/raw` layout, while people keep these files in any folder.
"""

from __future__ import annotations

import gzip
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np

from gankit.errors import GankitError

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

BUNDLED_MNIST = "bundled/mnist-10k.npz"
# The Fashion evaluator's 10,000 held-out images (bundled/README.md): the test split of
# fashion-mnist-70k.npz, shipped so that gankit eval and attack need no download.
BUNDLED_FASHION_TEST = "bundled/fashion-mnist-test-10k.npz"
FASHION_FILE = "fashion-mnist-70k.npz"  # the file the Fashion evaluator's split is defined on

# Where torchvision puts the raw files under its `root`, per data set.
_TORCHVISION_DIR = {"mnist": "MNIST", "fashion": "FashionMNIST"}
_TITLE = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}

# IDX type byte -> big-endian NumPy dtype (http://yann.lecun.com/exdb/mnist/, bottom).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

_SPLIT_PREFIXES = {"train": ["train"], "test": ["t10k"], "all": ["train", "t10k"]}
_IDX_HINT = ("give a directory of MNIST IDX files (train-images-idx3-ubyte, ...) "
             "or an .npz with 'images' and 'labels'")
_FASHION_HINT = (f"give the path of {FASHION_FILE} (or any .npz with 'images' and 'labels'), "
                 "or a directory of Fashion-MNIST IDX files (train-images-idx3-ubyte, ... from "
                 "https://github.com/zalandoresearch/fashion-mnist), or set data.download=true "
                 "with a directory to fetch them into")


def _hint(name: str) -> str:
    return _FASHION_HINT if name == "fashion" else _IDX_HINT


def read_idx(path: Path) -> np.ndarray:
    """One IDX file (optionally .gz) as an array of the shape its header gives."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise GankitError(f"cannot read IDX file '{path}' ({e}): "
                          "replace it with an intact copy") from e

    # Header: two zero bytes, a type byte, a byte giving ndim, then ndim big-endian int32 sizes.
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise GankitError(f"'{path}' is not an IDX file (bad magic number "
                          f"{raw[:4].hex() or 'missing'}): {_IDX_HINT}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise GankitError(f"IDX file '{path}' is truncated inside its header: "
                          "replace it with an intact copy")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">i4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(raw) - header != expected:
        what = "truncated" if len(raw) - header < expected else "longer than its header says"
        raise GankitError(f"IDX file '{path}' is {what} ({len(raw) - header} data bytes, "
                          f"header says {expected} for shape {dims}): "
                          "replace it with an intact copy")
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _find_file(folder: Path, stem: str) -> Path | None:
    # Kaggle and Windows unzips name them "train-images.idx3-ubyte"; accept both spellings.
    for name in (stem, stem.replace("-idx", ".idx")):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _idx_folder(root: Path, name: str, prefixes: list[str]) -> Path:
    """The folder under `root` that holds the IDX files, trying torchvision's layout too."""
    folders = [root, root / _TORCHVISION_DIR[name] / "raw"]
    for folder in folders:
        if all(_find_file(folder, f"{p}-{kind}") for p in prefixes
               for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")):
            return folder
    wanted = ", ".join(f"{p}-images-idx3-ubyte[.gz], {p}-labels-idx1-ubyte[.gz]" for p in prefixes)
    raise GankitError(f"no {_TITLE[name]} IDX files in '{root}' (looked for {wanted} in "
                      f"{' and '.join(str(f) for f in folders)}): {_IDX_HINT}, "
                      "or set data.download=true")


def read_idx_folder(root: Path, name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """images uint8 (N, H, W), labels int64 (N,) from the IDX files of `split`."""
    folder = _idx_folder(root, name, _SPLIT_PREFIXES[split])
    images, labels = [], []
    for prefix in _SPLIT_PREFIXES[split]:
        image_file = _find_file(folder, f"{prefix}-images-idx3-ubyte")
        label_file = _find_file(folder, f"{prefix}-labels-idx1-ubyte")
        x, y = read_idx(image_file), read_idx(label_file)
        if x.ndim != 3 or x.dtype != np.uint8:
            raise GankitError(f"'{image_file}' holds {x.dtype} of shape {x.shape}, "
                              "not uint8 images (N, H, W): point data.path at MNIST-style files")
        if y.ndim != 1 or len(y) != len(x):
            raise GankitError(f"'{label_file}' holds shape {y.shape} but '{image_file}' has "
                              f"{len(x)} images: use the label file that belongs to these images")
        images.append(x)
        labels.append(_check_labels(y, label_file))
    return np.concatenate(images), np.concatenate(labels)


def read_npz(path, shown: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """images uint8 (N, H, W), labels int64 (N,) from an .npz; `shown` names it in errors."""
    shown = shown or str(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            for key in ("images", "labels"):
                if key not in npz.files:
                    raise GankitError(f"'{shown}' has no '{key}' array (it has {npz.files}): "
                                      "save the file with np.savez(path, images=..., labels=...)")
            images, labels = npz["images"], npz["labels"]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise GankitError(f"cannot read '{shown}' as an .npz ({e}): "
                          "give an .npz made by np.savez with 'images' and 'labels'") from e
    if images.ndim != 3 or images.dtype != np.uint8:
        raise GankitError(f"'{shown}': 'images' is {images.dtype} of shape {images.shape}, "
                          "expected uint8 of shape (N, H, W) with 0 = background, 255 = ink")
    if labels.shape != (len(images),):
        raise GankitError(f"'{shown}': 'labels' has shape {labels.shape}, expected "
                          f"({len(images)},), one label per image")
    return images, _check_labels(labels, shown)


def _check_labels(labels: np.ndarray, where) -> np.ndarray:
    if len(labels) == 0:
        raise GankitError(f"'{where}' holds no images: give a non-empty data set")
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() > 9:
        raise GankitError(f"'{where}': labels must be integers 0..9, got {labels.dtype} "
                          f"in [{labels.min()}, {labels.max()}]: check the file is MNIST-style")
    return labels.astype(np.int64)


def read_bundled(name: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 MNIST digits shipped inside the package, or (fashion) the Fashion
    evaluator's 10,000 held-out test images (see bundled/README.md)."""
    file = BUNDLED_FASHION_TEST if name == "fashion" else BUNDLED_MNIST
    ref = resources.files("gankit.data").joinpath(file)
    # as_file gives a real path even when the package is installed as a zip.
    with resources.as_file(ref) as path:
        return read_npz(path, shown=f"gankit/data/{file}")


def bundled_test_split(name: str, path: str | None) -> bool:
    """Does the Fashion test split come from the package: no path, or the evaluator's file
    named (as a shipped generator's card names it) but not on this machine?"""
    if name != "fashion":
        return False
    return not path or (Path(path).name == FASHION_FILE and not Path(path).expanduser().exists())


def download(root: Path, name: str) -> None:
    """Fetch the four IDX files into `root`/<MNIST|FashionMNIST>/raw via torchvision."""
    from torchvision import datasets  # only here: importing it costs a second

    cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    try:
        cls(root=str(root), train=True, download=True)  # fetches train and test files
    except Exception as e:  # urllib, http, checksum and file errors all end the same way
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise GankitError(f"could not download {_TITLE[name]} into '{root}' ({reason}); "
                          "without network use the bundled MNIST (leave data.path empty) "
                          f"or {_IDX_HINT}") from e


def load(name: str, path: str | None, split: str, download_missing: bool
         ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """images uint8 (N, H, W), labels int64 (N,), class names for `mnist` or `fashion`."""
    classes = MNIST_CLASSES if name == "mnist" else FASHION_CLASSES
    if split == "test" and not download_missing and bundled_test_split(name, path):
        return (*read_bundled(name), classes)
    if not path:
        if download_missing:
            raise GankitError("data.download=true needs data.path: give the directory "
                              "to download into")
        if name == "fashion":
            raise GankitError("data.path is empty, and of Fashion-MNIST only the evaluator's "
                              "10,000 held-out test images are bundled (data.split=test): to "
                              f"train, {_FASHION_HINT}")
        return (*read_bundled(), classes)

    root = Path(path).expanduser()
    if download_missing:
        download(root, name)
    if not root.exists():
        raise GankitError(f"data.path '{root}' does not exist: {_hint(name)}")
    if root.is_file():
        if root.suffix.lower() != ".npz":
            raise GankitError(f"data.path '{root}' is a file but not an .npz: {_hint(name)}")
        return (*read_npz(root), classes)
    return (*read_idx_folder(root, name, split), classes)
