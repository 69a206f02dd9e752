import pytest
import torch
from torch import nn

from gankit.config import ModelConfig
from gankit.errors import GankitError
from gankit.models import build_generator, build_models
from gankit.models.dcgan import (DCGANDiscriminator, DCGANDiscriminator28, DCGANDiscriminator64,
                                 DCGANGenerator, DCGANGenerator28, DCGANGenerator64)
from gankit.models.mlp import MLPDiscriminator, MLPGenerator, ToyDiscriminator, ToyGenerator


@pytest.mark.parametrize("upsample", ["transposed", "resize"])
def test_dcgan28_shapes(upsample):
    G = DCGANGenerator28(z_dim=10, channels=1, hidden=8, upsample=upsample)
    D = DCGANDiscriminator28(channels=1, hidden=4)
    x = G(torch.randn(5, 10))
    assert x.shape == (5, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (5,)


@pytest.mark.parametrize("upsample", ["transposed", "resize"])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan64_shapes(upsample, channels):
    G = DCGANGenerator64(z_dim=16, channels=channels, hidden=4, upsample=upsample)
    D = DCGANDiscriminator64(channels=channels, hidden=4)
    x = G(torch.randn(3, 16))
    assert x.shape == (3, channels, 64, 64)
    assert D(x).shape == (3,)


def test_resize_generator_has_no_transposed_convs():
    G = DCGANGenerator28(z_dim=8, hidden=4, upsample="resize")
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in G.modules())
    assert any(isinstance(m, nn.Upsample) for m in G.modules())


def test_mlp_and_toy_shapes():
    G, D = MLPGenerator(z_dim=12, shape=(1, 28, 28), hidden=16), MLPDiscriminator(hidden=16)
    x = G(torch.randn(4, 12))
    assert x.shape == (4, 1, 28, 28) and D(x).shape == (4,)
    Gt, Dt = ToyGenerator(z_dim=3, hidden=8), ToyDiscriminator(hidden=8)
    p = Gt(torch.randn(6, 3))
    assert p.shape == (6, 2) and Dt(p).shape == (6,)


def test_dcgan_rules_hold():
    """DCGAN's five rules: no pooling, BatchNorm in G and D, no hidden Linear, ReLU/Tanh in G,
    LeakyReLU in D with no output activation."""
    for G, D in [(DCGANGenerator28(), DCGANDiscriminator28()),
                 (DCGANGenerator64(), DCGANDiscriminator64())]:
        mods = list(G.modules()) + list(D.modules())
        assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.Linear)) for m in mods)
        assert any(isinstance(m, nn.BatchNorm2d) for m in G.modules())
        assert any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
        assert isinstance(list(G.modules())[-1], nn.Tanh)
        assert any(isinstance(m, nn.ReLU) for m in G.modules())
        assert not any(isinstance(m, nn.LeakyReLU) for m in G.modules())
        assert all(m.negative_slope == 0.2 for m in D.modules() if isinstance(m, nn.LeakyReLU))
        assert isinstance(list(D.modules())[-1], nn.Conv2d)  # a raw logit


def test_dcgan_init_is_n_0_002():
    torch.manual_seed(0)
    G = DCGANGenerator64(hidden=32)
    w = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert abs(w.mean().item()) < 1e-3
    assert w.std().item() == pytest.approx(0.02, rel=0.05)


def test_build_models_checks_shapes():
    with pytest.raises(GankitError, match="image_size=64"):
        build_models(ModelConfig(name="dcgan64"), (3, 28, 28))
    with pytest.raises(GankitError, match="toy"):
        build_models(ModelConfig(name="toy-mlp"), (1, 28, 28))
    with pytest.raises(GankitError, match="unknown model.name"):
        build_models(ModelConfig(name="resnet"), (1, 28, 28))


