"""gankit.data: every source loads to the documented shapes, and bad input fails clearly."""

import gzip
import math
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data import DATA_NAMES, ImageData, IndexSampler, ToyData, load_data, toy
from gankit.errors import GankitError

FASHION_NPZ = Path(__file__).resolve().parents[2] / "shared/data/fashion-mnist-70k.npz"


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> None:
    """IDX as on yann.lecun.com: 0, 0, type 0x08 (uint8), ndim, big-endian sizes, data."""
    raw = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    raw += array.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)


def fake_mnist(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # both ends of the range are always present
    return images, rng.integers(0, 10, n).astype(np.uint8)


def as_pixels(x: torch.Tensor) -> np.ndarray:
    """[-1, 1] floats back to uint8 (N, H, W)."""
    return ((x[:, 0] + 1) * 127.5).round().to(torch.uint8).numpy()


# ---- bundled MNIST ----

def test_bundled_mnist():
    data = load_data("mnist")
    assert isinstance(data, ImageData)
    assert data.images.shape == (8000, 1, 28, 28) and data.shape == (1, 28, 28)  # the train split
    assert data.images.dtype == torch.float32
    assert data.images.min().item() == -1.0 and data.images.max().item() == 1.0
    assert data.labels.dtype == torch.int64
    assert data.labels.unique().tolist() == list(range(10))
    assert data.class_names == [str(d) for d in range(10)]
    # the background (0) maps to -1: most pixels of a digit are background
    assert (data.images == -1).float().mean() > 0.5


def test_bundled_mnist_splits_are_the_evaluators_and_disjoint():
    """Training reads the evaluator's train split; the held-out test split is never in it."""
    from gankit.data.splits import split_indices
    train, test, every = (load_data("mnist", split=s).images for s in ("train", "test", "all"))
    assert (len(train), len(test), len(every)) == (8000, 2000, 10000)
    train_idx, test_idx = split_indices("mnist", 10_000)
    assert torch.equal(train, every[torch.from_numpy(train_idx)])
    assert torch.equal(test, every[torch.from_numpy(test_idx)])
    assert not set(train_idx) & set(test_idx)


def test_other_npz_ignores_the_split(tmp_path):
    """Only the evaluators' files have a fixed split; any other .npz is read whole."""
    import numpy as np
    path = tmp_path / "mine.npz"
    np.savez(path, images=np.zeros((10_000, 28, 28), np.uint8), labels=np.zeros(10_000, np.int64))
    assert len(load_data("mnist", str(path), split="train").images) == 10_000


def test_bundled_mnist_resized_to_three_channels():
    data = load_data("mnist", "", image_size=32, channels=3)
    assert data.images.shape == (8000, 3, 32, 32)
    assert data.images.min() >= -1 and data.images.max() <= 1
    assert torch.equal(data.images[:, 0], data.images[:, 2])


# ---- IDX folders ----

@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    train_x, train_y = fake_mnist(12, seed=1)
    test_x, test_y = fake_mnist(5, seed=2)
    write_idx(tmp_path / "train-images-idx3-ubyte", train_x, gz)
    write_idx(tmp_path / "train-labels-idx1-ubyte", train_y, gz)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", test_x, gz)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", test_y, gz)

    train = load_data("mnist", str(tmp_path))
    assert train.images.shape == (12, 1, 28, 28)
    np.testing.assert_array_equal(as_pixels(train.images), train_x)
    np.testing.assert_array_equal(train.labels.numpy(), train_y)
    assert train.images.min() == -1 and train.images.max() == 1

    test = load_data("fashion", str(tmp_path), split="test")
    np.testing.assert_array_equal(as_pixels(test.images), test_x)
    assert test.class_names[0] == "T-shirt/top" and test.class_names[9] == "Ankle boot"

    both = load_data("mnist", str(tmp_path), split="all")
    np.testing.assert_array_equal(both.labels.numpy(), np.concatenate([train_y, test_y]))


def test_idx_torchvision_layout(tmp_path):
    x, y = fake_mnist(4, seed=3)
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "train-images-idx3-ubyte", x)
    write_idx(raw / "train-labels-idx1-ubyte", y)
    data = load_data("fashion", str(tmp_path), image_size=64)
    assert data.images.shape == (4, 1, 64, 64)


