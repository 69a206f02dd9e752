"""`gankit train`: a run directory, the training loop around `Trainer`, logs, samples, checkpoints.

The run directory is a contract (as in StyleGAN2-ADA): `config.json`, `stats.jsonl`,
`samples/step-NNNNNN.png` from one fixed noise batch, the generator snapshot and `state.pt`.
"""

import dataclasses
import json
import math
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from gankit.artifacts import write_json
from gankit.config import Config, from_dict, validate
from gankit.data import load_data
from gankit.errors import GankitError
from gankit.models import build_models, model_kwargs
from gankit.models.snapshot import save_snapshot
from gankit.train import accel
from gankit.train import checkpoint as ckpt
from gankit.train.distributed import World, init_world, shutdown
from gankit.train.health import HealthMonitor, record_restore
from gankit.train.trainer import STAT_NAMES, Trainer, check_setup, class_labels
from gankit.train.vae import VAETrainer
from gankit.viz import save_grid, save_scatter

# torch's own default (one thread per core), so train.threads=0 restores it even after an
# earlier run in this process chose another count.
DEFAULT_THREADS = torch.get_num_threads()
# The update step by model.name: a GAN's alternating updates unless the model has its own.
# The health monitor, automatic restores and the report read a GAN's statistics: GAN only.
TRAINERS = {"vae": VAETrainer}
BAR_NAMES = {"d_loss": "D", "g_loss": "G", "d_real": "D(x)", "d_fake": "D(G(z))"}  # progress bar
# Keys a resumed run may change: how long and how it reports, never what it trains.
RESUMABLE_KEYS = {"train.steps", "train.sample_every", "train.log_every", "train.ckpt_every",
                  "train.device", "train.time_limit", "train.report", "train.tensorboard",
                  *(f"health.{k}" for k in ("every", "n", "patience", "d_fake_floor", "d_gap",
                                            "collapse_drop", "max_restarts", "restart_lr"))}


class Diverged(Exception):
    """A non-finite loss or gradient; `Run.fit` answers it by restoring the last good checkpoint."""

    def __init__(self, step: int, what: str):
        super().__init__(f"step {step}: {what}")
        self.step, self.what = step, what


