"""The shipped generators, and the CLI paths of conditional sampling: --class, --pretrained."""

import json

import numpy as np
import pytest
import torch

from gankit import pretrained
from gankit.cli import main
from gankit.errors import GankitError
from gankit.metrics.evaluator import featurize, load_evaluator
from gankit.generator import Generator

SHIPPED = ("mnist-dcgan", "mnist-cdcgan", "fashion-cdcgan")
TINY = ["--set", "train.steps=2", "--set", "train.batch_size=8", "--set", "model.g_hidden=4",
        "--set", "model.d_hidden=4", "--set", "train.n_samples=10", "--set", "train.device=cpu"]


def error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one line, no traceback
    return err[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A tiny conditional run (cgan-mnist) and a tiny unconditional one (dcgan-mnist)."""
    root = tmp_path_factory.mktemp("runs")
    assert main(["train", "--preset", "cgan-mnist", "--out", str(root / "c"), *TINY]) == 0
    assert main(["train", "--preset", "dcgan-mnist", "--out", str(root / "u"), *TINY]) == 0
    return root / "c", root / "u"


def test_sample_class_draws_that_class(runs, tmp_path):
    cond, _ = runs
    assert main(["sample", str(cond), "--class", "7", "--n", "6", "--out", str(tmp_path / "s.npz")]) == 0
    saved = np.load(tmp_path / "s.npz")
    assert saved["images"].shape == (6, 28, 28) and saved["labels"].tolist() == [7] * 6
    assert main(["sample", str(cond), "--n", "20", "--out", str(tmp_path / "all.npz")]) == 0
    assert np.load(tmp_path / "all.npz")["labels"].tolist() == [k for k in range(10) for _ in "ab"]
    assert main(["sample", str(cond), "--class", "0", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").stat().st_size > 0


def test_bad_class_is_refused(runs, tmp_path, capsys):
    cond, uncond = runs
    assert main(["sample", str(cond), "--class", "10", "--out", str(tmp_path / "x.png")]) == 2
    assert "--class 10: not a class of this generator; choose 0 to 9" in error_line(capsys)
    assert main(["sample", str(cond), "--class", "-1", "--out", str(tmp_path / "x.png")]) == 2
    assert "--class -1: not a class of this generator; choose 0 to 9" in error_line(capsys)
    assert main(["sample", str(uncond), "--class", "3", "--out", str(tmp_path / "x.png")]) == 2
    assert "unconditional" in error_line(capsys)
    assert not (tmp_path / "x.png").exists()


def test_bad_checkpoint_and_source_are_refused(runs, tmp_path, capsys):
    import shutil
    bad = tmp_path / "bad"
    shutil.copytree(runs[0], bad)
    (bad / "generator.json").write_text("{not json")
    assert main(["sample", str(bad), "--class", "1", "--out", str(tmp_path / "x.png")]) == 2
    assert "not a valid generator card" in error_line(capsys)
    assert main(["sample", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.png")]) == 2
    assert "does not exist" in error_line(capsys)
    assert main(["sample", "--out", str(tmp_path / "x.png")]) == 2
    assert "--pretrained NAME" in error_line(capsys)
    assert main(["sample", str(runs[0]), "--pretrained", "mnist-cdcgan",
                 "--out", str(tmp_path / "x.png")]) == 2
    assert "not both" in error_line(capsys)
    assert main(["sample", "--pretrained", "nope", "--out", str(tmp_path / "x.png")]) == 2
    assert "no pretrained generator 'nope'" in error_line(capsys)


def test_pretrained_lists_every_shipped_generator(capsys):
    assert set(SHIPPED) <= set(pretrained.names())
    assert main(["pretrained"]) == 0
    out = capsys.readouterr().out
    for name in SHIPPED:
        assert name in out
    assert "FID" in out and "class accuracy" in out


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_cards_say_how_they_were_trained_and_measured(name):
    G, meta = pretrained.load(name)
    card = meta["card"]
    for key in ("preset", "overrides", "steps", "kimg", "wall_time_s", "commit", "trained_by"):
        assert card[key] not in (None, ""), key
    for metric in ("fid", "kid", "is", "coverage"):
        assert metric in card["metrics"]
    conditional = name != "mnist-dcgan"
    assert ("class_acc" in card["metrics"]) == conditional
    assert (G.n_classes == 10) == conditional and not G.training
    assert meta["data"]["name"] == name.split("-")[0]


@pytest.mark.parametrize("name", SHIPPED)
def test_sample_pretrained_runs(name, tmp_path):
    extra = ["--class", "3"] if name != "mnist-dcgan" else []
    assert main(["sample", "--pretrained", name, "--n", "8", *extra,
                 "--out", str(tmp_path / "p.npz")]) == 0
    assert np.load(tmp_path / "p.npz")["images"].shape == (8, 28, 28)


def test_shipped_mnist_conditional_generator_draws_the_asked_digit():
    """Issue 4: >= 90 % of class-k samples are classified as k, for every k separately."""
    G, _ = pretrained.load("mnist-cdcgan")
    evaluator = load_evaluator("mnist")
    per_class = 200
    labels = torch.arange(10).repeat_interleave(per_class)
    x = Generator(G, {}).generate(len(labels), seed=2024, y=labels)
    _, logits = featurize(evaluator, x)
    hit = (logits.argmax(1) == labels).float().view(10, per_class).mean(1)
    assert (hit >= 0.9).all(), f"per-class accuracy {hit.tolist()}"


def test_eval_pretrained_measures_without_writing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    folder = pretrained.snapshot_path("mnist-cdcgan").parent
    before = sorted(p.name for p in folder.iterdir())
    assert main(["eval", "--pretrained", "mnist-cdcgan", "--n", "200",
                 "--metrics", "fid,class_acc"]) == 0
    out = capsys.readouterr().out
    assert "FID" in out and "class accuracy" in out and "not recorded" in out
    assert sorted(p.name for p in folder.iterdir()) == before
    assert main(["eval", "--pretrained", "mnist-dcgan", "--n", "50", "--metrics", "class_acc"]) == 2
    assert "unconditional" in error_line(capsys)


def test_load_api_matches_the_snapshot_format():
    with pytest.raises(GankitError, match="choose one of"):
        pretrained.load("nope")
    G, meta = pretrained.load("fashion-cdcgan")
    assert meta["class_names"][9] == "Ankle boot" and meta["data_shape"] == [1, 28, 28]
    on_disk = json.loads(pretrained.snapshot_path("fashion-cdcgan").read_text())
    assert on_disk["kwargs"] == meta["kwargs"]


def test_train_pretrained_card_step_writes_a_loadable_artifact(runs, tmp_path, monkeypatch):
    """scripts/train_pretrained.py's card step on a tiny run, into a scratch package folder."""
    import importlib.util
    from pathlib import Path

    from gankit import artifacts
    from gankit.models.snapshot import load_snapshot

    script = Path(__file__).resolve().parents[1] / "scripts" / "train_pretrained.py"
    spec = importlib.util.spec_from_file_location("train_pretrained", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "PACKAGE_DIR", tmp_path)
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    cond = runs[0]
    (cond / "pretrained-recipe.json").write_text(json.dumps(
        {"name": "mnist-cdcgan", "preset": "cgan-mnist", "overrides": [], "commit": "test"}))
    card = module.write_card("mnist-cdcgan", cond, n=50)
    state, meta = artifacts.load(tmp_path / "mnist-cdcgan", kind="generator")
    assert meta["card"] == card and meta["kind"] == "generator" and "class_acc" in card["metrics"]
    G, _ = load_snapshot(tmp_path / "mnist-cdcgan.json")
    assert all(torch.equal(v, state[k]) for k, v in G.state_dict().items())


def test_train_pretrained_tables_carry_each_cards_attribution(tmp_path, monkeypatch):
    """A card with `attribution` (emoji-cdcgan's: its images' licences) gets a line in an
    Attribution paragraph under the tables; cards without one get none."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "train_pretrained.py"
    spec = importlib.util.spec_from_file_location("train_pretrained", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "PACKAGE_DIR", tmp_path)
    meta = json.loads(pretrained.snapshot_path("fashion-cdcgan").read_text())
    (tmp_path / "fashion-cdcgan.json").write_text(json.dumps(meta))
    assert "Attribution" not in module.table()
    meta["card"].update(name="emoji-cdcgan", attribution=module.ATTRIBUTION["emoji-cdcgan"])
    (tmp_path / "emoji-cdcgan.json").write_text(json.dumps(meta))
    text = module.table()
    head, tail = text.split("Attribution", 1)
    assert "| `emoji-cdcgan` |" in head and "| `fashion-cdcgan` |" in head
    assert "- `emoji-cdcgan`: " in tail and "fashion-cdcgan" not in tail
    for credit in ("Apache License 2.0, Google", "CC-BY 4.0, Twitter, Inc and other "
                   "contributors", "emoji-datasource, MIT"):
        assert credit in tail


@pytest.mark.skipif("emoji-cdcgan" not in pretrained.names(),
                    reason="emoji-cdcgan is not shipped in this checkout")
def test_shipped_emoji_generator_carries_its_attribution_and_draws_colour(tmp_path):
    G, meta = pretrained.load("emoji-cdcgan")
    card = meta["card"]
    for credit in ("Apache License 2.0, Google", "CC-BY 4.0, Twitter, Inc and other "
                   "contributors", "emoji-datasource, MIT"):
        assert credit in card["attribution"]
        assert credit in (pretrained.snapshot_path("emoji-cdcgan").parent / "README.md").read_text()
    assert meta["data"]["name"] == "folder" and meta["data"]["path"] == "emoji-64"  # no machine path
    assert meta["data_shape"] == [3, 32, 32] and len(meta["class_names"]) == 9
    assert main(["sample", "--pretrained", "emoji-cdcgan", "--class", "smileys-and-emotion",
                 "--n", "8", "--out", str(tmp_path / "e.npz")]) == 0
    images = np.load(tmp_path / "e.npz")["images"].astype(int)                 # (8, 32, 32, 3)
    assert images.shape == (8, 32, 32, 3)
    assert (images[..., 0] != images[..., 1]).any() and (images[..., 1] != images[..., 2]).any()
