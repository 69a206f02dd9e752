"""Messages that name the real problem and its fix, the shipped Fashion test split, places that
cannot be written, and the report's reading of what a run directory holds."""

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import gankit
from gankit.cli import main
from gankit.data import load_data
from gankit.data.splits import SPLIT_FILES, split_indices
from gankit.errors import GankitError
from gankit.generator import Generator, load
from gankit.metrics.real import describe, held_out, load_real
from gankit.train.run import check_writable, unwritable

BUNDLED = Path(gankit.__file__).parent / "data" / "bundled"
SHARED_FASHION = Path(__file__).parents[2] / "shared" / "data" / "fashion-mnist-70k.npz"
TINY = ["--set", "train.batch_size=8", "--set", "model.g_hidden=4", "--set", "model.d_hidden=4",
        "--set", "train.n_samples=4", "--set", "train.device=cpu", "--set", "train.report=false"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("input") / "run"
    assert main(["train", "--out", str(out), "--set", "train.steps=2", *TINY]) == 0
    return out


def test_the_bundled_fashion_test_split_is_the_evaluators_and_named_in_its_readme():
    path = BUNDLED / "fashion-mnist-test-10k.npz"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sha in (BUNDLED / "README.md").read_text()
    assert "MIT License" in (BUNDLED / "README.md").read_text()
    assert path.stat().st_size < 6_000_000
    with np.load(path) as f:
        images, labels = f["images"], f["labels"]
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert sorted(np.bincount(labels).tolist())[0] > 900
    if SHARED_FASHION.is_file():  # the file the evaluator trained on: the same images
        with np.load(SHARED_FASHION) as f:
            _, test = split_indices("fashion", len(f["images"]))
            assert np.array_equal(f["images"][test], images)
            assert np.array_equal(f["labels"][test], labels)


@pytest.mark.parametrize("path", ["", "fashion-mnist-70k.npz", "elsewhere/fashion-mnist-70k.npz"])
def test_fashion_metrics_use_the_shipped_test_split_where_the_file_is_not_here(path):
    cfg = {"name": "fashion", "path": path}
    assert held_out(cfg)
    x = load_real(cfg)
    assert tuple(x.shape) == (10_000, 1, 28, 28) and -1 <= x.min() < x.max() <= 1
    assert describe(cfg, 10, 10_000).startswith("fashion (bundled, evaluator's held-out")


def test_fashion_training_without_its_file_says_where_to_get_it():
    with pytest.raises(GankitError, match="only the evaluator's 10,000 held-out test images"):
        load_data("fashion")
    with pytest.raises(GankitError, match="fashion-mnist-70k.npz.*Fashion-MNIST IDX") as e:
        load_data("fashion", "fashion-mnist-70k.npz")
    assert "MNIST IDX" not in str(e.value).replace("Fashion-MNIST IDX", "")
    assert SPLIT_FILES["fashion"].file == "fashion-mnist-70k.npz"


def test_messages_name_the_real_problem(run, capsys):
    assert main(["sample", str(run / "state.pt"), "--out", str(run.parent / "a.png")]) == 2
    err = capsys.readouterr().err
    assert "training state" in err and f"give the run directory {run}" in err
    assert "state.pt.safetensors" not in err
    assert main(["attack", "fgsm", "--model", str(run / "config.json")]) == 2
    err = capsys.readouterr().err
    assert f"give the run directory {run}" in err and "config.safetensors" not in err
    assert main(["sample", str(run), "--class", "3", "--out", str(run.parent / "a.png")]) == 2
    assert "--set model.n_classes=10" in capsys.readouterr().err
    with pytest.raises(GankitError, match="mnist-dcgan") as e:
        gankit.load("no-such-generator")
    assert "--pretrained NAME" in str(e.value)


def test_an_unconditional_folder_run_suggests_its_own_class_count(tmp_path):
    data = tmp_path / "pictures"
    for k in range(9):
        (data / f"class-{k}").mkdir(parents=True)
    g = load(pretrained="mnist-dcgan")
    card = {**g.card, "data": {"name": "folder", "path": str(data)}}
    with pytest.raises(GankitError, match="model.n_classes=9 "):
        Generator(g.module, card).class_index(3)
    card["data"]["path"] = str(tmp_path / "gone")
    with pytest.raises(GankitError, match="model.n_classes=-1 "):
        Generator(g.module, card).class_index(3)


def test_a_run_stopped_by_its_time_limit_says_resume_continues_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--set", "train.steps=1000000",
                 "--set", "train.time_limit=0.5", *TINY]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"stopped at step \d+ of 1000000 by train.time_limit: gankit train "
                     rf"--resume {re.escape(str(out))} continues it", printed)


def test_the_report_of_an_image_run_shows_only_keys_it_read_and_no_one_frame_timeline(run):
    assert main(["report", str(run), "--out", str(run.parent / "r.html")]) == 0
    page = (run.parent / "r.html").read_text()
    table = page[page.index("<h2>Config</h2>"):]
    for key in ("frames=", "digits=", "n_clips=", "n_toy=", "motion=", "d_cond="):
        assert key not in table
    assert "image_size=" in table and "g_hidden=" in table
    assert "One sample grid so far" in page and not (run / "timeline.gif").exists()


def test_a_stray_png_is_left_out_with_a_note(run, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    shutil.copy(copy / "samples" / "step-000002.png", copy / "samples" / "favourite.png")
    assert main(["report", str(copy)]) == 0
    assert "favourite.png" in capsys.readouterr().err
    assert "favourite" not in (copy / "report.html").read_text()


def test_an_unwritable_place_is_named_before_work(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert "is a file, not a folder" in unwritable(a_file / "run" / "deeper")
    assert unwritable(tmp_path / "new" / "run") is None
    assert unwritable(a_file) is None  # a file to replace: its folder is what counts
    with pytest.raises(GankitError, match="choose a folder you may write to"):
        check_writable(a_file / "x.png", "--out")
    assert list(tmp_path.iterdir()) == [a_file]  # the probe leaves nothing behind


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into a read-only folder: chmod proves nothing")
def test_a_read_only_folder_is_refused_for_train_sample_and_report(run, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert main(["train", "--out", str(locked / "run"), *TINY]) == 2
        assert main(["sample", "--pretrained", "mnist-dcgan", "--out",
                     str(locked / "a.png")]) == 2
        copy = locked / "copy"
        locked.chmod(0o755)
        shutil.copytree(run, copy)
        copy.chmod(0o555)
        assert main(["report", str(copy)]) == 2
        err = capsys.readouterr().err
        assert err.count("cannot be written") == 3
    finally:
        for p in (locked, locked / "copy"):
            if p.exists():
                p.chmod(0o755)


def test_a_card_whose_arguments_do_not_match_its_weights_allocates_nothing(run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    card = json.loads((copy / "generator.json").read_text())
    card["kwargs"]["hidden"] = 3000  # 4.6 GB of weights if it were built
    (copy / "generator.json").write_text(json.dumps(card))
    with pytest.raises(GankitError, match=r"\(4, 64\) in the file, \(3000, 64\) in the card"):
        load(str(copy))