def new_run_dir(out: str | None, preset: str, root: str = "runs") -> Path:
    """Create the run directory; never reuse one that holds anything."""
    if out:
        path = Path(out)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise GankitError(f"--out {out} exists and is not empty: choose a new directory "
                              "(a run never overwrites another)")
        path.mkdir(parents=True, exist_ok=True)
        return path
    Path(root).mkdir(parents=True, exist_ok=True)
    while True:  # numbered like StyleGAN's 00000-name; mkdir is the atomic claim
        numbers = [int(m.group(1)) for p in Path(root).iterdir()
                   if (m := re.match(r"(\d{5})-", p.name))]
        path = Path(root) / f"{max(numbers, default=-1) + 1:05d}-{preset}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def load_training_data(cfg: Config):
    d = cfg.data
    return load_data(d.name, d.path or None, image_size=d.image_size or None,
                     channels=d.channels or None, split=d.split, download=d.download,
                     n_toy=d.n_toy, seed=cfg.train.seed, stream_mb=d.stream_mb)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Run:
    """Everything `gankit train` does around the update step."""

    def __init__(self, cfg: Config, run_dir: Path, data, resume_state: dict | None = None,
                 world: World = World()):
        self.cfg, self.dir, self.data, self.world = cfg, Path(run_dir), data, world
        torch.set_num_threads(cfg.train.threads or DEFAULT_THREADS)
        seed_everything(cfg.train.seed + world.rank)  # each process its own batches and noise
        self.device = world.device(cfg.train.device)
        self.trainer = TRAINERS.get(cfg.model.name, Trainer)(cfg, self.data, self.device, world)
        self.stat_names = getattr(self.trainer, "stat_names", STAT_NAMES)
        self.gan = self.stat_names == STAT_NAMES
        # One fixed noise batch for every sample grid, from its own generator so that drawing
        # it never disturbs the training RNG stream.
        # A conditional run shows one class per row: n_classes rows of `grid_cols` samples.
        n_classes = cfg.model.n_classes
        self.grid_cols = (math.ceil(cfg.train.n_samples / n_classes) if n_classes
                          else math.ceil(math.sqrt(cfg.train.n_samples)))
        n_fixed = n_classes * self.grid_cols if n_classes else cfg.train.n_samples
        self.fixed_z = self.trainer.noise(n_fixed, torch.Generator().manual_seed(cfg.train.seed))
        self.fixed_y = (torch.arange(n_classes).repeat_interleave(self.grid_cols)
                        if n_classes else None)
        self.elapsed = 0.0
        if resume_state is not None:
            self.trainer.load_state_dict(resume_state["trainer"])
            mine = resume_state.get("ranks", [resume_state])[world.rank]  # older runs: one
            self.trainer.sampler.load_state_dict(mine["sampler"])
            ckpt.set_rng_state(mine["rng"])
            self.elapsed = float(resume_state["elapsed"])
        # Only rank 0 writes: the samples, the health log, TensorBoard.
        self.monitor, self.tb = None, None
        if world.is_main:
            (self.dir / "samples").mkdir(exist_ok=True)
            if cfg.health.every and self.gan:
                self.monitor = HealthMonitor(cfg, data, self.dir, self.device)
            if cfg.train.tensorboard:
                from gankit.report.tensorboard import TensorBoard
                self.tb = TensorBoard(self.dir)

    # -- outputs -------------------------------------------------------------------------
    def save_samples(self) -> Path:
        path = self.dir / "samples" / f"step-{self.trainer.step:06d}.png"
        if hasattr(self.data, "centres"):
            many = self.trainer.sample(self.trainer.noise(2500, torch.Generator().manual_seed(1)))
            save_scatter(many, path, self.data.centres, f"{self.cfg.preset}, step {self.trainer.step}")
        else:
            fake = (self.trainer.sample(self.fixed_z) if self.fixed_y is None
                    else self.trainer.sample(self.fixed_z, self.fixed_y))
            save_grid(fake, path, nrow=self.grid_cols)
        return path

    def measure(self) -> dict:
        """The metrics of `train.eval_every`, on G in eval mode (no training RNG is drawn)."""
        from gankit.metrics import evaluate, parse_metrics
        tc, t = self.cfg.train, self.trainer
        toy_data = hasattr(self.data, "centres")
        default = ("modes" if toy_data else
                   "fid,coverage" + (",class_acc" if self.cfg.model.n_classes else ""))
        names = parse_metrics(tc.eval_metrics or default, toy_data)
        meta = {"data_shape": list(self.data.shape), "data": dataclasses.asdict(self.cfg.data),
                "step": t.step, "preset": self.cfg.preset}
        G = t.generator
        G.eval()
        try:
            return evaluate(G, meta, names, n=tc.eval_n)
        finally:
            G.train()

    def save_checkpoint(self) -> None:
        """Called on every process: each hands rank 0 its own batch order and RNG state."""
        t = self.trainer
        ranks = self.world.gather({"sampler": t.sampler.state_dict(), "rng": ckpt.rng_state()})
        if not self.world.is_main:
            return
        save_snapshot(self.dir, t.generator, self.cfg.model.name, t.g_kwargs, self.data.shape,
                      getattr(self.data, "class_names", None),
                      extra={"step": t.step, "preset": self.cfg.preset,
                             "data": dataclasses.asdict(self.cfg.data)})
        ckpt.save_state(self.dir, {"trainer": t.state_dict(), "ranks": ranks,
                                   "world_size": self.world.size, "elapsed": self.elapsed})

    # -- the loop ------------------------------------------------------------------------
    def fit(self) -> Path:
        """Train to train.steps; on divergence restore the last good checkpoint, a bounded
        number of times; then write the report."""
        restores = 0
        try:
            while True:
                try:
                    last_sample = self._fit()
                    break
                except Diverged as e:
                    if restores == self.cfg.health.max_restarts or not self.gan:
                        raise GankitError(
                            f"training diverged at step {e.step} ({e.what}) after "
                            f"{restores} automatic restore(s): lower optim.lr_d / optim.lr_g or "
                            f"use loss.g_loss=non-saturating; the last checkpoint in {self.dir} "
                            "is intact") from None
                    restores += 1
                    self.restore(e, restores)
        finally:
            if self.tb is not None:
                self.tb.close()
        if self.cfg.train.report and self.world.is_main and self.gan:
            from gankit.report import write_report
            write_report(self.dir)
        return last_sample

    def restore(self, e: Diverged, attempt: int) -> None:
        """Back to state.pt (or fresh weights before the first checkpoint), with learning rates
        times health.restart_lr ** attempt and a new random stream, so the retry differs.
        Under torchrun every process restores at the same step (the check is agreed)."""
        cfg, world = self.cfg, self.world
        if (self.dir / ckpt.STATE).is_file():
            self.trainer.load_state_dict(ckpt.load_state(self.dir)["trainer"])
        else:
            seed_everything(cfg.train.seed + attempt + world.rank)
            self.trainer = Trainer(cfg, self.data, self.device, world)
        torch.manual_seed(cfg.train.seed + 1_000_003 * attempt + world.rank)
        lrs = (cfg.optim.lr_g * cfg.health.restart_lr ** attempt,
               cfg.optim.lr_d * cfg.health.restart_lr ** attempt)
        for opt, lr in zip((self.trainer.opt_g, self.trainer.opt_d), lrs):
            for group in opt.param_groups:
                group["lr"] = lr
        if self.monitor is not None:
            self.monitor.reset_window()
        if world.is_main:
            tqdm.write(str(record_restore(self.dir, e.step, self.trainer.step, attempt,
                                          cfg.health.max_restarts, lrs, e.what)), file=sys.stderr)

    def _fit(self) -> Path:
        t, tc, world = self.trainer, self.cfg.train, self.world
        imgs_per_step = tc.batch_size * tc.d_steps * world.size  # over every process
        window = torch.zeros(len(self.stat_names), device=self.device)
        n_window, t_window = 0, time.perf_counter()
        start = time.perf_counter() - self.elapsed
        last_sample, first_step = None, t.step
        stats_file = open(self.dir / "stats.jsonl" if world.is_main else os.devnull, "a")
        # In a terminal the bar redraws in place; in a log file, one line every 30 s.
        bar = tqdm(total=tc.steps, initial=t.step, unit="step", dynamic_ncols=True,
                   desc=self.cfg.preset, mininterval=0.5 if sys.stderr.isatty() else 30,
                   disable=not world.is_main)
        try:
            while t.step < tc.steps:
                stats = t.train_step()
                window += stats
                n_window += 1
                if self.monitor is not None:
                    self.monitor.update(stats)
                bar.update(1)
                self.elapsed = time.perf_counter() - start
                out_of_time = world.any(bool(tc.time_limit) and self.elapsed >= tc.time_limit,
                                        self.device)
                done = t.step == tc.steps or out_of_time
                health = self.monitor is not None and t.step % self.cfg.health.every == 0
                if done or any(k and t.step % k == 0 for k in (
                        self.cfg.health.every, tc.log_every, tc.sample_every, tc.ckpt_every,
                        tc.eval_every)):
                    # Before anything is written: a non-finite loss or gradient since the last
                    # log line means the run diverged (the sum keeps any nan or inf; the mean
                    # over processes spreads it, so every process restores together).
                    summed = world.mean(window).tolist()
                    bad = [k for k, v in zip(self.stat_names, summed) if not math.isfinite(v)]
                    if bad:
                        raise Diverged(t.step, "non-finite " + ", ".join(bad))
                if t.step % tc.log_every == 0 or done:
                    now = time.perf_counter()
                    means = world.mean(window / n_window).tolist()
                    rec = {"step": t.step, "kimg": t.step * imgs_per_step / 1000,
                           "time_s": round(self.elapsed, 3),
                           "img_per_s": round(n_window * imgs_per_step / (now - t_window), 1),
                           **{k: round(v, 5) for k, v in zip(self.stat_names, means)}}
                    stats_file.write(json.dumps(rec) + "\n")
                    stats_file.flush()
                    if self.tb is not None:
                        self.tb.scalars("train", rec, t.step)
                    bar.set_postfix_str(f"img/s {rec['img_per_s']:.0f} " + " ".join(
                        f"{BAR_NAMES.get(k, k)} {v:.3f}" for k, v in zip(self.stat_names, means)
                        if k in BAR_NAMES or not self.gan))
                    window.zero_()
                    n_window, t_window = 0, now
                if health:
                    for diagnosis in self.monitor.check(t.step, t.generator):
                        bar.write(str(diagnosis), file=sys.stderr)  # beside the progress bar
                    if self.tb is not None:
                        self.tb.scalars("health", self.monitor.history[-1], t.step)
                if world.is_main and tc.eval_every and (t.step % tc.eval_every == 0 or done):
                    measured = self.measure()
                    stats_file.write(json.dumps({"step": t.step, **measured}) + "\n")
                    stats_file.flush()
                    if self.tb is not None:
                        self.tb.scalars("metrics", measured["metrics"], t.step)
                if world.is_main and (t.step % tc.sample_every == 0 or done):
                    last_sample = self.save_samples()
                    if self.tb is not None:
                        self.tb.image("samples", last_sample, t.step)
                if t.step % tc.ckpt_every == 0 or done:
                    self.save_checkpoint()
                if out_of_time:
                    bar.write(f"stopping at step {t.step}: train.time_limit={tc.time_limit}s reached")
                    break
        finally:
            bar.close()
            stats_file.close()
        if t.step == first_step:  # resumed a run that had already reached train.steps
            if world.is_main:
                last_sample = self.save_samples()
            self.save_checkpoint()
        return last_sample


