"""Every load path turns a corrupt, truncated, foreign or wrong-kind file into one line that
names the file and the fix (exit 2, no traceback), and leaves the run directory as it was.
Each file here is written by the test itself."""

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.cli import main
from gankit.metrics import real

TINY = ["--set", "train.steps=2", "--set", "train.batch_size=8", "--set", "model.d_hidden=8",
        "--set", "train.n_samples=4", "--set", "train.device=cpu", "--set", "train.report=false"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two finished tiny runs whose networks differ in width (g_hidden 8 and 16)."""
    root = tmp_path_factory.mktemp("bad-files")
    for width in (8, 16):
        assert main(["train", "--out", str(root / f"g{width}"), *TINY,
                     "--set", f"model.g_hidden={width}"]) == 0
    return root


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one line, no traceback
    return err[0]


def files(folder) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def copy(runs, tmp_path, width=8):
    return shutil.copytree(runs / f"g{width}", tmp_path / "run")


@pytest.mark.parametrize("damage, words", [
    ("other-model", "does not fit the network"),
    ("other-keys", "not a gankit training state"),
    ("tensor", "not a gankit training state"),
    ("truncated", "could not be read"),
    ("no-sampler", "does not fit the network"),
])
def test_a_bad_state_is_refused_before_config_json_changes(runs, tmp_path, capsys, damage, words):
    run = copy(runs, tmp_path)
    state = run / "state.pt"
    if damage == "other-model":
        shutil.copy(runs / "g16" / "state.pt", state)
    elif damage == "other-keys":
        torch.save({"model": {"w": torch.zeros(2)}, "step": 3}, state)
    elif damage == "tensor":
        torch.save(torch.zeros(3), state)
    elif damage == "truncated":
        state.write_bytes(state.read_bytes()[:1000])
    else:
        s = torch.load(state, weights_only=True)
        del s["ranks"][0]["sampler"]
        torch.save(s, state)
    before = files(run)
    assert main(["train", "--resume", str(run), "--set", "train.steps=4"]) == 2
    line = error_line(capsys)
    assert str(state) in line and words in line and ("start a new run" in line), line
    assert files(run) == before  # config.json and everything else untouched


@pytest.mark.parametrize("edit, words", [
    (lambda c: c.pop("data_shape"), "no data_shape"),
    (lambda c: c.update(data_shape="28x28"), "data_shape '28x28'"),
    (lambda c: c.pop("model"), "no model"),
])
def test_a_generator_card_without_what_it_needs_is_one_line(runs, tmp_path, capsys, edit, words):
    run = copy(runs, tmp_path)
    card_path = run / "generator.json"
    card = json.loads(card_path.read_text())
    edit(card)
    card_path.write_text(json.dumps(card))
    for argv in (["sample", str(run), "--out", str(tmp_path / "x.png")],
                 ["explore", "grid", str(run), "--out", str(tmp_path / "y.png")]):
        assert main(argv) == 2
        line = error_line(capsys)
        assert str(card_path) in line and words in line and "re-export" in line, line
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "y.png").exists()


def test_a_truncated_feature_cache_is_computed_again_with_a_note(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    calls = []

    def featurize(x):
        calls.append(len(x))
        return {"features": x.mean((1, 2, 3))[:, None]}

    args = ({"name": "mnist", "path": ""}, "evaluator", "s" * 64, featurize, 10)
    first, n_total = real.real_features(*args)
    (cached,) = (tmp_path / "cache" / "real-features").iterdir()
    cached.write_bytes(cached.read_bytes()[:40])  # a run killed while writing, or a full disk
    again, n_again = real.real_features(*args)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(cached) in err[0] and "computing them again" in err[0], err
    assert torch.equal(first["features"], again["features"]) and n_again == n_total
    assert len(calls) == 2
    real.real_features(*args)  # the rewritten cache is read, quietly
    assert len(calls) == 2 and capsys.readouterr().err == ""
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no temporary left


def test_a_truncated_image_in_a_folder_is_one_line(tmp_path, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    bad = folder / "2.png"
    bad.write_bytes(bad.read_bytes()[:30])
    out = tmp_path / "run"
    assert main(["train", "--preset", "dcgan64-folder", "--out", str(out), "--set",
                 f"data.path={folder}", "--set", "train.steps=1", "--set", "train.device=cpu"]) == 2
    line = error_line(capsys)
    assert str(bad) in line and "replace that file" in line, line
    assert not out.exists()


@pytest.mark.parametrize("content", [b"PK\x03\x04 truncated", b"not an npz at all", "pickled"])
def test_a_bad_npz_is_one_line_for_training_and_for_attacks(tmp_path, capsys, content):
    npz = tmp_path / "data.npz"
    if content == "pickled":  # an object array needs pickle, which is never loaded
        np.savez(npz, images=np.array([{"a": 1}], dtype=object), labels=np.zeros(1))
    else:
        npz.write_bytes(content)
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), *TINY, "--set", f"data.path={npz}"]) == 2
    assert str(npz) in error_line(capsys)
    assert not out.exists()
    assert main(["attack", "fgsm", "--data", str(npz), "--n", "4",
                 "--out", str(tmp_path / "a.png")]) == 2
    line = error_line(capsys)
    assert str(npz) in line and ".npz" in line, line
    assert not (tmp_path / "a.png").exists()
