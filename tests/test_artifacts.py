"""The bottom layer: atomic writes, and the one weights + card format every network is saved in."""

import json
import os
import stat

import pytest
import torch

from gankit import artifacts, pretrained
from gankit.errors import GankitError
from gankit.metrics.evaluator import EVALUATORS, evaluator_card, load_evaluator
from gankit.models import build_generator
from gankit.models.snapshot import load_snapshot, save_snapshot

TOY = dict(z_dim=4, hidden=8, n_layers=1)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def toy_snapshot(folder):
    G = build_generator("toy-mlp", TOY)
    folder.mkdir(exist_ok=True)
    save_snapshot(folder, G, "toy-mlp", TOY, (2,), None, extra={"step": 3})
    return G


# ---- atomic writes ----------------------------------------------------------------------

def test_written_files_get_the_users_normal_permissions(tmp_path, umask_022):
    artifacts.write_json(tmp_path / "a.json", {"x": 1})
    artifacts.atomic_write(tmp_path / "b.bin", lambda tmp: open(tmp, "wb").write(b"\0"))
    toy_snapshot(tmp_path)
    for name in ("a.json", "b.bin", "generator.json", "generator.safetensors"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name


def test_write_that_raises_keeps_the_old_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "card.json"
    artifacts.write_json(path, {"old": True})

    def half_then_crash(tmp):
        with open(tmp, "w") as f:
            f.write('{"new": ')
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C mid-write

    with pytest.raises(KeyboardInterrupt):
        artifacts.atomic_write(path, half_then_crash)
    assert json.loads(path.read_text()) == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.json"]


# ---- save / load --------------------------------------------------------------------------

def test_save_load_round_trip_records_kind_version_and_sha(tmp_path):
    net = torch.nn.Linear(3, 2)
    weights, card_path = artifacts.save(tmp_path / "net", net, {
        "kind": "classifier", "model": "Linear", "kwargs": {"in_features": 3, "out_features": 2},
        "note": "extra entries are kept"})
    assert (weights.name, card_path.name) == ("net.safetensors", "net.json")
    card = json.loads(card_path.read_text())
    assert list(card)[:4] == ["kind", "model", "kwargs", "gankit_version"]
    assert card["note"] == "extra entries are kept" and len(card["weights_sha256"]) == 64
    for spelling in (tmp_path / "net", weights, card_path):
        state, loaded = artifacts.load(spelling, kind="classifier")
        assert loaded == card and torch.equal(state["weight"], net.weight.detach())


def test_a_card_needs_what_rebuilds_the_network(tmp_path):
    with pytest.raises(ValueError, match="kwargs"):
        artifacts.save(tmp_path / "x", torch.nn.Linear(1, 1), {"kind": "generator", "model": "m"})
    with pytest.raises(ValueError, match="kind"):
        artifacts.save(tmp_path / "x", torch.nn.Linear(1, 1), {"kind": "vae", "model": "m",
                                                               "kwargs": {}})


def test_snapshot_round_trip_rebuilds_the_same_generator(tmp_path):
    G = toy_snapshot(tmp_path).eval()
    G2, meta = load_snapshot(tmp_path)
    assert meta["kind"] == "generator" and meta["step"] == 3 and meta["data_shape"] == [2]
    z = torch.randn(5, 4)
    assert torch.equal(G(z), G2(z))


def test_old_generator_card_without_kind_or_sha_loads(tmp_path):
    G = toy_snapshot(tmp_path).eval()
    card = json.loads((tmp_path / "generator.json").read_text())
    old = {k: v for k, v in card.items() if k not in ("kind", "weights_sha256")}
    (tmp_path / "generator.json").write_text(json.dumps(old))  # as gankit wrote it before
    G2, meta = load_snapshot(tmp_path / "generator.json")
    assert "kind" not in meta and meta["model"] == "toy-mlp"
    z = torch.randn(5, 4)
    assert torch.equal(G(z), G2(z))


def test_card_and_weights_from_different_moments_are_one_clear_error(tmp_path):
    toy_snapshot(tmp_path / "a")
    toy_snapshot(tmp_path / "b")  # fresh random weights: another sha256
    (tmp_path / "a" / "generator.safetensors").replace(tmp_path / "b" / "generator.safetensors")
    with pytest.raises(GankitError) as e:
        load_snapshot(tmp_path / "b")
    msg = str(e.value)
    assert "\n" not in msg and "generator.safetensors does not match its card" in msg
    assert "sha256" in msg


@pytest.mark.parametrize("damage, words", [
    (lambda d: (d / "generator.json").write_text("[1, 2]"), "not a valid generator card"),
    (lambda d: (d / "generator.json").write_text("{oops"), "not a valid generator card"),
    (lambda d: (d / "generator.safetensors").unlink(), "not a generator snapshot"),
])
def test_missing_or_corrupt_snapshot_is_one_line_naming_the_file(tmp_path, damage, words):
    toy_snapshot(tmp_path)
    damage(tmp_path)
    with pytest.raises(GankitError, match=words) as e:
        load_snapshot(tmp_path)
    assert "\n" not in str(e.value) and str(tmp_path) in str(e.value)


@pytest.mark.parametrize("keep_sha", [True, False])
def test_corrupt_weights_are_called_corrupt(tmp_path, keep_sha):
    toy_snapshot(tmp_path)
    card = json.loads((tmp_path / "generator.json").read_text())
    if not keep_sha:  # an old card: safetensors alone must catch it
        del card["weights_sha256"]
    (tmp_path / "generator.json").write_text(json.dumps(card))
    (tmp_path / "generator.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage")
    with pytest.raises(GankitError, match="generator.safetensors could not be loaded .*corrupt"):
        load_snapshot(tmp_path)


def test_a_card_of_another_kind_is_refused(tmp_path):
    artifacts.save(tmp_path / "generator", torch.nn.Linear(2, 2),
                   {"kind": "classifier", "model": "Linear", "kwargs": {}})
    with pytest.raises(GankitError, match="is a classifier card, not a generator"):
        load_snapshot(tmp_path)


def test_weights_that_do_not_fit_the_card_are_refused(tmp_path):
    toy_snapshot(tmp_path)
    card = json.loads((tmp_path / "generator.json").read_text())
    card["kwargs"]["hidden"] = 16  # the card now describes a wider network
    (tmp_path / "generator.json").write_text(json.dumps(card))
    with pytest.raises(GankitError, match="does not fit the network its card describes"):
        load_snapshot(tmp_path)


# ---- the shipped files ----------------------------------------------------------------------

@pytest.mark.parametrize("name", pretrained.names())
def test_every_shipped_generator_loads_and_its_sha_matches(name):
    G, meta = pretrained.load(name)
    assert meta["kind"] == "generator" and len(meta["weights_sha256"]) == 64
    assert G(torch.randn(2, G.z_dim), *([torch.arange(2)] if G.n_classes else [])).shape[0] == 2


@pytest.mark.parametrize("dataset", EVALUATORS)
def test_every_shipped_evaluator_loads_and_its_sha_matches(dataset):
    card = evaluator_card(dataset)
    assert card["kind"] == "evaluator" and len(card["weights_sha256"]) == 64
    assert load_evaluator(dataset)(torch.zeros(2, 1, 28, 28)).shape == (2, 10)  # sha checked
