"""The alternating GAN update of Goodfellow et al. (2014), Algorithm 1, and nothing else.

One `train_step` is `d_steps` discriminator updates followed by one generator update:
1. D on a real batch (label 1) and on G's fakes, detached so no gradient reaches G (label 0);
2. G through D with D's parameters frozen, so D is a fixed judge and only G moves.

A conditional GAN (model.n_classes > 0) draws each real batch with its labels and gives the
fakes labels drawn uniformly; D judges every image together with its label.

The generator update reuses the fakes of the last D update, whose graph through G is still
intact (as pytorch/examples' DCGAN does): no second forward pass through G.
"""

import torch
from torch.optim.swa_utils import AveragedModel

from gankit.data import IndexSampler
from gankit.errors import GankitError
from gankit.losses import get_losses, r1_penalty
from gankit.models import build_models


def class_labels(n_classes: int, data) -> torch.Tensor | None:
    """The data's labels (N,) for a conditional run, None for an unconditional one."""
    if not n_classes:
        return None
    labels, names = getattr(data, "labels", None), getattr(data, "class_names", None)
    if labels is None or not names or hasattr(data, "centres"):
        raise GankitError(f"model.n_classes={n_classes} needs labelled images, and "
                          f"data.name {data.name!r} here has none (a folder has classes when "
                          "every image sits in a class subfolder): set model.n_classes=0")
    if len(names) != n_classes:
        raise GankitError(f"model.n_classes={n_classes} but the data has {len(names)} classes: "
                          f"set model.n_classes={len(names)}")
    return labels.long()


class Trainer:
    def __init__(self, cfg, data, device: torch.device):
        self.cfg, self.device = cfg, device
        self.G, self.D, self.g_kwargs = build_models(cfg.model, data.shape)
        self.G.to(device)
        self.D.to(device)
        o = cfg.optim
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))
        self.d_loss, self.g_loss = get_losses(cfg.loss.d_loss, cfg.loss.g_loss)
        # Toy data has `points`, images have `images`; either way (N, ...) on the device.
        self.x = (data.points if hasattr(data, "points") else data.images).to(device)
        self.sampler = IndexSampler(len(self.x), cfg.train.batch_size)
        self.n_classes = cfg.model.n_classes
        self.y = class_labels(self.n_classes, data)                 # (N,) or None
        if self.y is not None:
            self.y = self.y.to(device)
        self.step = 0
        self.d_updates = 0
        # An exponential moving average of G's weights and BatchNorm statistics, used for
        # sampling and evaluation when train.ema_decay > 0.
        self.G_ema = None
        if cfg.train.ema_decay > 0:
            self.G_ema = AveragedModel(self.G, avg_fn=self._ema_avg, use_buffers=True)

    def _ema_avg(self, averaged, current, n_averaged):
        # Ramp the decay up from 0 (as TensorFlow's ExponentialMovingAverage does with
        # num_updates) so the first weights, which are noise, wash out quickly.
        decay = min(self.cfg.train.ema_decay, (1 + n_averaged) / (10 + n_averaged))
        return averaged + (current - averaged) * (1 - decay)

    @property
    def generator(self) -> torch.nn.Module:
        """The generator to sample from: the EMA when there is one."""
        return self.G_ema.module if self.G_ema is not None else self.G

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.cfg.model.z_dim, generator=generator).to(self.device)

    def batch_labels(self, idx: torch.Tensor):
        """(labels of the real batch, uniform labels for the fakes), or (None, None)."""
        if self.y is None:
            return None, None
        return self.y[idx], torch.randint(self.n_classes, (len(idx),)).to(self.device)

    def train_step(self) -> torch.Tensor:
        """One generator step. Returns [d_loss, g_loss, mean D(x), mean D(G(z))] (detached)."""
        t = self.cfg.train
        for k in range(t.d_steps):
            idx = self.sampler.next(self.device)
            real = self.x[idx]                                       # (B, ...)
            y_real, y_fake = self.batch_labels(idx)                  # (B,) each, or None
            z = self.noise(t.batch_size)                             # (B, z_dim)
            with torch.set_grad_enabled(k == t.d_steps - 1):         # only the last G pass is reused
                fake = self.G(z, y_fake)
            r1 = self.cfg.loss.r1_gamma > 0 and self.d_updates % self.cfg.loss.r1_every == 0
            real.requires_grad_(r1)
            real_logits = self.D(real, y_real)                       # (B,)
            fake_logits = self.D(fake.detach(), y_fake)              # (B,)
            loss_d = self.d_loss(real_logits, fake_logits, self.cfg.loss.label_smoothing)
            if r1:  # lazy R1 (StyleGAN2): every r1_every D steps, scaled up to compensate
                loss_d = loss_d + (self.cfg.loss.r1_gamma / 2 * self.cfg.loss.r1_every
                                   * r1_penalty(real, real_logits))
            self.d_updates += 1
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()

        self.D.requires_grad_(False)                                 # freeze the judge
        loss_g = self.g_loss(self.D(fake, y_fake))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        if self.G_ema is not None:
            self.G_ema.update_parameters(self.G)
        self.step += 1
        return torch.stack([loss_d, loss_g, torch.sigmoid(real_logits).mean(),
                            torch.sigmoid(fake_logits).mean()]).detach()

    @torch.no_grad()
    def sample(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """G in eval mode (BatchNorm running statistics), then back to training mode."""
        G = self.generator
        G.eval()
        try:
            return G(z.to(self.device), None if y is None else y.to(self.device)).cpu()
        finally:
            G.train()

    def state_dict(self) -> dict:
        return {"G": self.G.state_dict(), "D": self.D.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "sampler": self.sampler.state_dict(), "step": self.step,
                "d_updates": self.d_updates,
                "G_ema": self.G_ema.state_dict() if self.G_ema is not None else {}}

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.sampler.load_state_dict(state["sampler"])
        if self.G_ema is not None:
            self.G_ema.load_state_dict(state["G_ema"])
        self.step = int(state["step"])
        self.d_updates = int(state["d_updates"])
