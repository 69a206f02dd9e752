"""A labelled folder's own evaluator (gankit.metrics.folder_evaluator): `gankit evaluator train`
caches it by the folder's content, `find` looks it up from any copy, folders it cannot learn
from are refused in one line, and `gankit eval` on a run trained on the folder measures it
against the folder's held-out split. Every test writes to its own GANKIT_CACHE."""

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from gankit.cli import main
from gankit.data import folder
from gankit.errors import GankitError
from gankit.metrics import check_metrics, folder_evaluator

# Three classes a small CNN tells apart in two epochs: a colour and a shape each.
CLASSES = {"blue": ((40, 70, 220), "ellipse"), "green": ((40, 180, 60), "rectangle"),
           "red": ((220, 40, 40), "triangle")}
TINY_RUN = ["train.steps=2", "model.g_hidden=4", "model.d_hidden=4", "model.z_dim=8",
            "train.batch_size=8", "train.report=false", "data.image_size=16", "train.time_limit=0",
            "train.ema_decay=0", "train.diffaugment=", "train.device=cpu"]


def draw(path: Path, name: str, rng: np.random.Generator) -> None:
    """A 16x16 RGBA PNG of class `name`: its shape in its colour on a transparent ground,
    shifted by up to a pixel, with a little noise in the colour channels."""
    colour, shape = CLASSES[name]
    im = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    x, y = rng.integers(-1, 2, size=2)
    if shape == "triangle":
        d.polygon([(8 + x, 2 + y), (2 + x, 13 + y), (14 + x, 13 + y)], fill=(*colour, 255))
    else:
        getattr(d, shape)([3 + x, 3 + y, 12 + x, 12 + y], fill=(*colour, 255))
    a = np.asarray(im).astype(np.int16)
    a[..., :3] += rng.integers(-12, 13, a[..., :3].shape, dtype=np.int16)
    Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGBA").save(path)


def labelled_folder(root: Path, classes=tuple(CLASSES), per_class: int = 25,
                    seed: int = 0) -> Path:
    """root/<class>/NN.png, per_class images of each class."""
    rng = np.random.default_rng(seed)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            draw(root / name / f"{i:02d}.png", name, rng)
    return root


def sets(data: Path, *extra: str) -> list[str]:
    return [a for kv in (f"data.path={data}", *TINY_RUN, *extra) for a in ("--set", kv)]


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one line, no traceback
    return err[0]


def last_record(run: Path) -> dict:
    return json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One folder, its evaluator trained through the CLI into a cache of this module's own,
    and two tiny runs on the folder (unconditional, and conditional on its 3 classes)."""
    root = tmp_path_factory.mktemp("folder-evaluator")
    data = labelled_folder(root / "shapes")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANKIT_CACHE", str(root / "cache"))
        rc = main(["evaluator", "train", "--data", str(data), "--epochs", "2"])
        for name, extra in (("run", ()), ("run-cond", ("model.n_classes=3",))):
            assert main(["train", "--preset", "dcgan32-folder", *sets(data, *extra),
                         "--out", str(root / name)]) == 0
    return {"data": data, "cache": root / "cache", "rc": rc, "run": root / "run",
            "run_cond": root / "run-cond"}


@pytest.fixture
def cache(world, tmp_path, monkeypatch) -> Path:
    """A copy of the module's cache (its evaluator included) that this test may change."""
    path = shutil.copytree(world["cache"], tmp_path / "cache")
    monkeypatch.setenv("GANKIT_CACHE", str(path))
    return path


@pytest.fixture
def empty_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "empty-cache"))
    return tmp_path / "empty-cache"