def check_measurable(cfg: Config, data) -> None:
    from gankit.metrics import parse_metrics
    from gankit.metrics.evaluator import EVALUATORS
    toy_data = hasattr(data, "centres")
    parse_metrics(cfg.train.eval_metrics or ("modes" if toy_data else "fid"), toy_data)
    if not toy_data and cfg.data.name not in EVALUATORS:
        raise GankitError(f"train.eval_every needs a domain evaluator, and there is none for "
                          f"data.name {cfg.data.name!r} ({', '.join(EVALUATORS)} have one): "
                          "set train.eval_every=0")


def start(cfg: Config, out: str | None) -> tuple[Path, Path]:
    validate(cfg)
    accel.check(cfg.train, cfg.loss)
    # Fail on bad data, model or loss before a run directory is created.
    data = load_training_data(cfg)
    if cfg.model.name in TRAINERS:  # not a GAN: no D to check
        model_kwargs(cfg.model, data.shape)
    else:
        check_setup(cfg, data, build_models(cfg.model, data.shape)[1])
    class_labels(cfg.model.n_classes, data)
    if cfg.train.tensorboard:
        from gankit.report.tensorboard import require_tensorboard
        require_tensorboard()
    if cfg.train.eval_every:
        check_measurable(cfg, data)
    world = init_world(cfg.train.device)
    try:
        world.device(cfg.train.device)  # no CUDA where it was asked for: fail before writing
        run_dir = Path(world.share(str(new_run_dir(out, cfg.preset)) if world.is_main else None))
        if world.is_main:
            write_json(run_dir / "config.json", config_record(cfg, world))
        return run_dir, Run(cfg, run_dir, data, world=world).fit()
    finally:
        shutdown()


