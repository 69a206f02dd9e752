import pytest

from gankit.config import (DEFAULT_PRESET, apply_overrides, from_dict, load_preset, preset_names,
                           validate)
from gankit.errors import GankitError

REQUIRED_PRESETS = {"mlp-mnist", "dcgan-mnist", "dcgan-fashion", "dcgan64-folder", "toy-ring",
                    "toy-grid", "dcgan-course", "dcgan-course-exact", "mlp-mnist-course-exact"}


def test_required_presets_exist_and_validate():
    assert REQUIRED_PRESETS <= set(preset_names())
    assert DEFAULT_PRESET == "mlp-mnist"
    for name in preset_names():
        cfg = load_preset(name)
        validate(cfg)
        assert cfg.description


def test_course_exact_presets_are_the_course():
    c = load_preset("dcgan-course-exact")  # week 2
    assert (c.model.name, c.model.z_dim, c.model.g_hidden, c.model.d_hidden) == ("dcgan28", 64, 64, 16)
    assert c.model.upsample == "transposed" and c.model.d_input_bn and c.model.bn_init_mean == 0.0
    assert c.train.batch_size == 128 and c.train.steps == 50 * 469  # 50 epochs of 60k
    assert (c.optim.lr_g, c.optim.lr_d, c.optim.beta1, c.optim.beta2) == (2e-4, 2e-4, 0.5, 0.999)
    assert c.loss.d_loss == "bce"
    m = load_preset("mlp-mnist-course-exact")  # week 1
    assert (m.model.name, m.model.z_dim, m.model.g_hidden, m.model.d_hidden) == ("mlp", 64, 128, 128)
    assert m.train.batch_size == 128 and m.train.steps == 200 * 469  # 200 epochs of 60k
    assert (m.optim.lr_g, m.optim.lr_d, m.optim.beta1, m.optim.beta2) == (1e-5, 1e-5, 0.9, 0.999)
    assert m.loss.d_loss == "bce"


def test_course_presets_keep_the_course_networks():
    """The recipe presets may train differently, but their networks are the course's."""
    for name, exact in (("dcgan-course", "dcgan-course-exact"), ("mlp-mnist", "mlp-mnist-course-exact")):
        a, b = load_preset(name).model, load_preset(exact).model
        assert (a.name, a.z_dim, a.g_hidden, a.d_hidden, a.upsample) == \
            (b.name, b.z_dim, b.g_hidden, b.d_hidden, b.upsample)


def test_every_preset_trains_on_one_thread():
    """Two-thread kernels collapse on a shared 2-core machine (docs/benchmarks.md)."""
    for name in preset_names():
        assert load_preset(name).train.threads == 1, name


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
