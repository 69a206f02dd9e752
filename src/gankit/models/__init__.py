"""Model registry: a name maps to an architecture, a pair of plain nn.Modules.

Each model class owns its constructor arguments: its `config_args` maps an argument to the
`model.*` config key that sets it. `model_kwargs` adds what comes from the data (channels,
image shape) and refuses a key set for an architecture that would ignore it, so a preset
only names what a user would choose (widths, z size, up-sampling) and nothing is silently
dropped. The generator's full constructor arguments go into `generator.json`, so a
snapshot rebuilds its generator with no training code.

Spectral normalisation (Miyato et al. 2018) is applied here, outside the model classes, with
torch's parametrization: every conv and linear weight of D is divided by its largest singular
value, estimated by one power iteration per forward pass in training mode.
"""

import dataclasses
from dataclasses import dataclass

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gankit.errors import GankitError
from gankit.models.blocks import UPSAMPLE_MODES
from gankit.models.dcgan import (DCGANDiscriminator, DCGANDiscriminator28, DCGANDiscriminator64,
                                 DCGANGenerator, DCGANGenerator28, DCGANGenerator64)
from gankit.models.mlp import MLPDiscriminator, MLPGenerator, ToyDiscriminator, ToyGenerator
from gankit.models.size import (activation_bytes_per_sample, check_fits, gib, on_meta,
                                weight_bytes)
from gankit.models.vae import VAEDecoder, VAEEncoder
from gankit.models.video import TGANGenerator, VideoDiscriminator, check_clip_shape


@dataclass(frozen=True)
class Architecture:
    G: type                 # the generator (a VAE: its decoder)
    D: type                 # the second network: a GAN's discriminator, a VAE's encoder
    kind: str               # the trainer that trains it: "gan", "vae" or "video" (gankit.train)
    data: str = "image"     # "image": (C, H, W); "points": 2D toy mixtures; "video": (C, T, H, W)
    size: int | None = None  # the only image side a conv model makes; None: any
    data_arg: str = "channels"  # what the data gives each network: "channels", "image"
                                # (channels and the square side) or "shape"


ARCHITECTURES = {
    "mlp": Architecture(MLPGenerator, MLPDiscriminator, "gan", data_arg="shape"),
    "dcgan28": Architecture(DCGANGenerator28, DCGANDiscriminator28, "gan", size=28),
    "dcgan64": Architecture(DCGANGenerator64, DCGANDiscriminator64, "gan", size=64),
    "dcgan": Architecture(DCGANGenerator, DCGANDiscriminator, "gan", data_arg="image"),
    "toy-mlp": Architecture(ToyGenerator, ToyDiscriminator, "gan", data="points", data_arg=""),
    "vae": Architecture(VAEDecoder, VAEEncoder, "vae", size=28),
    "tgan": Architecture(TGANGenerator, VideoDiscriminator, "video", data="video",
                         data_arg="shape"),
}
MODEL_NAMES = tuple(ARCHITECTURES)
# Image sides any architecture takes: below 8 no conv stack has room for a layer (and an MLP's
# "image" is a handful of pixels, nothing a metric or a person can judge); above 1024 the
# networks outgrow any machine gankit is meant for.
MIN_SIDE, MAX_SIDE = 8, 1024
GENERATORS = {name: arch.G for name, arch in ARCHITECTURES.items()}  # what a snapshot names


def architecture(name: str) -> Architecture:
    if name not in ARCHITECTURES:
        raise GankitError(f"unknown model.name {name!r}: choose one of {', '.join(MODEL_NAMES)}")
    return ARCHITECTURES[name]


def config_keys(name: str) -> set[str]:
    """The `model.*` keys an architecture reads (spectral norm applies to any GAN's D)."""
    arch = architecture(name)
    keys = {"name", *arch.G.config_args.values(), *arch.D.config_args.values()}
    return keys | {"d_spectral_norm"} if arch.kind in ("gan", "video") else keys


