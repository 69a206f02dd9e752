"""What a trainer is: the one interface the training loop (`loop.py`) talks to.

A trainer owns its networks, optimisers and batches, and does one update per `train_step`.
Which trainer trains a run is decided by the kind of model (`gankit.models.Architecture.kind`:
a GAN's alternating updates, a VAE's ELBO step, and room for more), through `TRAINERS`, so the
loop never asks which kind it drives. `GANTrainer`, `VAETrainer` and `VideoGANTrainer`
implement it.

    cls = trainer_class(cfg)
    cls.check(cfg, data, models)           # before a run directory exists
    trainer = cls(cfg, data, device, world, models)
    trainer.train_step()                   # its statistics: gankit.stats.report(name, value)
"""

from typing import ClassVar, Protocol

import torch

from gankit.models import architecture
from gankit.training.gan import GANTrainer
from gankit.training.vae import VAETrainer
from gankit.training.video import VideoGANTrainer


class Trainer(Protocol):
    kind: ClassVar[str]                      # the registry key: "gan", "vae", ...
    bar_names: ClassVar[dict[str, str]]      # the reported stats the progress bar shows, labelled
    monitored: ClassVar[bool]                # the health monitor and automatic restores apply
    step: int                                # updates done
    g_kwargs: dict                           # the generator's constructor arguments (its card)
    sampler: object                          # the batches: state_dict / load_state_dict

    @classmethod
    def check(cls, cfg, data, models) -> None:
        """Refuse a setting this kind cannot train, before anything is written."""

    @property
    def generator(self) -> torch.nn.Module:
        """The network to sample from and snapshot."""

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor: ...

    def train_step(self) -> None:
        """One update; its statistics go to `gankit.stats.report`, on the device: no sync."""

    def sample(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The generator in eval mode on z (and labels y), on the CPU."""

    def set_learning_rates(self, factor: float) -> None:
        """Every optimiser's learning rate = the configured one x factor (after a restore)."""

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict) -> None: ...


# The registry, by the kind of model: a new kind of model is one more entry here (as the VAE
# and the video GAN were).
TRAINERS: dict[str, type] = {t.kind: t for t in (GANTrainer, VAETrainer, VideoGANTrainer)}


def trainer_class(cfg) -> type:
    """The trainer for this config's model (its architecture's kind)."""
    return TRAINERS[architecture(cfg.model.name).kind]