def test_d_input_bn_switch():
    with_bn = DCGANDiscriminator28(input_bn=True)
    without = DCGANDiscriminator28(input_bn=False)
    first = lambda D: list(D.net[0])  # noqa: E731
    assert any(isinstance(m, nn.BatchNorm2d) for m in first(with_bn))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in first(without))
    # Without input BatchNorm, D sees a global brightness offset within a batch.
    torch.manual_seed(0)
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    assert not torch.allclose(without(x), without(x + 0.5))
    assert any(isinstance(m, nn.BatchNorm2d) for m in without.modules())  # still in later layers


def _seen_pixels(D) -> torch.Tensor:
    """(28, 28) bool: the pixels whose value can change D's logit."""
    x = torch.randn(1, 1, 28, 28, requires_grad=True)
    D(x).sum().backward()
    return x.grad[0, 0] != 0


@pytest.mark.parametrize("cond", ["concat", "projection"])
def test_the_course_d_is_blind_to_the_right_and_bottom_and_full_view_sees_all(cond):
    torch.manual_seed(0)
    kw = dict(hidden=4, bn=False, n_classes=0)
    course = _seen_pixels(DCGANDiscriminator28(**kw))
    assert course[:22, :22].all() and not course[22:].any() and not course[:, 22:].any()
    assert _seen_pixels(DCGANDiscriminator28(full_view=True, **kw)).all()
    D = DCGANDiscriminator28(hidden=4, bn=False, n_classes=3, cond=cond, full_view=True,
                             classify=cond == "projection")
    x, y = torch.randn(2, 1, 28, 28), torch.tensor([0, 2])
    assert D(x, y).shape == (2,)
    if cond == "projection":
        assert D(x, y, classes=True)[1].shape == (2, 3)


def test_d_mbstd_sees_batch_variety():
    torch.manual_seed(0)
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    copies = x[:1].expand(8, -1, -1, -1)  # sample 0, without variety around it
    plain = DCGANDiscriminator28(hidden=4, input_bn=False, bn=False)
    assert torch.allclose(plain(x)[0], plain(copies)[0])
    D = DCGANDiscriminator28(hidden=4, input_bn=False, bn=False, mbstd=4)
    assert D(x).shape == (8,) and D(x[:7]).shape == (7,)  # any batch size
    assert not torch.allclose(D(x)[0], D(copies)[0])


@pytest.mark.parametrize("name,shape", [("dcgan28", (1, 28, 28)), ("toy-mlp", (2,)),
                                        ("mlp", (1, 28, 28))])
def test_spectral_norm_brings_every_largest_singular_value_to_one(name, shape):
    torch.manual_seed(0)
    cfg = ModelConfig(name=name, g_hidden=8, d_hidden=8, d_spectral_norm=True,
                      **({"d_bn": False} if name.startswith("dcgan") else {}))  # MLPs: no BN
    _, D, _ = build_models(cfg, shape)
    layers = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers and all(hasattr(m, "parametrizations") for m in layers)
    for _ in range(30):                       # each training-mode forward: one power iteration
        D(torch.randn(4, *shape))
    D.eval()
    for m in layers:
        sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2).item()
        assert sigma == pytest.approx(1.0, abs=0.02)
        raw = torch.linalg.matrix_norm(m.parametrizations.weight.original.detach().flatten(1), ord=2)
        assert raw.item() != pytest.approx(1.0, abs=0.02)  # the raw weight was not unit-norm


def test_d_bn_switch_removes_every_batchnorm_from_d():
    for name, shape in (("dcgan28", (1, 28, 28)), ("dcgan64", (3, 64, 64))):
        _, with_bn, _ = build_models(ModelConfig(name=name), shape)
        _, without, _ = build_models(ModelConfig(name=name, d_bn=False), shape)
        assert any(isinstance(m, nn.BatchNorm2d) for m in with_bn.modules())
        assert not any(isinstance(m, nn.BatchNorm2d) for m in without.modules())
        assert without(torch.randn(2, *shape)).shape == (2,)


