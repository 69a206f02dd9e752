import pytest

from gankit.config import (DEFAULT_PRESET, apply_overrides, from_dict, load_preset, preset_names,
                           validate)
from gankit.errors import GankitError

REQUIRED_PRESETS = {"mlp-mnist", "dcgan-mnist", "dcgan-fashion", "dcgan64-folder", "toy-ring",
                    "toy-grid", "dcgan-course"}


def test_required_presets_exist_and_validate():
    assert REQUIRED_PRESETS <= set(preset_names())
    assert DEFAULT_PRESET == "dcgan-mnist"
    for name in preset_names():
        cfg = load_preset(name)
        validate(cfg)
        assert cfg.description


def test_course_preset_is_the_course():
    c = load_preset("dcgan-course")
    assert (c.model.name, c.model.z_dim, c.model.g_hidden, c.model.d_hidden) == ("dcgan28", 64, 64, 16)
    assert c.model.upsample == "transposed"
    assert c.train.batch_size == 128
    assert (c.optim.lr_g, c.optim.lr_d, c.optim.beta1, c.optim.beta2) == (2e-4, 2e-4, 0.5, 0.999)
    assert c.loss.d_loss == "bce"


def test_overrides_are_typed():
    cfg = apply_overrides(load_preset("dcgan-mnist"),
                          ["train.steps=7", "optim.lr_g=1e-3", "model.upsample=resize",
                           "data.download=true", "loss.g_loss=minimax", "train.steps=1e3"])
    assert cfg.train.steps == 1000 and isinstance(cfg.train.steps, int)
    assert cfg.optim.lr_g == 1e-3 and cfg.model.upsample == "resize"
    assert cfg.data.download is True and cfg.loss.g_loss == "minimax"


@pytest.mark.parametrize("item, match", [
    ("train.stepz=5", "unknown config key 'train.stepz'"),
    ("nosection.x=1", "unknown config key"),
    ("train.steps=many", "train.steps must be int"),
    ("train.steps=2.5", "train.steps must be int"),
    ("data.download=maybe", "data.download must be bool"),
    ("train.steps", "key=value"),
])
def test_bad_overrides(item, match):
    with pytest.raises(GankitError, match=match):
        apply_overrides(load_preset("dcgan-mnist"), [item])


def test_unknown_preset():
    with pytest.raises(GankitError, match="unknown preset 'nope'"):
        load_preset("nope")


def test_validate_ranges():
    cfg = apply_overrides(load_preset("dcgan-mnist"), ["train.batch_size=0"])
    with pytest.raises(GankitError, match="batch_size"):
        validate(cfg)


def test_config_round_trips_through_dict():
    cfg = load_preset("toy-ring")
    assert from_dict(cfg.to_dict()) == cfg
