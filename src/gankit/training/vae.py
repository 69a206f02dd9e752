"""The VAE's update (Kingma & Welling 2014): one Adam step on the negative ELBO, nothing else.

    -ELBO(x) = E_q(z|x)[-log p(x | z)] + KL(q(z | x) || N(0, I))
             ≈ reconstruction_nll(decoder logits at one z ~ q, x) + kl_divergence(μ, log σ²)

with z = μ + σ·ε (the reparameterisation trick) so the gradient flows through the sample.
Pixels are Bernoulli: x in [-1, 1] is read as the probability (x + 1) / 2 of white, as
Kingma & Welling do for MNIST. Both terms are in nats per image.

`VAETrainer` is a `gankit.training.protocol.Trainer`, so a VAE run has the same directory, logs,
samples, snapshot, resume and report as a GAN run. The snapshot is the decoder.
"""

import itertools

import torch
import torch.nn.functional as F

from gankit.data.stream import batches_for
from gankit.errors import GankitError
from gankit.models import build_models
from gankit.stats import report
from gankit.training.optim import Adam


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag σ²) || N(0, I)) in closed form: (B, Z), (B, Z) -> (B,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | z) for Bernoulli pixels: decoder logits and images in [-1, 1] -> (B,)."""
    nll = F.binary_cross_entropy_with_logits(logits, (x + 1) / 2, reduction="none")
    return nll.flatten(1).sum(1)


class VAETrainer:
    """The `gankit.training.protocol.Trainer` of the VAE: its "models" are (decoder, encoder)."""
    kind = "vae"
    bar_names = {"loss": "-ELBO", "recon": "recon", "kl": "KL"}
    monitored = False  # the health signs read a D; there is none

    @classmethod
    def check(cls, cfg, data, models) -> None:
        t, loss = cfg.train, cfg.loss
        gan_only = [k for k, on in (("train.d_steps", t.d_steps != 1),
                                    ("train.ema_decay", t.ema_decay > 0),
                                    ("train.ema_kimg", t.ema_kimg > 0),
                                    ("train.diffaugment", bool(t.diffaugment)),
                                    ("loss.r1_gamma", loss.r1_gamma > 0),
                                    ("loss.label_smoothing", loss.label_smoothing > 0),
                                    ("loss.instance_noise", loss.instance_noise > 0)) if on]
        if gan_only or loss.d_loss != "bce" or loss.g_loss:
            raise GankitError(f"{', '.join(gan_only) or 'loss.d_loss / loss.g_loss'}: GAN "
                              "settings have no meaning for model.name=vae; leave them at their "
                              "defaults")

    def __init__(self, cfg, data, device: torch.device, world=None, models: tuple | None = None):
        if world is not None and world.size > 1:
            raise GankitError("model.name=vae trains in one process: run it without torchrun")
        self.cfg, self.device = cfg, device
        G, E, self.g_kwargs = models or build_models(cfg.model, data.shape)
        self.check(cfg, data, (G, E, self.g_kwargs))  # as the GAN trainer: built directly too
        self.G, self.E = G.to(device), E.to(device)
        o = cfg.optim  # one optimiser for both halves, at the generator's learning rate
        self.opt = Adam(itertools.chain(self.E.parameters(), self.G.parameters()),
                                    lr=o.lr_g, betas=(o.beta1, o.beta2))
        # Batches from memory on the device, or streamed from disk (as the GAN trainer does).
        self.sampler = batches_for(data, cfg.train.batch_size, device, workers=cfg.data.workers,
                                   seed=cfg.train.seed)
        self.step = 0

    @property
    def generator(self) -> torch.nn.Module:
        return self.G

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.cfg.model.z_dim, generator=generator).to(self.device)

    def train_step(self) -> None:
        """One step on a batch. Reports -ELBO, reconstruction and KL, nats per image."""
        x = self.sampler.next(self.device)                          # (B, C, H, W)
        mu, logvar = self.E(x)                                      # (B, Z) each
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)        # (B, Z)
        recon = reconstruction_nll(self.G.logits(z), x)              # (B,)
        kl = kl_divergence(mu, logvar)                              # (B,)
        loss = (recon + kl).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.step += 1
        report("loss", loss)
        report("recon", recon)                                      # (B,): per image
        report("kl", kl)

    def set_learning_rates(self, factor: float) -> None:
        for group in self.opt.param_groups:
            group["lr"] = self.cfg.optim.lr_g * factor

    @torch.no_grad()
    def sample(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        self.G.eval()
        try:
            return self.G(z.to(self.device)).cpu()
        finally:
            self.G.train()

    def state_dict(self) -> dict:
        return {"G": self.G.state_dict(), "E": self.E.state_dict(), "opt": self.opt.state_dict(),
                "step": self.step}

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.E.load_state_dict(state["E"])
        self.opt.load_state_dict(state["opt"])
        self.step = int(state["step"])