def config_record(cfg: Config, world: World) -> dict:
    """config.json: the config, and how many processes shared the batch (torchrun)."""
    b = cfg.train.batch_size
    return {**cfg.to_dict(), "world": {"size": world.size, "batch_per_process": b,
                                       "effective_batch": b * world.size}}


def resume(run_dir: str, overrides: list[str]) -> tuple[Path, Path]:
    from gankit.config import apply_overrides
    path = Path(run_dir)
    if not (path / "config.json").is_file():
        raise GankitError(f"--resume {run_dir}: not a run directory (no config.json); give a "
                          "directory written by gankit train")
    for item in overrides:
        key = item.partition("=")[0].strip()
        if key not in RESUMABLE_KEYS:
            raise GankitError(f"--set {key} cannot change when resuming: only "
                              f"{', '.join(sorted(RESUMABLE_KEYS))} can (start a new run instead)")
    cfg = from_dict(json.loads((path / "config.json").read_text()))
    apply_overrides(cfg, overrides)
    validate(cfg)
    state = ckpt.load_state(path)
    data = load_training_data(cfg)
    world = init_world(cfg.train.device)
    try:
        if state.get("world_size", 1) != world.size:
            raise GankitError(f"{run_dir} was trained by {state.get('world_size', 1)} process(es) "
                              f"and this resume has {world.size}: resume it with torchrun "
                              f"--nproc-per-node {state.get('world_size', 1)} (or without "
                              "torchrun for 1)")
        if world.is_main:
            write_json(path / "config.json", config_record(cfg, world))
        return path, Run(cfg, path, data, resume_state=state, world=world).fit()
    finally:
        shutdown()
