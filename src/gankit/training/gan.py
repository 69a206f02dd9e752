"""The alternating GAN update of Goodfellow et al. (2014), Algorithm 1, and nothing else.

One `train_step` is `d_steps` discriminator updates followed by one generator update:
1. D on a real batch (label 1) and on G's fakes, detached so no gradient reaches G (label 0);
2. G through D with D's parameters frozen, so D is a fixed judge and only G moves.

A conditional GAN (model.n_classes > 0) draws each real batch with its labels and gives the
fakes labels drawn uniformly; D judges every image together with its label. A D with a class
head (model.d_classify) adds AC-GAN's term (Odena et al. 2017), weighted by loss.ac_weight:
D learns to name the class of the real images, and G to draw fakes that D names as the class
they were asked for. Unlike AC-GAN's paper, D fits its head on real images only, so G is
judged by a classifier of the data rather than one that also learns G's own mistakes.

The generator update reuses the fakes of the last D update, whose graph through G is still
intact (as pytorch/examples' DCGAN does): no second forward pass through G.

Every loss term calls D through `judge`, which applies what D sees in training (DiffAugment,
instance noise) the same way to real, fake and the gradient penalty's interpolates.
"""

import functools

import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel

from gankit.augment import diff_augment, instance_noise_sigma, parse_policy
from gankit.data.stream import batches_for
from gankit.errors import GankitError
from gankit.models import build_models
from gankit.losses import check_critic, get_losses, gradient_penalty, r1_penalty
from gankit.stats import report
from gankit.training.accel import accelerate, memory_format
from gankit.training.distributed import World
from gankit.training.optim import Adam


def grad_norm(module: torch.nn.Module) -> torch.Tensor:
    """The L2 norm of all of a module's gradients as one vector; stays on the device (no sync)."""
    return torch.nn.utils.get_total_norm([p.grad for p in module.parameters() if p.grad is not None])


def ema_decay(t, n_averaged: int) -> float:
    """The EMA's decay for its (n_averaged + 1)-th update, from the train config `t`.

    ema_kimg > 0: StyleGAN2-ADA's rule, a half-life of ema_kimg thousand generated images,
    capped at ema_rampup times the images generated so far, so early noise washes out yet a
    long half-life is reached in a long run. Otherwise ema_decay, ramped up from 0 as
    TensorFlow's ExponentialMovingAverage does with num_updates; that ramp, 1 - 9 / (10 + n),
    holds the decay below 0.999 for the first 8,990 updates.
    """
    if t.ema_kimg > 0:
        half_life = t.ema_kimg * 1000
        if t.ema_rampup > 0:
            half_life = min(half_life, (n_averaged + 1) * t.batch_size * t.ema_rampup)
        return 0.5 ** (t.batch_size / half_life)
    return min(t.ema_decay, (1 + n_averaged) / (10 + n_averaged))


def class_labels(n_classes: int, data) -> torch.Tensor | None:
    """The data's labels (N,) for a conditional run, None for an unconditional one."""
    if not n_classes:
        return None
    labels, names = getattr(data, "labels", None), getattr(data, "class_names", None)
    if labels is None or not names or data.is_points:
        raise GankitError(f"model.n_classes={n_classes} needs labelled images held in memory, "
                          f"and data.name {data.name!r} here has none (a folder has classes when "
                          "every image sits in a class subfolder): set model.n_classes=0")
    if len(names) != n_classes:
        raise GankitError(f"model.n_classes={n_classes} but the data has {len(names)} classes: "
                          f"set model.n_classes={len(names)}")
    return labels.long()