def _check_data(name: str, arch: Architecture, data_shape: tuple) -> None:
    if arch.data == "video":
        return check_clip_shape(tuple(data_shape))
    if len(data_shape) == 4:
        raise GankitError(f"model.name {name!r} makes images and the data is video clips: "
                          "set model.name=tgan")
    if arch.data == "points":
        if tuple(data_shape) != (2,):
            raise GankitError(f"model.name {name!r} needs a 2D toy data set (data.name toy-ring "
                              "or toy-grid)")
        return
    if len(data_shape) != 3:
        raise GankitError(f"model.name {name!r} needs image data; for toy data use "
                          "model.name=toy-mlp")
    # (the DCGAN family and the fixed-size models say what they make themselves, below)
    free = arch.data_arg != "image" and not arch.size
    if max(data_shape[1:]) > MAX_SIDE or (free and min(data_shape[1:]) < MIN_SIDE):
        raise GankitError(f"model.name {name!r} makes images {MIN_SIDE} to {MAX_SIDE} pixels "
                          f"a side and the data is {data_shape[1]}x{data_shape[2]}: set "
                          f"data.image_size in {MIN_SIDE}..{MAX_SIDE} (e.g. "
                          f"{arch.size or (64 if arch.data_arg == 'image' else 28)})")
    if arch.data_arg == "image" and data_shape[1] != data_shape[2]:
        raise GankitError(f"model.name {name!r} makes square images but the data is "
                          f"{data_shape[1]}x{data_shape[2]}: set data.image_size to one side")
    if arch.size and tuple(data_shape[1:]) != (arch.size, arch.size):
        raise GankitError(f"model.name {name!r} makes {arch.size}x{arch.size} images but the data "
                          f"is {data_shape[1]}x{data_shape[2]}: set data.image_size={arch.size}")


def model_kwargs(model, data_shape: tuple) -> tuple[dict, dict]:
    """Constructor arguments of the two networks for a ModelConfig and a data shape (C, H, W)
    or (2,). A key set away from its default that this architecture ignores is refused."""
    name = model.name
    arch = architecture(name)
    used = config_keys(name)
    defaults = type(model)()
    ignored = [f.name for f in dataclasses.fields(model) if f.name not in used
               and getattr(model, f.name) != getattr(defaults, f.name)]
    if "n_classes" in ignored:
        raise GankitError(f"model.name {name!r} is unconditional (it takes no classes): set "
                          "model.n_classes=0")
    if ignored:
        keys = ", ".join(f"model.{k}={getattr(model, k)}" for k in ignored)
        raise GankitError(f"{keys}: model.name {name!r} does not use it (it takes "
                          f"{', '.join('model.' + k for k in sorted(used - {'name'}))}); "
                          "remove it or choose a model that does")
    if model.upsample not in UPSAMPLE_MODES:
        raise GankitError(f"model.upsample must be one of {', '.join(UPSAMPLE_MODES)}, "
                          f"got {model.upsample!r}")
    _check_data(name, arch, data_shape)
    channels = {"channels": data_shape[0]} if len(data_shape) == 3 else {}
    data = {"channels": channels, "image": {**channels, "size": data_shape[-1]},
            "shape": {"shape": tuple(data_shape)}, "": {}}[arch.data_arg]
    g = {**{arg: getattr(model, key) for arg, key in arch.G.config_args.items()}, **data}
    d = {**{arg: getattr(model, key) for arg, key in arch.D.config_args.items()}, **data}
    return g, d


def check_training_size(model, data_shape: tuple, device="cpu") -> None:
    """Refuse, before a weight is allocated, networks that cannot fit in memory
    (`gankit.models.size`: built on the meta device and counted)."""
    try:
        G, D, _ = on_meta(lambda: build_models(model, data_shape))
    except (NotImplementedError, RuntimeError):  # it loads weights (a shipped content G):
        return                                   # the real build is the check
    check_fits(weight_bytes(G, D), f"model.name {model.name!r} with model.g_hidden="
               f"{model.g_hidden}, model.d_hidden={model.d_hidden}, model.z_dim={model.z_dim} "
               f"on {'x'.join(map(str, data_shape))} data",
               "lower the widths or data.image_size", device)


def check_batch_size(G: nn.Module, D: nn.Module, data_shape: tuple, batch: int,
                     device="cpu") -> None:
    """Refuse a batch whose activations, with the weights, cannot fit in memory."""
    per_sample = activation_bytes_per_sample(G, D, tuple(data_shape))
    check_fits(weight_bytes(G, D) + batch * per_sample,
               f"train.batch_size={batch:,} ({gib(per_sample)} of activations a sample)",
               "lower train.batch_size (or the widths)", device)


def build_generator(name: str, kwargs: dict) -> nn.Module:
    return architecture(name).G(**kwargs)


def spectrally_normalise(module: nn.Module) -> nn.Module:
    """Put spectral_norm on every Linear and (transposed) conv weight of `module`, in place."""
    for m in list(module.modules()):
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.Conv3d)):
            spectral_norm(m)
    return module


def build_models(model, data_shape: tuple) -> tuple[nn.Module, nn.Module, dict]:
    """(G, the second network, G's constructor arguments). Built once per run."""
    g_kwargs, d_kwargs = model_kwargs(model, data_shape)
    arch = architecture(model.name)
    G = arch.G(**g_kwargs)  # G first: the seeded initial weights stay as they were
    D = arch.D(**d_kwargs)
    if model.d_spectral_norm:
        spectrally_normalise(D)
    return G, D, g_kwargs