def test_train_writes_the_cache_and_a_second_call_reuses_it(world, cache, capsys):
    assert world["rc"] == 0
    stem = cache / "evaluators" / f"folder-{folder_evaluator.fingerprint(world['data'])[:16]}"
    weights = stem.with_suffix(".safetensors")
    assert weights.is_file() and stem.with_suffix(".json").is_file()
    before = weights.read_bytes()

    assert main(["evaluator", "train", "--data", str(world["data"]), "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert f"the folder already has an evaluator: {weights}" in out and "--force" in out
    assert "epoch" not in out  # not trained again

    assert main(["evaluator", "train", "--data", str(world["data"]), "--epochs", "1",
                 "--force"]) == 0
    out = capsys.readouterr().out
    assert "held-out accuracy" in out and f"wrote {weights}" in out
    assert weights.read_bytes() != before  # one epoch, not two: other weights
    assert sorted(p.name for p in (cache / "evaluators").iterdir()) == [stem.name + ".json",
                                                                       weights.name]


def test_card_says_what_it_learned_and_on_which_split(world, cache):
    stem, card = folder_evaluator.find(str(world["data"]))
    assert stem.parent == cache / "evaluators"
    files = folder.list_images(world["data"])
    assert card["class_names"] == sorted(CLASSES)
    assert card["kwargs"]["n_classes"] == 3 and card["data_shape"] == [3, 32, 32]
    assert card["data"]["fingerprint"] == folder_evaluator.fingerprint(world["data"])
    assert card["data"]["n_images"] == len(files) == 75
    n_train = len(folder.split_files(world["data"], files, "train"))
    n_test = len(folder.split_files(world["data"], files, "test"))
    assert (card["split"]["n_train"], card["split"]["n_test"]) == (n_train, n_test)
    assert n_train + n_test == 75 and n_test > 0
    assert 0.0 <= card["test_accuracy"] <= 1.0
    assert math.isfinite(card["real_vs_real_fid"]) and card["real_vs_real_fid"] >= 0
    assert card["training"]["epochs"] == 2


def test_find_follows_the_content_not_the_place(world, cache, tmp_path):
    stem, _ = folder_evaluator.find(str(world["data"]))
    copy = shutil.copytree(world["data"], tmp_path / "elsewhere" / "my-copy")
    assert folder_evaluator.find(str(copy))[0] == stem
    f = copy / "red" / "03.png"
    f.write_bytes(f.read_bytes() + b"\0")  # one byte more in one file: another folder
    assert folder_evaluator.find(str(copy)) is None
    assert folder_evaluator.find(str(world["data"]))[0] == stem  # the original is untouched
    assert folder_evaluator.find(None) is None
    assert folder_evaluator.find(str(tmp_path / "nowhere")) is None


def test_an_explicit_out_stem_is_written_there_and_kept(world, cache, tmp_path, capsys):
    before = sorted((cache / "evaluators").iterdir())
    mine = tmp_path / "mine"
    args = ["evaluator", "train", "--data", str(world["data"]), "--epochs", "1", "--out", str(mine)]
    assert main(args) == 0  # written, although the cache has one for this folder
    assert f"wrote {mine}.safetensors" in capsys.readouterr().out
    assert mine.with_suffix(".json").is_file()
    assert sorted((cache / "evaluators").iterdir()) == before  # the cache is left as it was
    card = mine.with_suffix(".json").read_bytes()
    assert main(args) == 2  # the stem's files exist: refused before any training
    line = error_line(capsys)
    assert f"{mine}.safetensors already exists" in line and "add --force" in line
    assert mine.with_suffix(".json").read_bytes() == card
    assert main([*args, "--force"]) == 0


def none_held_out(root: Path) -> Path:
    """Two classes of 25 images each, named so that the hash split holds none of them out."""
    rng = np.random.default_rng(1)
    for name in ("blue", "red"):
        (root / name).mkdir(parents=True)
        i = kept = 0
        while kept < 25:
            key = f"{name}/{i}.png".encode()
            if int.from_bytes(hashlib.sha256(key).digest()[:8], "big") >= \
                    folder.TEST_SHARE * 2 ** 64:
                draw(root / name / f"{i}.png", name, rng)
                kept += 1
            i += 1
    return root


def one_class(root: Path) -> Path:
    return labelled_folder(root, classes=("red",), per_class=60)


def unlabelled(root: Path) -> Path:
    labelled_folder(root)
    shutil.copy(root / "red" / "00.png", root / "loose.png")  # one image outside any class
    return root


def too_small(root: Path) -> Path:
    return labelled_folder(root, per_class=10)


@pytest.mark.parametrize("make, words", [
    (one_class, ["one class subfolder (red)", "two or more"]),
    (unlabelled, ["has no classes", "--inception-weights", "sharpness", "checkerboard"]),
    (too_small, ["has 30 images", f"at least {folder.MIN_SPLIT}"]),
    (none_held_out, ["none of the 50 images", "held-out", "add images"]),
])
def test_folders_it_cannot_learn_from_are_refused_in_one_line(make, words, empty_cache,
                                                              tmp_path, capsys):
    data = make(tmp_path / "data")
    assert main(["evaluator", "train", "--data", str(data), "--epochs", "1"]) == 2
    line = error_line(capsys)
    assert line.startswith("gankit evaluator: error: ")
    for w in words:
        assert w in line
    assert not empty_cache.exists()  # nothing written


def test_eval_is_refused_until_the_evaluator_exists(world, empty_cache, tmp_path, capsys):
    run = shutil.copytree(world["run"], tmp_path / "run")
    assert main(["eval", str(run), "--n", "64", "--metrics", "fid"]) == 2
    line = error_line(capsys)
    assert "no evaluator has been trained for the folder" in line
    assert f"`gankit evaluator train --data {world['data']}`" in line
    assert not (run / "metrics.jsonl").exists()
    assert main(["eval", str(run), "--n", "64", "--metrics", "sharpness"]) == 0  # needs none


def test_eval_measures_against_the_held_out_split(world, cache, tmp_path, capsys):
    run = shutil.copytree(world["run"], tmp_path / "run")
    assert main(["eval", str(run), "--n", "64", "--metrics", "fid,kid,pr,coverage"]) == 0
    assert f"appended to {run / 'metrics.jsonl'}" in capsys.readouterr().out
    record = last_record(run)
    m, p = record["metrics"], record["provenance"]
    assert set(m) == {"fid", "kid", "kid_std", "precision", "recall", "coverage"}
    assert math.isfinite(m["fid"]) and m["coverage"]["n_classes"] == 3
    _, card = folder_evaluator.find(str(world["data"]))
    assert p["extractor"] == "gankit evaluator of folder 'shapes' (penultimate layer)"
    assert p["extractor_sha256"] == card["weights_sha256"]
    assert "held-out" in p["real"] and str(world["data"]) in p["real"]
    n_test = card["split"]["n_test"]
    assert p["n_real"] == n_test and p["real"].endswith(f"{n_test} of {n_test} images")
    assert p["n_generated"] == 64


def test_a_conditional_run_gets_class_accuracy(world, cache, tmp_path):
    run = shutil.copytree(world["run_cond"], tmp_path / "run")
    assert main(["eval", str(run), "--n", "66"]) == 0  # the defaults: class_acc among them
    a = last_record(run)["metrics"]["class_acc"]
    assert len(a["per_class"]) == 3 and 0.0 <= a["min"] <= a["overall"] <= 1.0


def test_a_moved_folder_is_named_and_its_copy_given_with_data(world, cache, tmp_path, capsys):
    run = shutil.copytree(world["run"], tmp_path / "run")
    config = json.loads((run / "generator.json").read_text())
    config["data"]["path"] = str(tmp_path / "gone")  # trained on a folder no longer here
    (run / "generator.json").write_text(json.dumps(config))
    assert main(["eval", str(run), "--n", "64", "--metrics", "fid"]) == 2
    line = error_line(capsys)
    assert f"the folder '{tmp_path / 'gone'}' is not here" in line and "--data FOLDER" in line
    copy = shutil.copytree(world["data"], tmp_path / "copy")
    assert main(["eval", str(run), "--n", "64", "--metrics", "fid", "--data", str(copy)]) == 0
    assert "held-out" in last_record(run)["provenance"]["real"]


def test_check_metrics_on_folders(world, cache, tmp_path):
    with pytest.raises(GankitError, match="without the folder's path: give it with gankit eval "
                                          "--data FOLDER"):
        check_metrics(["fid"], False, "folder")
    check_metrics(["fid", "coverage"], False, "folder", data_path=str(world["data"]))
    flat = unlabelled(tmp_path / "flat")
    with pytest.raises(GankitError, match="kid: the folder .* has no classes") as e:
        check_metrics(["kid"], False, "folder", data_path=str(flat))
    assert "\n" not in str(e.value)
    check_metrics(["sharpness", "checkerboard"], False, "folder", data_path=str(flat))


def test_to_input_composites_alpha_onto_white_and_resizes():
    card = {"data_shape": [3, 32, 32]}
    x = torch.full((2, 4, 16, 16), -1.0)           # black, fully transparent
    x[1, 3] = 1.0                                  # the second image opaque: stays black
    out = folder_evaluator.to_input(x, card)
    assert out.shape == (2, 3, 32, 32)
    assert torch.allclose(out[0], torch.ones(3, 32, 32))
    assert torch.allclose(out[1], -torch.ones(3, 32, 32))
    grey = folder_evaluator.to_input(torch.zeros(1, 1, 32, 32), card)  # grey repeated to RGB
    assert grey.shape == (1, 3, 32, 32) and torch.equal(grey[0, 0], grey[0, 2])
