"""Image folders above data.stream_mb are read from disk by DataLoader workers while training."""
import json
import subprocess
import sys

import pytest
import torch

from gankit.data import ImageData, load_data
from gankit.data.stream import StreamBatches, StreamedImages
from gankit.errors import GankitError


def test_small_folder_loads_and_big_folder_streams(image_folder):
    assert isinstance(load_data("folder", str(image_folder), image_size=16, stream_mb=100), ImageData)
    data = load_data("folder", str(image_folder), image_size=16, stream_mb=0)
    assert isinstance(data, StreamedImages) and len(data) == 12 and data.shape == (3, 16, 16)


@pytest.mark.parametrize("workers", [0, 2])
def test_streamed_batches_match_the_images_and_resume_in_place(image_folder, workers):
    data = load_data("folder", str(image_folder), image_size=16, stream_mb=0)
    whole = load_data("folder", str(image_folder), image_size=16)  # the same pixels, in memory
    straight = StreamBatches(data, 4, workers, seed=3)
    seen = [straight.next("cpu") for _ in range(7)]                # 3 batches an epoch
    for batch in seen:
        assert batch.shape == (4, 3, 16, 16)
        # every streamed image is one of the folder's images
        assert all(any(torch.equal(im, ref) for ref in whole.images) for im in batch)
    epoch = torch.cat(seen[:3])
    assert len({im.sum().item() for im in epoch}) == 12             # each image once per epoch

    first = StreamBatches(data, 4, workers, seed=3)
    for _ in range(4):
        first.next("cpu")
    resumed = StreamBatches(data, 4, workers, seed=0)
    resumed.load_state_dict(first.state_dict())
    for expected in seen[4:]:
        assert torch.equal(resumed.next("cpu"), expected)


def test_stream_state_refuses_other_data(image_folder):
    data = load_data("folder", str(image_folder), image_size=16, stream_mb=0)
    state = StreamBatches(data, 4, 0, seed=0).state_dict()
    with pytest.raises(GankitError, match="same data and batch size"):
        StreamBatches(data, 6, 0, seed=0).load_state_dict(state)


def test_streamed_training_runs_and_a_corrupt_image_is_one_line(image_folder, tmp_path):
    base = [sys.executable, "-m", "gankit", "train", "--preset", "dcgan64-folder",
            "--set", f"data.path={image_folder}", "--set", "data.stream_mb=0",
            "--set", "data.workers=1", "--set", "train.batch_size=4", "--set", "train.steps=2",
            "--set", "model.g_hidden=4", "--set", "model.d_hidden=4", "--set", "train.threads=1",
            "--set", "train.device=cpu"]
    p = subprocess.run(base + ["--out", str(tmp_path / "ok")], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    assert json.loads((tmp_path / "ok" / "stats.jsonl").read_text().splitlines()[-1])["step"] == 2

    (image_folder / "part0" / "broken.png").write_bytes(b"not a png at all")
    p = subprocess.run(base + ["--set", "train.steps=20", "--out", str(tmp_path / "bad")],
                       capture_output=True, text=True)
    assert p.returncode == 2
    last = p.stderr.strip().splitlines()[-1]
    assert "broken.png" in last and "Traceback" not in p.stderr