def test_idx_truncated_and_bad_magic_name_the_file(tmp_path):
    x, y = fake_mnist(6, seed=4)
    write_idx(tmp_path / "train-images-idx3-ubyte", x)
    write_idx(tmp_path / "train-labels-idx1-ubyte", y)
    images = tmp_path / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-100])
    with pytest.raises(GankitError, match="train-images-idx3-ubyte.*truncated"):
        load_data("mnist", str(tmp_path))

    write_idx(images, x)
    labels = tmp_path / "train-labels-idx1-ubyte"
    labels.write_bytes(b"\x12\x34" + labels.read_bytes()[2:])
    with pytest.raises(GankitError, match="train-labels-idx1-ubyte.*magic"):
        load_data("mnist", str(tmp_path))


def test_idx_corrupt_gzip_names_the_file(tmp_path):
    x, y = fake_mnist(3, seed=5)
    write_idx(tmp_path / "train-images-idx3-ubyte", x, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte", y)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(GankitError, match="train-images-idx3-ubyte.gz"):
        load_data("mnist", str(tmp_path))


def test_idx_folder_without_files(tmp_path):
    with pytest.raises(GankitError, match="no MNIST IDX files"):
        load_data("mnist", str(tmp_path))


def test_missing_path():
    with pytest.raises(GankitError, match="does not exist"):
        load_data("mnist", "/no/such/dir")


def test_fashion_needs_a_path():
    with pytest.raises(GankitError, match="data.path is empty"):
        load_data("fashion", "")


def test_download_failure_is_one_clear_error(tmp_path, monkeypatch):
    from torchvision import datasets

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(datasets, "MNIST", offline)
    with pytest.raises(GankitError, match="could not download MNIST.*bundled"):
        load_data("mnist", str(tmp_path), download=True)


# ---- .npz ----

def test_npz_round_trip(tmp_path):
    x, y = fake_mnist(7, seed=6)
    np.savez(tmp_path / "d.npz", images=x, labels=y)
    data = load_data("fashion", str(tmp_path / "d.npz"), split="test")  # split ignored
    np.testing.assert_array_equal(as_pixels(data.images), x)
    np.testing.assert_array_equal(data.labels.numpy(), y)


def test_npz_errors(tmp_path):
    x, y = fake_mnist(3, seed=7)
    np.savez(tmp_path / "nolabels.npz", images=x)
    with pytest.raises(GankitError, match="no 'labels'"):
        load_data("mnist", str(tmp_path / "nolabels.npz"))
    np.savez(tmp_path / "flat.npz", images=x.reshape(3, -1), labels=y)
    with pytest.raises(GankitError, match=r"shape \(N, H, W\)"):
        load_data("mnist", str(tmp_path / "flat.npz"))
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(GankitError, match="junk.npz"):
        load_data("mnist", str(tmp_path / "junk.npz"))


@pytest.mark.skipif(not FASHION_NPZ.exists(), reason=f"{FASHION_NPZ} not present")
def test_fashion_npz():
    data = load_data("fashion", str(FASHION_NPZ), split="all")
    assert data.images.shape == (70000, 1, 28, 28)
    assert len(load_data("fashion", str(FASHION_NPZ)).images) == 60000  # the train split
    assert data.images.min() == -1 and data.images.max() == 1
    assert torch.bincount(data.labels).tolist() == [7000] * 10
    assert len(data.class_names) == 10


# ---- folders of images ----

def write_images(root: Path) -> None:
    rng = np.random.default_rng(0)
    (root / "a" / "b").mkdir(parents=True)
    Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(root / "rgb.png")
    Image.fromarray(rng.integers(0, 256, (50, 30), dtype=np.uint8)).save(root / "a" / "gray.PNG")
    Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(root / "a" / "b" / "c.jpg")
    Image.fromarray(rng.integers(0, 256, (33, 70), dtype=np.uint8)).save(root / "a" / "d.JPEG")
    (root / "notes.txt").write_text("not an image")


@pytest.mark.parametrize("channels", [3, 1])
def test_folder(tmp_path, channels):
    write_images(tmp_path)
    data = load_data("folder", str(tmp_path), image_size=16, channels=channels)
    assert data.images.shape == (4, channels, 16, 16)
    assert data.images.min() >= -1 and data.images.max() <= 1
    assert data.labels is None and data.class_names is None


def test_folder_default_size(tmp_path):
    write_images(tmp_path)
    assert load_data("folder", str(tmp_path)).shape == (3, 64, 64)


def test_folder_corrupt_file_is_named(tmp_path):
    write_images(tmp_path)
    (tmp_path / "a" / "x.png").write_bytes(np.random.default_rng(1).bytes(300))
    with pytest.raises(GankitError, match="x.png"):
        load_data("folder", str(tmp_path))


def test_folder_empty_or_missing(tmp_path):
    with pytest.raises(GankitError, match="no .png"):
        load_data("folder", str(tmp_path))
    with pytest.raises(GankitError, match="does not exist"):
        load_data("folder", str(tmp_path / "nope"))
    with pytest.raises(GankitError, match="data.path is empty"):
        load_data("folder", "")


# ---- toy mixtures ----

def test_toy_centres():
    ring = toy.ring_centres()
    assert ring.shape == (8, 2)
    assert torch.allclose(ring.norm(dim=1), torch.full((8,), 2.0))
    assert torch.allclose(ring[2], torch.tensor([0.0, 2.0]), atol=1e-6)  # 90 degrees
    grid = toy.grid_centres()
    assert grid.shape == (25, 2)
    expected = {(-4 + 2 * i, -4 + 2 * j) for i in range(5) for j in range(5)}
    assert {tuple(c) for c in grid.int().tolist()} == expected
    assert toy.RING_STD == 0.02 and toy.GRID_STD == 0.05


@pytest.mark.parametrize("name", ["toy-ring", "toy-grid"])
def test_toy_points(name):
    data = load_data(name, n_toy=5000, seed=3)
    assert isinstance(data, ToyData) and data.shape == (2,)
    assert data.points.shape == (5000, 2) and data.points.dtype == torch.float32
    assert data.labels.shape == (5000,) and data.labels.dtype == torch.int64
    # every point lies within 6 std of the component it came from, and all are used
    dist = (data.points - data.centres[data.labels]).norm(dim=1)
    assert dist.max() < 6 * data.std
    assert len(data.labels.unique()) == len(data.centres)
    # the per-axis spread matches the std
    assert math.isclose((data.points - data.centres[data.labels]).std().item(), data.std,
                        rel_tol=0.05)


def test_toy_seed():
    a, b = load_data("toy-ring", n_toy=100, seed=1), load_data("toy-ring", n_toy=100, seed=1)
    c = load_data("toy-ring", n_toy=100, seed=2)
    assert torch.equal(a.points, b.points) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.points, c.points)


