"""The training loop around a trainer: one tick block (as in EDM's `training_loop.py`).

Each tick is one `train_step`; then `due` is the one place that decides what else this step
does: log (stats.jsonl, the progress bar, TensorBoard, the health monitor's statistics signs),
probe (the health monitor's sample diversity), eval (`train.eval_every`), sample (a grid),
checkpoint, or stop at the time limit. The step's statistics, reported by the trainer (and
the losses, penalties, augmentation) to `gankit.stats`, are summed on the device and read once
per event (one sync), by every consumer from the same means.
"""

import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm  # a widget in Jupyter, a text bar elsewhere

from gankit import rundir
from gankit.config import Config
from gankit.errors import GankitError
from gankit.threads import ThreadGovernor, auto_threads, keep_freed_memory
from gankit.generator import Generator
from gankit.metrics import evaluate, training_metrics
from gankit.models import build_models
from gankit.models.snapshot import save_snapshot
from gankit.stats import COLLECTOR
from gankit.training import checkpoint as ckpt
from gankit.training.distributed import World
from gankit.training.health import HealthMonitor, record_restore
from gankit.training.protocol import trainer_class


@dataclass(frozen=True)
class Tick:
    """What a `progress` hook is told: the step, the collector's read since the last log line
    ({name: mean}, {name: std}), and `generator()`, the handle of G as it is now (the EMA
    where there is one), built only when called."""
    step: int
    steps: int
    means: dict
    stds: dict
    generator: Callable


class Diverged(Exception):
    """A non-finite loss or gradient; `Training.fit` answers it by restoring the last good checkpoint."""

    def __init__(self, step: int, what: str):
        super().__init__(f"step {step}: {what}")
        self.step, self.what = step, what


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build(cfg: Config, data, seed: int) -> tuple:
    """Seed every RNG, then build the run's networks: (G, second network, G's kwargs)."""
    seed_everything(seed)
    return build_models(cfg.model, data.shape)


def grid_layout(n_samples: int, n_classes: int) -> tuple[int, int]:
    """(samples in the fixed batch, columns): a conditional run shows one class per row."""
    if n_classes:
        cols = math.ceil(n_samples / n_classes)
        return n_classes * cols, cols
    return n_samples, math.ceil(math.sqrt(n_samples))