def test_a_model_key_the_architecture_ignores_is_refused():
    """The model classes own their arguments: a key set for a model that would drop it fails."""
    for name, key, shape in (("dcgan64", "bn_init_mean", (3, 64, 64)),
                             ("mlp", "upsample", (1, 28, 28)),
                             ("dcgan28", "n_layers", (1, 28, 28))):
        value = {"bn_init_mean": 0.0, "upsample": "resize", "n_layers": 5}[key]
        with pytest.raises(GankitError, match=f"model.{key}=.*does not use it"):
            build_models(ModelConfig(name=name, **{key: value}), shape)
    with pytest.raises(GankitError, match="unconditional"):
        build_models(ModelConfig(name="vae", n_classes=10), (1, 28, 28))
    G, _, kwargs = build_models(ModelConfig(name="dcgan28", bn_init_mean=0.0), (1, 28, 28))
    assert kwargs["bn_mean"] == 0.0         # where it is used, it arrives


# -- the DCGAN family (model.name=dcgan): one G and D per power-of-two side ----------------

TINY_DCGAN = dict(name="dcgan", z_dim=8, g_hidden=4, d_hidden=4)


@pytest.mark.parametrize("size", [8, 16, 32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_dcgan_family_builds_and_runs_at_every_side(size, channels):
    torch.manual_seed(0)
    G, D, kwargs = build_models(ModelConfig(**TINY_DCGAN), (channels, size, size))
    assert kwargs["size"] == size and kwargs["channels"] == channels
    x = G(torch.randn(2, 8))
    assert x.shape == (2, channels, size, size) and x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (2,)
    # stride-2 doublings from 4x4: one conv per power of two, plus D's final 4x4 logit conv
    stages = size.bit_length() - 3
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in G.modules()) == stages + 1
    assert sum(isinstance(m, nn.Conv2d) for m in D.modules()) == stages + 1
    # the snapshot's kwargs rebuild the same generator
    assert build_generator("dcgan", kwargs).state_dict().keys() == G.state_dict().keys()


@pytest.mark.parametrize("shape, words", [
    ((3, 48, 48), "power of two from 8 up (32, 64, 128, ...), not 48: set data.image_size"),
    ((3, 100, 100), "not 100: set data.image_size"),
    ((3, 4, 4), "not 4: set data.image_size"),
    ((3, 32, 64), "makes square images but the data is 32x64: set data.image_size to one side"),
])
def test_dcgan_family_refuses_other_sides_in_one_line(shape, words):
    with pytest.raises(GankitError) as e:
        build_models(ModelConfig(**TINY_DCGAN), shape)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_dcgan_family_classes_refuse_other_sides():
    for make in (lambda: DCGANGenerator(size=24), lambda: DCGANDiscriminator(size=96)):
        with pytest.raises(GankitError, match="power of two"):
            make()


def test_conditional_dcgan_family():
    G, D, kwargs = build_models(ModelConfig(**TINY_DCGAN, n_classes=3), (3, 32, 32))
    assert kwargs["n_classes"] == 3
    y = torch.tensor([0, 1, 2, 1])
    x = G(torch.randn(4, 8), y)
    assert x.shape == (4, 3, 32, 32) and D(x, y).shape == (4,)
    assert G.net[0][0].in_channels == 8 + 3 and D.net[0][0].in_channels == 3 + 3
    G.eval()
    z = torch.randn(1, 8).expand(3, -1)
    drawn = G(z, torch.tensor([0, 1, 2]))  # the class reaches the picture
    assert not torch.allclose(drawn[0], drawn[1]) and not torch.allclose(drawn[1], drawn[2])


@pytest.mark.parametrize("n_classes", [0, 3])
@pytest.mark.parametrize("upsample", ["transposed", "resize"])
def test_dcgan64_is_the_family_at_64_weight_for_weight(n_classes, upsample):
    """Old dcgan64 snapshots load into the family: same seeded weights, same names."""
    for old, new in ((lambda: DCGANGenerator64(16, 3, 4, upsample, n_classes),
                      lambda: DCGANGenerator(16, 3, 4, upsample, n_classes, size=64)),
                     (lambda: DCGANDiscriminator64(3, 4, True, n_classes),
                      lambda: DCGANDiscriminator(3, 4, True, n_classes, size=64))):
        torch.manual_seed(0)
        a = old().state_dict()
        torch.manual_seed(0)
        b = new().state_dict()
        assert list(a) == list(b)
        assert all(torch.equal(a[k], b[k]) for k in a)
    DCGANGenerator(16, 3, 4, upsample, n_classes, size=64).load_state_dict(
        DCGANGenerator64(16, 3, 4, upsample, n_classes).state_dict())  # strict


def test_dcgan64_layout_is_pinned():
    """The parameter names and shapes a dcgan64 snapshot holds (hidden 2, z 8, RGB): the
    layout of the class before the family existed, so a refactor cannot silently break them."""
    def layout(m):
        return {k: tuple(v.shape) for k, v in m.state_dict().items()
                if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}

    assert layout(DCGANGenerator64(z_dim=8, hidden=2)) == {
        "net.0.0.weight": (8, 16, 4, 4), "net.0.1.weight": (16,), "net.0.1.bias": (16,),
        "net.1.0.weight": (16, 8, 4, 4), "net.1.1.weight": (8,), "net.1.1.bias": (8,),
        "net.2.0.weight": (8, 4, 4, 4), "net.2.1.weight": (4,), "net.2.1.bias": (4,),
        "net.3.0.weight": (4, 2, 4, 4), "net.3.1.weight": (2,), "net.3.1.bias": (2,),
        "net.4.0.weight": (2, 3, 4, 4), "net.4.0.bias": (3,)}
    assert layout(DCGANDiscriminator64(hidden=2)) == {
        "net.0.0.weight": (2, 3, 4, 4), "net.0.0.bias": (2,),
        "net.1.0.weight": (4, 2, 4, 4), "net.1.1.weight": (4,), "net.1.1.bias": (4,),
        "net.2.0.weight": (8, 4, 4, 4), "net.2.1.weight": (8,), "net.2.1.bias": (8,),
        "net.3.0.weight": (16, 8, 4, 4), "net.3.1.weight": (16,), "net.3.1.bias": (16,),
        "net.4.weight": (1, 16, 4, 4), "net.4.bias": (1,)}


def test_dcgan_family_d_mbstd():
    torch.manual_seed(0)
    _, D, _ = build_models(ModelConfig(**TINY_DCGAN, d_mbstd=4, d_bn=False), (3, 16, 16))
    assert any(type(m).__name__ == "MinibatchStd" for m in D.modules())
    x = torch.rand(8, 3, 16, 16) * 2 - 1
    copies = x[:1].expand(8, -1, -1, -1)
    assert D(x).shape == (8,) and D(x[:6]).shape == (6,)  # any batch size
    assert not torch.allclose(D(x)[0], D(copies)[0])      # it sees the batch's variety


def test_dcgan_family_projection_discriminator():
    """d_cond=projection: the class speaks through an embedding of D's last features, so the
    logit of one image changes with the class it is judged as, and the input has no maps."""
    from gankit.models.dcgan import DCGANDiscriminator
    torch.manual_seed(0)
    D = DCGANDiscriminator(channels=3, hidden=4, n_classes=3, size=16, cond="projection").eval()
    assert D.net[0][0].in_channels == 3                  # no class maps at the input
    with torch.no_grad():
        D.embed.weight.normal_()
    x = torch.randn(1, 3, 16, 16).repeat(3, 1, 1, 1)
    logits = D(x, torch.arange(3))
    assert logits.shape == (3,) and len(set(logits.tolist())) == 3
    with pytest.raises(GankitError, match="concat or projection"):
        DCGANDiscriminator(n_classes=3, size=16, cond="none")