def test_toy_rejects_a_path():
    with pytest.raises(GankitError, match="leave data.path empty"):
        load_data("toy-grid", "/some/dir")


# ---- IndexSampler ----

def test_sampler_covers_each_index_once_per_epoch():
    torch.manual_seed(0)
    s = IndexSampler(10, 3)  # 3 batches per epoch, one index left out each epoch
    for _ in range(4):
        seen = torch.cat([s.next() for _ in range(3)])
        assert len(seen.unique()) == 9 and seen.dtype == torch.int64
    s = IndexSampler(12, 4)
    seen = torch.cat([s.next("cpu") for _ in range(3)])
    assert sorted(seen.tolist()) == list(range(12))


def test_sampler_resume_continues_identically():
    torch.manual_seed(1)
    s = IndexSampler(10, 4)
    for _ in range(3):
        s.next()
    state, rng = s.state_dict(), torch.get_rng_state()
    expected = [s.next() for _ in range(5)]  # crosses an epoch boundary

    torch.manual_seed(999)  # a fresh process would start from some other RNG state
    resumed = IndexSampler(10, 4)
    resumed.load_state_dict(state)
    torch.set_rng_state(rng)
    assert all(torch.equal(a, resumed.next()) for a in expected)
    assert resumed.epoch == s.epoch


def test_sampler_small_data_samples_with_replacement():
    s = IndexSampler(3, 8)
    idx = s.next()
    assert idx.shape == (8,) and idx.min() >= 0 and idx.max() < 3


def test_sampler_rejects_other_data():
    with pytest.raises(GankitError, match="same data and batch size"):
        IndexSampler(10, 4).load_state_dict(IndexSampler(11, 4).state_dict())


# ---- names ----

def test_unknown_name():
    with pytest.raises(GankitError, match="choose one of mnist, fashion, folder"):
        load_data("cifar")
    assert DATA_NAMES == ("mnist", "fashion", "folder", "toy-ring", "toy-grid", "moving-mnist",
                          "video")
