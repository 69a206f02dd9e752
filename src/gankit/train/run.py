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

from gankit.config import Config, from_dict, validate
from gankit.data import load_data
from gankit.errors import GankitError
from gankit.losses import get_losses
from gankit.models import model_kwargs
from gankit.train import checkpoint as ckpt
from gankit.train.trainer import Trainer, class_labels
from gankit.viz import save_grid, save_scatter

# torch's own default (one thread per core), so train.threads=0 restores it even after an
# earlier run in this process chose another count.
DEFAULT_THREADS = torch.get_num_threads()
STAT_NAMES = ("d_loss", "g_loss", "d_real", "d_fake")
# Keys a resumed run may change: how long and how it reports, never what it trains.
RESUMABLE_KEYS = {"train.steps", "train.sample_every", "train.log_every", "train.ckpt_every",
                  "train.device", "train.time_limit"}


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise GankitError("train.device=cuda but no CUDA device is available: use "
                          "train.device=cpu or auto")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


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
                     n_toy=d.n_toy, seed=cfg.train.seed)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Run:
    """Everything `gankit train` does around the update step."""

    def __init__(self, cfg: Config, run_dir: Path, data, resume_state: dict | None = None):
        self.cfg, self.dir, self.data = cfg, Path(run_dir), data
        torch.set_num_threads(cfg.train.threads or DEFAULT_THREADS)
        seed_everything(cfg.train.seed)
        self.device = pick_device(cfg.train.device)
        self.trainer = Trainer(cfg, self.data, self.device)
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
            ckpt.set_rng_state(resume_state["rng"])
            self.elapsed = float(resume_state["elapsed"])
        (self.dir / "samples").mkdir(exist_ok=True)

    # -- outputs -------------------------------------------------------------------------
    def save_samples(self) -> Path:
        path = self.dir / "samples" / f"step-{self.trainer.step:06d}.png"
        if hasattr(self.data, "centres"):
            many = self.trainer.sample(self.trainer.noise(2500, torch.Generator().manual_seed(1)))
            save_scatter(many, path, self.data.centres, f"{self.cfg.preset}, step {self.trainer.step}")
        else:
            fake = self.trainer.sample(self.fixed_z, self.fixed_y)
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
        t = self.trainer
        ckpt.save_snapshot(self.dir, t.generator, self.cfg.model.name, t.g_kwargs, self.data.shape,
                           getattr(self.data, "class_names", None),
                           extra={"step": t.step, "preset": self.cfg.preset,
                                  "data": dataclasses.asdict(self.cfg.data)})
        ckpt.save_state(self.dir, {"trainer": t.state_dict(), "rng": ckpt.rng_state(),
                                   "elapsed": self.elapsed})

    # -- the loop ------------------------------------------------------------------------
    def fit(self) -> Path:
        t, tc = self.trainer, self.cfg.train
        imgs_per_step = tc.batch_size * tc.d_steps
        window, n_window, t_window = torch.zeros(4, device=self.device), 0, time.perf_counter()
        start = time.perf_counter() - self.elapsed
        last_sample = None
        stats_file = open(self.dir / "stats.jsonl", "a")
        # In a terminal the bar redraws in place; in a log file, one line every 30 s.
        bar = tqdm(total=tc.steps, initial=t.step, unit="step", dynamic_ncols=True,
                   desc=self.cfg.preset, mininterval=0.5 if sys.stderr.isatty() else 30)
        try:
            while t.step < tc.steps:
                window += t.train_step()
                n_window += 1
                bar.update(1)
                self.elapsed = time.perf_counter() - start
                out_of_time = tc.time_limit and self.elapsed >= tc.time_limit
                done = t.step == tc.steps or out_of_time
                if t.step % tc.log_every == 0 or done:
                    now = time.perf_counter()
                    means = (window / n_window).tolist()
                    if not all(math.isfinite(v) for v in means):
                        raise GankitError(
                            f"training diverged at step {t.step} (losses {means[:2]}): lower "
                            "optim.lr_d / optim.lr_g or use loss.g_loss=non-saturating; the last "
                            f"checkpoint in {self.dir} is intact")
                    rec = {"step": t.step, "kimg": t.step * imgs_per_step / 1000,
                           "time_s": round(self.elapsed, 3),
                           "img_per_s": round(n_window * imgs_per_step / (now - t_window), 1),
                           **{k: round(v, 5) for k, v in zip(STAT_NAMES, means)}}
                    stats_file.write(json.dumps(rec) + "\n")
                    stats_file.flush()
                    bar.set_postfix_str(f"img/s {rec['img_per_s']:.0f} D {means[0]:.3f} "
                                        f"G {means[1]:.3f} D(x) {means[2]:.2f} "
                                        f"D(G(z)) {means[3]:.2f}")
                    window.zero_()
                    n_window, t_window = 0, now
                if tc.eval_every and (t.step % tc.eval_every == 0 or done):
                    stats_file.write(json.dumps({"step": t.step, **self.measure()}) + "\n")
                    stats_file.flush()
                if t.step % tc.sample_every == 0 or done:
                    last_sample = self.save_samples()
                if t.step % tc.ckpt_every == 0 or done:
                    self.save_checkpoint()
                if out_of_time:
                    bar.write(f"stopping at step {t.step}: train.time_limit={tc.time_limit}s reached")
                    break
        finally:
            bar.close()
            stats_file.close()
        if last_sample is None:  # resumed a run that had already reached train.steps
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
    # Fail on bad data, model or loss before a run directory is created.
    data = load_training_data(cfg)
    model_kwargs(cfg.model, data.shape)
    class_labels(cfg.model.n_classes, data)
    get_losses(cfg.loss.d_loss, cfg.loss.g_loss)
    if cfg.train.eval_every:
        check_measurable(cfg, data)
    run_dir = new_run_dir(out, cfg.preset)
    ckpt.write_json(run_dir / "config.json", cfg.to_dict())
    return run_dir, Run(cfg, run_dir, data).fit()


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
    ckpt.write_json(path / "config.json", cfg.to_dict())
    return path, Run(cfg, path, data, resume_state=state).fit()
