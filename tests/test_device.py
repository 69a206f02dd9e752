"""`gankit train --device` picks the device; asking for CUDA where there is none is one clear line."""
import pytest
import torch

from gankit.cli import main


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_device_cuda_without_a_gpu_is_refused(tmp_path, capsys):
    code = main(["train", "--device", "cuda", "--set", "train.steps=1", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "no CUDA device" in err[0] and "train.device=cpu" in err[0]
    assert not (tmp_path / "r").exists()  # refused before anything was written


def test_device_cpu_trains_on_the_cpu(tmp_path):
    import json
    code = main(["train", "--device", "cpu", "--set", "train.steps=1", "--set", "model.g_hidden=4",
                 "--set", "train.n_samples=4", "--out", str(tmp_path / "r")])
    assert code == 0
    assert json.loads((tmp_path / "r" / "config.json").read_text())["train"]["device"] == "cpu"