class Training:
    """Everything `gankit train` does around the update step: a run being trained (the
    finished run's handle is `gankit.api.Run`)."""

    def __init__(self, cfg: Config, run_dir: Path, data, resume_state: dict | None = None,
                 world: World = World(), models: tuple | None = None):
        """`models` (from `build`, seeded) are built here when not given."""
        self.cfg, self.dir, self.data, self.world = cfg, Path(run_dir), data, world
        threads = cfg.train.threads or auto_threads()  # see gankit.threads
        torch.set_num_threads(threads)
        keep_freed_memory()
        seed = cfg.train.seed + world.rank  # each process its own batches and noise
        if models is None:
            models = build(cfg, data, seed)
        self.device = world.device(cfg.train.device)
        # train.threads=0 on a CPU, one process: every core while no other process wants one.
        self.governor = ThreadGovernor(
            threads if not cfg.train.threads and self.device.type == "cpu"
            and world.size == 1 else 1)
        self.trainer_cls = trainer_class(cfg)
        self.trainer = self.trainer_cls(cfg, data, self.device, world, models)
        # One fixed noise batch for every sample grid, from its own generator so that drawing
        # it never disturbs the training RNG stream.
        n_classes = cfg.model.n_classes
        n_fixed, self.grid_cols = grid_layout(cfg.train.n_samples, n_classes)
        self.fixed_z = self.trainer.noise(n_fixed, torch.Generator().manual_seed(cfg.train.seed))
        self.fixed_y = (torch.arange(n_classes).repeat_interleave(self.grid_cols)
                        if n_classes else None)
        self.elapsed = 0.0
        if resume_state is not None:
            self.load(resume_state)
        # Only rank 0 writes: the samples, the health log, TensorBoard.
        self.monitor, self.tb = None, None
        if world.is_main:
            (self.dir / rundir.SAMPLES).mkdir(exist_ok=True)
            if cfg.health.every and self.trainer_cls.monitored:
                self.monitor = HealthMonitor(cfg, data, self.dir, self.device)
            if cfg.train.tensorboard:
                from gankit.training.tensorboard import TensorBoard  # optional: the tensorboard extra
                self.tb = TensorBoard(self.dir)

    def load(self, state: dict) -> None:
        """A state.pt: the trainer, this process's batches and RNG, the time trained. A state
        of another model or kind is one line naming the file."""
        try:
            self.trainer.load_state_dict(state["trainer"])
            mine = state.get("ranks", [state])[self.world.rank]  # runs before torchrun: one
            self.trainer.sampler.load_state_dict(mine["sampler"])
            ckpt.set_rng_state(mine["rng"])
            self.elapsed = float(state["elapsed"])
        except (KeyError, IndexError, TypeError, ValueError, RuntimeError) as e:
            first = (str(e).strip().splitlines() or [""])[0][:200]
            raise GankitError(f"{self.dir / ckpt.STATE} does not fit the network config.json "
                              f"describes ({type(e).__name__}: {first}): restore the run's own "
                              "state.pt, or start a new run") from None

    # -- outputs -------------------------------------------------------------------------
    def card(self) -> dict:
        """What rebuilds the generator and says what it draws: the snapshot's card."""
        return {"model": self.cfg.model.name, "kwargs": self.trainer.g_kwargs,
                "data_shape": list(self.data.shape),
                "class_names": getattr(self.data, "class_names", None),
                "step": self.trainer.step, "preset": self.cfg.preset,
                "data": self.cfg.to_dict()["data"]}

    def generator(self) -> Generator:
        """The generator to sample, measure and snapshot (the EMA where there is one)."""
        return Generator(self.trainer.generator, self.card(), f"the run in {self.dir}")

    def save_samples(self) -> Path:
        path = self.dir / rundir.SAMPLES / f"step-{self.trainer.step:06d}.png"
        G = self.generator()
        if G.is_points:
            many = G.render(self.trainer.noise(2500, torch.Generator().manual_seed(1)))
            return G.save(many, path, title=f"{self.cfg.preset}, step {self.trainer.step}",
                          centres=self.data.centres)
        return G.save(G.render(self.fixed_z, self.fixed_y), path,
                      rows_are_classes=self.fixed_y is not None,
                      title=f"step {self.trainer.step}")  # also each timeline GIF frame's

    def measure(self) -> dict:
        """The metrics of `train.eval_every` (G in eval mode, then back)."""
        tc = self.cfg.train
        names = training_metrics(tc.eval_metrics, self.data, bool(self.cfg.model.n_classes))
        return evaluate(self.generator(), None, names, n=tc.eval_n)

    def save_checkpoint(self) -> None:
        """Called on every process: each hands rank 0 its own batch order and RNG state."""
        t = self.trainer
        ranks = self.world.gather({"sampler": t.sampler.state_dict(), "rng": ckpt.rng_state()})
        if not self.world.is_main:
            return
        card = self.card()
        save_snapshot(self.dir, t.generator, card.pop("model"), card.pop("kwargs"),
                      card.pop("data_shape"), card.pop("class_names"), extra=card)
        ckpt.save_state(self.dir, {"trainer": t.state_dict(), "ranks": ranks,
                                   "world_size": self.world.size, "elapsed": self.elapsed})

    # -- the loop ------------------------------------------------------------------------
    def fit(self, progress: Callable[[Tick], None] | None = None,
            abort: Callable[[int], bool] | None = None) -> Path:
        """Train to train.steps (or until `abort` says stop; the hooks: see the module notes);
        on divergence restore the last good checkpoint, a bounded number of times.
        (`gankit train` then writes the report: `gankit.report` reads the run directory, above
        this layer.)"""
        restores = 0
        try:
            while True:
                try:
                    last_sample = self._fit(progress, abort)
                    break
                except Diverged as e:
                    if restores == self.cfg.health.max_restarts or not self.trainer_cls.monitored:
                        raise GankitError(self._diverged_message(e, restores)) from None
                    restores += 1
                    self.restore(e, restores)
        finally:
            if self.tb is not None:
                self.tb.close()
        return last_sample

    def _diverged_message(self, e: Diverged, restores: int) -> str:
        kept = ((f"the checkpoint of step {ckpt.load_state(self.dir)['trainer']['step']} in "
                 f"{self.dir} is intact (gankit sample works on it)")
                if (self.dir / ckpt.STATE).is_file() else "no checkpoint was written")
        lrs = f"optim.lr_g={self.cfg.optim.lr_g:g}, optim.lr_d={self.cfg.optim.lr_d:g}"
        advice = ("start a new run with lower learning rates (now " + lrs + ")"
                  + (" or loss.g_loss=non-saturating" if self.cfg.loss.g_loss == "minimax" else "")
                  + ", e.g. gankit train --preset " + self.cfg.preset
                  + " --set optim.lr_d=... --set optim.lr_g=...")
        return (f"training diverged at step {e.step} ({e.what}) after {restores} automatic "
                f"restore(s); {kept}: {advice}")

    def restore(self, e: Diverged, attempt: int) -> None:
        """Back to state.pt (or fresh weights before the first checkpoint), with learning rates
        times health.restart_lr ** attempt and a new random stream, so the retry differs.
        Under torchrun every process restores at the same step (the check is agreed)."""
        cfg, world = self.cfg, self.world
        if (self.dir / ckpt.STATE).is_file():
            state = ckpt.load_state(self.dir)
            self.trainer.load_state_dict(state["trainer"])
            mine = state.get("ranks", [state])[world.rank]
            self.trainer.sampler.load_state_dict(mine["sampler"])
        else:
            models = build(cfg, self.data, cfg.train.seed + attempt + world.rank)
            self.trainer = self.trainer_cls(cfg, self.data, self.device, world, models)
        torch.manual_seed(cfg.train.seed + 1_000_003 * attempt + world.rank)
        factor = cfg.health.restart_lr ** attempt
        self.trainer.set_learning_rates(factor)
        if world.is_main:
            lrs = (cfg.optim.lr_g * factor, cfg.optim.lr_d * factor)
            tqdm.write(str(record_restore(self.dir, e.step, self.trainer.step, attempt,
                                          cfg.health.max_restarts, lrs, e.what)), file=sys.stderr)

    def due(self, step: int, done: bool) -> set[str]:
        """The one place that decides what a step does besides training."""
        tc = self.cfg.train
        every = {"log": tc.log_every, "sample": tc.sample_every, "checkpoint": tc.ckpt_every,
                 "probe": self.cfg.health.every if self.monitor is not None else 0,
                 "eval": tc.eval_every}  # the same on every process: they sync on `due`
        return {event for event, k in every.items() if k and (done or step % k == 0)}

    def _fit(self, progress, abort) -> Path:
        t, tc, world = self.trainer, self.cfg.train, self.world
        imgs_per_step = tc.batch_size * tc.d_steps * world.size  # real images, all processes
        COLLECTOR.reset()  # values reported before this loop (a notebook's own calls) are not its
        n_window, t_window = 0, time.perf_counter()
        start = time.perf_counter() - self.elapsed
        session = time.perf_counter()  # the time limit counts from here: a resume gets its own
        last_sample, first_step = None, t.step
        stats_file = open(self.dir / rundir.STATS if world.is_main else os.devnull, "a")
        # In a terminal the bar redraws in place; in a log file, one line every 30 s.
        bar = tqdm(total=tc.steps, initial=t.step, unit="step", dynamic_ncols=True,
                   desc=self.cfg.preset, mininterval=0.5 if sys.stderr.isatty() else 30,
                   disable=not world.is_main)

        def say(lines) -> None:
            for line in lines:
                bar.write(str(line), file=sys.stderr)  # beside the progress bar

        try:
            while t.step < tc.steps:
                t.train_step()
                self.governor.tick()
                n_window += 1
                bar.update(1)
                self.elapsed = time.perf_counter() - start
                out_of_time = bool(tc.time_limit) and time.perf_counter() - session >= tc.time_limit
                asked = abort is not None and bool(abort(t.step))
                stopping = world.any(out_of_time or asked, self.device)
                due = self.due(t.step, done=t.step == tc.steps or stopping)
                if not due:
                    continue
                # One read of the collector (summed over processes, so every process restores
                # together). A non-finite loss or gradient since the last log line means the
                # run diverged: nothing is written from it.
                tick = COLLECTOR.read(world.sum, self.device)
                means = {k: s.mean for k, s in tick.items()}
                bad = [k for k, v in means.items() if not math.isfinite(v)]
                if bad:
                    raise Diverged(t.step, "non-finite " + ", ".join(bad))
                if "log" in due:
                    now = time.perf_counter()
                    rec = {"step": t.step, "kimg": t.step * imgs_per_step / 1000,
                           "time_s": round(self.elapsed, 3),
                           "img_per_s": round(n_window * imgs_per_step / (now - t_window), 1),
                           "threads": torch.get_num_threads(),
                           **{k: round(v, 5) for k, v in means.items()},
                           **{f"{k}_std": round(s.std, 5) for k, s in tick.items()}}
                    stats_file.write(json.dumps(rec) + "\n")
                    stats_file.flush()
                    if self.tb is not None:
                        self.tb.scalars("train", rec, t.step)
                    bar.set_postfix_str(f"img/s {rec['img_per_s']:.0f} " + " ".join(
                        f"{label} {means[k]:.3f}" for k, label in self.trainer_cls.bar_names.items()
                        if k in means))
                    if self.monitor is not None:
                        say(self.monitor.observe(t.step, means,
                                                 {k: v.std for k, v in tick.items()}))
                    COLLECTOR.reset()
                    n_window, t_window = 0, now
                if "probe" in due:
                    say(self.monitor.probe(t.step, t.generator))
                    if self.tb is not None:
                        self.tb.scalars("health", self.monitor.history[-1], t.step)
                if "eval" in due and world.is_main:
                    with torch.random.fork_rng(devices=[]):  # the evaluator's init draws
                        measured = self.measure()
                    stats_file.write(json.dumps({"step": t.step, **measured}) + "\n")
                    stats_file.flush()
                    if self.tb is not None:
                        self.tb.scalars("metrics", measured["metrics"], t.step)
                if "sample" in due and world.is_main:
                    last_sample = self.save_samples()
                    if self.tb is not None:
                        self.tb.image("samples", last_sample, t.step)
                if "checkpoint" in due:
                    self.save_checkpoint()
                if progress is not None and world.is_main:
                    progress(Tick(t.step, tc.steps, means, {k: v.std for k, v in tick.items()},
                                  self.generator))
                if stopping:
                    bar.write(f"stopping at step {t.step}: " + (
                        "its abort hook asked to" if asked and not out_of_time
                        else f"train.time_limit={tc.time_limit}s reached"))
                    break
        finally:
            bar.close()
            stats_file.close()
        if t.step == first_step:  # resumed a run that had already reached train.steps
            if world.is_main:
                last_sample = self.save_samples()
            self.save_checkpoint()
        return last_sample
