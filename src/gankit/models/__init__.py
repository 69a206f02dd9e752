"""Model registry: a name maps to a (generator, discriminator) pair of plain nn.Modules.

`build_models` derives the data-dependent arguments (channels, image shape) from the data,
so a preset only names what a user would choose (widths, z size, up-sampling). The
generator's full constructor arguments are returned too: they go into `generator.json`, so
a snapshot rebuilds its generator with no training code.

Spectral normalisation (Miyato et al. 2018) is applied here, outside the model classes, with
torch's parametrization: every conv and linear weight of D is divided by its largest singular
value, estimated by one power iteration per forward pass in training mode.
"""

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gankit.errors import GankitError
from gankit.models.blocks import UPSAMPLE_MODES
from gankit.models.dcgan import (DCGANDiscriminator28, DCGANDiscriminator64, DCGANGenerator28,
                                 DCGANGenerator64)
from gankit.models.mlp import MLPDiscriminator, MLPGenerator, ToyDiscriminator, ToyGenerator
from gankit.models.vae import VAEDecoder

GENERATORS = {
    "mlp": MLPGenerator,
    "dcgan28": DCGANGenerator28,
    "dcgan64": DCGANGenerator64,
    "toy-mlp": ToyGenerator,
    "vae": VAEDecoder,  # a VAE's decoder is its generator; it has no D (gankit.train.vae)
}
DISCRIMINATORS = {
    "mlp": MLPDiscriminator,
    "dcgan28": DCGANDiscriminator28,
    "dcgan64": DCGANDiscriminator64,
    "toy-mlp": ToyDiscriminator,
}
MODEL_NAMES = tuple(GENERATORS)
# The image size each conv model produces; MLPs take any shape.
NATIVE_SIZE = {"dcgan28": 28, "dcgan64": 64, "vae": 28}


def model_kwargs(model, data_shape: tuple) -> tuple[dict, dict]:
    """Constructor arguments of G and D for a ModelConfig and a data shape (C, H, W) or (2,)."""
    name = model.name
    if name not in GENERATORS:
        raise GankitError(f"unknown model.name {name!r}: choose one of {', '.join(MODEL_NAMES)}")
    if model.upsample not in UPSAMPLE_MODES:
        raise GankitError(f"model.upsample must be one of {', '.join(UPSAMPLE_MODES)}, "
                          f"got {model.upsample!r}")
    if model.n_classes < 0:
        raise GankitError(f"model.n_classes must be >= 0 (0: unconditional), got {model.n_classes}")
    if name == "toy-mlp":
        if model.n_classes:
            raise GankitError("model.name 'toy-mlp' is unconditional: set model.n_classes=0")
        if tuple(data_shape) != (2,):
            raise GankitError("model.name 'toy-mlp' needs a 2D toy data set (data.name toy-ring "
                              "or toy-grid)")
        return (dict(z_dim=model.z_dim, hidden=model.g_hidden, n_layers=model.n_layers),
                dict(hidden=model.d_hidden, n_layers=model.n_layers))
    if len(data_shape) != 3:
        raise GankitError(f"model.name {name!r} needs image data; for toy data use "
                          "model.name=toy-mlp")
    c, h, w = data_shape
    if name == "mlp":
        return (dict(z_dim=model.z_dim, shape=(c, h, w), hidden=model.g_hidden,
                     n_classes=model.n_classes),
                dict(shape=(c, h, w), hidden=model.d_hidden, n_classes=model.n_classes))
    size = NATIVE_SIZE[name]
    if (h, w) != (size, size):
        raise GankitError(f"model.name {name!r} makes {size}x{size} images but the data is "
                          f"{h}x{w}: set data.image_size={size}")
    g = dict(z_dim=model.z_dim, channels=c, hidden=model.g_hidden, upsample=model.upsample,
             n_classes=model.n_classes)
    d = dict(channels=c, hidden=model.d_hidden, n_classes=model.n_classes)
    if name != "vae":  # the VAE's second network is its encoder, not a D
        d["bn"] = model.d_bn
    if name == "dcgan28":
        g["bn_mean"] = d["bn_mean"] = model.bn_init_mean
        d["input_bn"] = model.d_input_bn
        d["mbstd"] = model.d_mbstd
    if name == "vae":  # the second network is the encoder: d_hidden wide, z_dim out
        if model.n_classes:
            raise GankitError("model.name 'vae' is unconditional: set model.n_classes=0")
        del g["n_classes"], d["n_classes"]
        d["z_dim"] = model.z_dim
    return g, d


def build_generator(name: str, kwargs: dict) -> nn.Module:
    return GENERATORS[name](**kwargs)


def spectrally_normalise(module: nn.Module) -> nn.Module:
    """Put spectral_norm on every Linear and (transposed) conv weight of `module`, in place."""
    for m in list(module.modules()):
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            spectral_norm(m)
    return module


def build_models(model, data_shape: tuple) -> tuple[nn.Module, nn.Module, dict]:
    g_kwargs, d_kwargs = model_kwargs(model, data_shape)
    G = GENERATORS[model.name](**g_kwargs)  # G first: the seeded initial weights stay as they were
    D = DISCRIMINATORS[model.name](**d_kwargs)
    if model.d_spectral_norm:
        spectrally_normalise(D)
    return G, D, g_kwargs