class GANTrainer:
    """The `gankit.training.protocol.Trainer` of every GAN."""
    kind = "gan"
    bar_names = {"d_loss": "D", "g_loss": "G", "d_real": "D(x)", "d_fake": "D(G(z))"}
    monitored = True

    @classmethod
    def check(cls, cfg, data, models) -> None:
        """Refuse combinations that cannot train, before anything is written."""
        objective, _ = get_losses(cfg.loss.d_loss, cfg.loss.g_loss)
        check_critic(objective, models[1], cfg.loss.d_loss)
        if cfg.loss.label_smoothing and not objective.smoothing:
            raise GankitError(f"loss.label_smoothing has no meaning for loss.d_loss="
                              f"{cfg.loss.d_loss}: set it to 0 or use bce or least-squares")
        classifies = getattr(models[1], "classifies", False)
        if cfg.loss.ac_weight != 1.0 and not classifies:
            raise GankitError("loss.ac_weight weighs the class head's term: set "
                              "model.d_classify=true (with model.d_cond=projection or none)")
        if classifies and not cfg.loss.ac_weight:
            raise GankitError("model.d_classify with loss.ac_weight=0 builds a class head that "
                              "nothing trains: set loss.ac_weight > 0 or model.d_classify=false")
        if parse_policy(cfg.train.diffaugment) and data.is_points:
            raise GankitError("train.diffaugment works on images only: leave it empty for toy data")
        class_labels(cfg.model.n_classes, data)

    def __init__(self, cfg, data, device: torch.device, world: World = World(),
                 models: tuple | None = None):
        """`models`: (G, D, G's constructor arguments) from `gankit.models.build_models`,
        built here when not given (the training loop builds them once, seeded)."""
        self.cfg, self.device = cfg, device
        self.G, self.D, self.g_kwargs = models or build_models(cfg.model, data.shape)
        # The loop checks before its run directory exists; a trainer built directly in Python
        # is refused by the same rules (a cheap second pass for the loop's).
        self.check(cfg, data, (self.G, self.D, self.g_kwargs))
        fmt = memory_format(cfg.train)
        self.G.to(device, memory_format=fmt)
        self.D.to(device, memory_format=fmt)
        # What the update calls: the models themselves, or their DDP wrappers under torchrun,
        # under autocast or compiled when train.precision / train.compile ask for it.
        self.G_net = accelerate(world.wrap(self.G, device), cfg.train, device)
        self.D_net = accelerate(world.wrap(self.D, device), cfg.train, device)
        self.D_frozen = accelerate(self.D, cfg.train, device)  # G's step: nothing to sync
        o = cfg.optim
        self.opt_g = Adam(self.G.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2))
        self.opt_d = Adam(self.D.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))
        self.objective, self.g_loss = get_losses(cfg.loss.d_loss, cfg.loss.g_loss)
        self.policy = parse_policy(cfg.train.diffaugment)
        self.ac_weight = cfg.loss.ac_weight if getattr(self.D, "classifies", False) else 0.0
        # Batches from memory on the device, or streamed from disk for a big image folder.
        self.n_classes = cfg.model.n_classes
        labels = class_labels(self.n_classes, data)                  # (N,) or None
        self.sampler = batches_for(data, cfg.train.batch_size, device, workers=cfg.data.workers,
                                   seed=cfg.train.seed + world.rank, memory_format=fmt,
                                   labels=labels)
        self.step = 0
        self.d_updates = 0
        # An exponential moving average of G's weights and BatchNorm statistics, used for
        # sampling and evaluation when train.ema_decay or train.ema_kimg > 0.
        self.G_ema = None
        if cfg.train.ema_decay > 0 or cfg.train.ema_kimg > 0:
            self.G_ema = AveragedModel(self.G, multi_avg_fn=self._ema_avg, use_buffers=True)

    def set_learning_rates(self, factor: float) -> None:
        for opt, lr in ((self.opt_g, self.cfg.optim.lr_g), (self.opt_d, self.cfg.optim.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * factor

    def _ema_avg(self, averaged: list, current: list, n_averaged: torch.Tensor) -> None:
        """One EMA update of a group of same-dtype tensors: one foreach kernel for all of G's
        floating-point weights and statistics (an `avg_fn` would run three small kernels per
        tensor from a Python loop); integer buffers (BatchNorm's batch count) are copied."""
        if averaged[0].is_floating_point():
            torch._foreach_lerp_(averaged, current, 1 - ema_decay(self.cfg.train, int(n_averaged)))
        else:
            torch._foreach_copy_(averaged, current)

    @property
    def generator(self) -> torch.nn.Module:
        """The generator to sample from: the EMA when there is one."""
        return self.G_ema.module if self.G_ema is not None else self.G

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.cfg.model.z_dim, generator=generator).to(self.device)

    @property
    def noise_sigma(self) -> float:
        """Instance noise now: annealed over the real images D has seen so far."""
        kimg = self.d_updates * self.cfg.train.batch_size / 1000
        return instance_noise_sigma(self.cfg.loss.instance_noise, self.cfg.loss.noise_kimg, kimg)

    def judge(self, x: torch.Tensor, y: torch.Tensor | None = None,
              net: torch.nn.Module | None = None, classes: bool = False):
        """D as every loss term sees it, the one place D is called in training: (B, ...) -> (B,),
        or with `classes` (a D with a class head) -> ((B,), class logits (B, K)).
        `net` is D_net (D's steps) unless given (G's step: D_frozen). With class labels y, the
        gradient penalty gets `functools.partial(self.judge, y=y)`."""
        x = diff_augment(x, self.policy)
        sigma = self.noise_sigma
        if sigma > 0:
            x = x + sigma * torch.randn_like(x)
        net = self.D_net if net is None else net
        return net(x, y, classes=True) if classes else net(x, y)

    def judge_with_classes(self, x: torch.Tensor, y: torch.Tensor | None,
                           net: torch.nn.Module | None = None):
        """(D's logits (B,), AC-GAN's term: loss.ac_weight times the cross-entropy of D's class
        head against y; 0 for a D without a head)."""
        if not self.ac_weight:
            return self.judge(x, y, net), 0.0
        logits, classes = self.judge(x, y, net, classes=True)       # (B,), (B, K)
        return logits, self.ac_weight * F.cross_entropy(classes, y)

    def real_batch(self):
        """(real images (B, ...), their labels (B,) or None, uniform labels for the fakes or None)."""
        if not self.n_classes:
            return self.sampler.next(self.device), None, None
        real, y_real = self.sampler.next_labelled(self.device)
        return real, y_real, torch.randint(self.n_classes, (len(real),)).to(self.device)

    def train_step(self) -> None:
        """One generator step: `d_steps` D updates, G's update on the last one's fakes, the
        EMA, the statistics. Its parts are methods so that a profile names them
        (`benchmarks/speed.py --breakdown`)."""
        t = self.cfg.train
        for k in range(t.d_steps):
            fake, y_fake, real_logits, fake_logits, loss_d = self.update_d(k == t.d_steps - 1)
        loss_g = self.update_g(fake, y_fake)
        if self.G_ema is not None:
            self.G_ema.update_parameters(self.G)
        self.step += 1
        self.statistics(loss_d, loss_g, real_logits, fake_logits)

    def update_d(self, keep_graph: bool) -> tuple:
        """One D update on a real batch and G's fakes (detached). `keep_graph`: G's pass keeps
        its graph, for G's update to reuse. Returns (fakes, their labels or None, D's logits
        on real and on fake (B,), D's loss)."""
        obj, loss = self.objective, self.cfg.loss
        real, y_real, y_fake = self.real_batch()                     # (B, ...), (B,), (B,)
        z = self.noise(self.cfg.train.batch_size)                    # (B, z_dim)
        with torch.set_grad_enabled(keep_graph):
            fake = self.G_net(z, y_fake)
        r1 = loss.r1_gamma > 0 and self.d_updates % loss.r1_every == 0
        real.requires_grad_(r1)
        real_logits, ac_d = self.judge_with_classes(real, y_real)  # (B,), AC-GAN's term
        fake_logits = self.judge(fake.detach(), y_fake)              # (B,)
        loss_d = obj.d_loss(real_logits, fake_logits, loss.label_smoothing) + ac_d
        if obj.needs_gp and self.d_updates % loss.gp_every == 0:  # lazy, scaled up as R1 is
            loss_d = loss_d + loss.gp_lambda * loss.gp_every * gradient_penalty(
                self.judge if y_real is None else functools.partial(self.judge, y=y_real),
                real, fake)
        if r1:  # lazy R1 (StyleGAN2): every r1_every D steps, scaled up to compensate
            loss_d = loss_d + loss.r1_gamma / 2 * loss.r1_every * r1_penalty(real, real_logits)
        self.d_updates += 1
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return fake, y_fake, real_logits, fake_logits, loss_d

    def update_g(self, fake: torch.Tensor, y_fake: torch.Tensor | None) -> torch.Tensor:
        """G's update through D with D's parameters frozen (a fixed judge): G's loss."""
        self.D.requires_grad_(False)
        fake_logits_g, ac_g = self.judge_with_classes(fake, y_fake, net=self.D_frozen)
        loss_g = self.g_loss(fake_logits_g) + ac_g
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        return loss_g

    def statistics(self, loss_d, loss_g, real_logits, fake_logits) -> None:
        """Reports (`gankit.stats`, on the device, no sync) the losses, D(x) and D(G(z)) and
        D's accuracy on real and on fake per sample, and the gradient norms that reached G
        and D (D's from its last update: its gradients stay until the next one). D(x) and
        D(G(z)) are probabilities for bce and raw outputs for the other objectives."""
        obj = self.objective
        report("d_loss", loss_d)
        report("g_loss", loss_g)
        report("d_real", obj.score(real_logits))                    # (B,)
        report("d_fake", obj.score(fake_logits))                    # (B,)
        report("d_acc_real", (real_logits > 0).float())             # (B,)
        report("d_acc_fake", (fake_logits < 0).float())             # (B,)
        report("g_grad", grad_norm(self.G))
        report("d_grad", grad_norm(self.D))

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
        """Networks, optimisers, EMA and counters; the batches' place is saved per process by
        the loop (each process of a torchrun has its own)."""
        return {"G": self.G.state_dict(), "D": self.D.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "step": self.step,
                "d_updates": self.d_updates,
                "G_ema": self.G_ema.state_dict() if self.G_ema is not None else {}}

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.G_ema is not None:
            self.G_ema.load_state_dict(state["G_ema"])
        self.step = int(state["step"])
        self.d_updates = int(state["d_updates"])
