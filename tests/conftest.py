from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def fashion_npz() -> Path:
    path = SHARED_DATA / "fashion-mnist-70k.npz"
    if not path.is_file():
        pytest.skip(f"{path} not found: the shared data sets live beside the repository")
    return path


@pytest.fixture
def image_folder(tmp_path) -> Path:
    """Twelve small RGB and grayscale PNGs in nested folders."""
    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    for i in range(12):
        sub = root / f"part{i % 2}"
        sub.mkdir(parents=True, exist_ok=True)
        shape = (40 + i, 48, 3) if i % 3 else (50, 50)
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(sub / f"im{i}.png")
    return root


def pytest_configure(config):
    # The tests' tensors are tiny: one thread is as fast, and immune to the collapse of
    # multi-threaded CPU kernels when other processes share the cores.
    import torch
    torch.set_num_threads(1)


CHROMIUM = "/usr/bin/chromium"
# Chromium on a machine with no outside network: keep it from phoning home at every start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """A headless Debian Chromium driven by Playwright; skips, saying why, where there is none."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package (make test does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
