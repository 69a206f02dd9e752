"""`gankit train`: check everything, make the run directory, hand over to the loop.

The run directory is a contract (`gankit.rundir`, as in StyleGAN2-ADA): `config.json`,
`stats.jsonl`, `samples/step-NNNNNN.png` from one fixed noise batch, the generator snapshot
and `state.pt`. Every check that can run before the directory exists does: the config's own
ranges, the data, the models (built once, here), the trainer kind's own settings.
"""

import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

from gankit import rundir
from gankit.artifacts import atomic_write, write_json
from gankit.config import Config, apply_overrides, from_dict
from gankit.errors import GankitError
from gankit.metrics import check_metrics, parse_metrics, training_metrics
from gankit.models import check_batch_size, check_training_size
from gankit.models.snapshot import SNAPSHOT_META, SNAPSHOT_WEIGHTS
from gankit.training import checkpoint as ckpt
from gankit.training.distributed import World, init_world, shutdown
from gankit.training.loop import Training, build
from gankit.training.protocol import trainer_class

# Keys a resumed run may change: how long and how it reports, never what it trains.
RESUMABLE_KEYS = {"train.steps", "train.sample_every", "train.log_every", "train.ckpt_every",
                  "train.device", "train.time_limit", "train.report", "train.tensorboard",
                  *(f"health.{k}" for k in ("every", "n", "patience", "d_fake_floor", "d_gap",
                                            "collapse_drop", "min_coverage", "min_diversity", "grace",
                                            "max_restarts", "restart_lr"))}


def unwritable(path) -> str | None:
    """Why nothing can be written at `path` (None: it can): a folder that is there, or the
    nearest existing folder above a file or folder to be made, must take new files. It is
    probed by creating an unnamed temporary file there, which answers for root and read-only
    mounts alike (os.access does not)."""
    here = Path(path).expanduser().absolute()
    here = here if here.is_dir() else here.parent
    while not here.exists() and here != here.parent:
        here = here.parent
    if not here.is_dir():
        return f"{here} is a file, not a folder"
    try:
        with tempfile.TemporaryFile(dir=here):
            pass
    except OSError as e:
        return f"{here} cannot be written ({e.strerror})"
    return None


def check_writable(path, what: str) -> None:
    """Refuse, before any work, a place nothing can be written to (`what`: the flag)."""
    reason = unwritable(path)
    if reason:
        raise GankitError(f"{what} {path}: {reason}: choose a folder you may write to")


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


def check_measurable(cfg: Config, data) -> None:
    conditional = bool(cfg.model.n_classes)
    names = training_metrics(cfg.train.eval_metrics, data, conditional)
    try:
        check_metrics(names, conditional, cfg.data.name, data_path=cfg.data.path)
    except GankitError as e:
        raise GankitError(f"train.eval_every: {e}; or set train.eval_every=0") from None


def prepare(cfg: Config, world: World = World()):
    """Every check that needs no run directory; returns (data, models built once, seeded)."""
    cfg.validate()
    data = cfg.data.load(seed=cfg.train.seed)
    if cfg.model.n_classes == -1:  # the data's classes: config.json records the number
        names = getattr(data, "class_names", None)
        if not names:
            raise GankitError(f"model.n_classes=-1 takes the data's classes, and data.name "
                              f"{cfg.data.name!r} here has none (a folder has classes when every "
                              "image sits in a class subfolder): set model.n_classes=0")
        cfg.model.n_classes = len(names)
    # counted on the meta device first: a width or batch that cannot fit is one line, not a
    # failed allocation (the device check itself comes last, as before)
    device = "cuda" if cfg.train.device == "cuda" else "cpu"
    check_training_size(cfg.model, data.shape, device)
    models = build(cfg, data, cfg.train.seed + world.rank)
    check_batch_size(models[0], models[1], data.shape, cfg.train.batch_size, device)
    trainer_class(cfg).check(cfg, data, models)
    if cfg.train.tensorboard:
        from gankit.training.tensorboard import require_tensorboard  # optional: tensorboard extra
        require_tensorboard()
    if cfg.train.eval_every:
        check_measurable(cfg, data)
    elif cfg.train.eval_metrics:  # unused for now, but a typo is still refused
        try:
            parse_metrics(cfg.train.eval_metrics, data.is_points, data.is_video)
        except GankitError as e:
            raise GankitError(f"train.eval_metrics: {e}") from None
    world.device(cfg.train.device)  # no CUDA where it was asked for: fail before writing
    return data, models


def start(cfg: Config, out: str | None, progress=None, abort=None) -> tuple[Path, Path]:
    """A new run; `progress` and `abort` are the loop's hooks (`gankit.training.loop`)."""
    cfg.validate()
    check_writable(out or "runs", "--out")  # before an hour of training, not after it
    world = init_world(cfg.train.device)
    try:
        data, models = prepare(cfg, world)
        run_dir = Path(world.share(str(new_run_dir(out, cfg.preset)) if world.is_main else None))
        try:
            if world.is_main:
                write_json(run_dir / rundir.CONFIG, config_record(cfg, world))
            session = Training(cfg, run_dir, data, world=world, models=models)
        except BaseException:  # a failed start leaves no half-made run directory behind
            if world.is_main:
                shutil.rmtree(run_dir, ignore_errors=True)
            raise
        return run_dir, session.fit(progress, abort)
    finally:
        shutdown()


def config_record(cfg: Config, world: World) -> dict:
    """config.json: the config, and how many processes shared the batch (torchrun)."""
    b = cfg.train.batch_size
    return {**cfg.to_dict(), "world": {"size": world.size, "batch_per_process": b,
                                       "effective_batch": b * world.size}}


def read_config(run_dir: Path) -> Config:
    """A run's config.json, or one line naming what is wrong with it."""
    path = Path(run_dir) / rundir.CONFIG
    if not path.is_file():
        raise GankitError(f"{run_dir}: not a run directory (no {rundir.CONFIG}); give a "
                          "directory written by gankit train")
    try:
        return from_dict(json.loads(path.read_text()))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise GankitError(f"{path} is not valid JSON ({e.__class__.__name__}): restore it from "
                          "a copy, or start a new run") from None


def tidy(run_dir: Path, done: int) -> None:
    """What a killed run leaves behind, put right before it continues: temporary files of
    interrupted atomic writes (`.NAME.*.tmp`) are removed; stats.jsonl and health.jsonl lose
    a half-written last line, and stats.jsonl the records of steps after the checkpoint (they
    are trained, and logged, again)."""
    for folder in (run_dir, run_dir / rundir.SAMPLES):
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
    for name, by_step in ((rundir.STATS, True), (rundir.HEALTH, False)):
        log = run_dir / name
        if not log.is_file():
            continue
        lines = log.read_text(errors="replace").splitlines(keepends=True)
        keep = []
        for line in lines:
            if not line.endswith("\n"):  # killed while writing this line
                break
            try:
                step = json.loads(line).get("step", 0) if by_step else 0
            except (json.JSONDecodeError, AttributeError):
                step = 0  # not ours to judge: read_jsonl names a corrupt line
            if not isinstance(step, int) or step <= done:
                keep.append(line)
        if len(keep) != len(lines):
            atomic_write(log, lambda tmp: Path(tmp).write_text("".join(keep)))


def resume(run_dir: str, overrides: list[str], progress=None, abort=None) -> tuple[Path, Path]:
    path = Path(run_dir)
    if path.is_dir():
        check_writable(path, "--resume")
    for item in overrides:
        key = item.partition("=")[0].strip()
        if key not in RESUMABLE_KEYS:
            raise GankitError(f"--set {key} cannot change when resuming: only "
                              f"{', '.join(sorted(RESUMABLE_KEYS))} can (start a new run instead)")
    cfg = apply_overrides(read_config(path), overrides).validate()
    if (path / ckpt.STATE).exists():
        state = ckpt.load_state(path)
        done = int(state["trainer"].get("step", 0))
    elif (path / SNAPSHOT_WEIGHTS).exists() or (path / SNAPSHOT_META).exists():
        raise GankitError(f"{run_dir} has a generator snapshot but no {ckpt.STATE} (removed, or "
                          "the run was killed while writing its first checkpoint): it cannot "
                          "continue; sample from it as it is, or start a new run")
    else:  # stopped before its first checkpoint: config.json is all there is to go on
        state, done = None, 0
    if cfg.train.steps < done:
        raise GankitError(f"--set train.steps={cfg.train.steps} is fewer than the {done} steps "
                          f"{run_dir} has already trained: give at least {done}")
    world = init_world(cfg.train.device)
    try:
        if state is not None and state.get("world_size", 1) != world.size:
            raise GankitError(f"{run_dir} was trained by {state.get('world_size', 1)} process(es) "
                              f"and this resume has {world.size}: resume it with torchrun "
                              f"--nproc-per-node {state.get('world_size', 1)} (or without "
                              "torchrun for 1)")
        data, models = prepare(cfg, world)
        # The state is loaded into the freshly built trainer before config.json changes, so a
        # state.pt of another model is refused with the run directory as it was.
        session = Training(cfg, path, data, resume_state=state, world=world, models=models)
        if world.is_main:
            if state is None:
                print(f"note: {run_dir} stopped before its first checkpoint (no {ckpt.STATE}): "
                      "training it again from step 0", file=sys.stderr)
            tidy(path, done)
            write_json(path / rundir.CONFIG, config_record(cfg, world))
        return path, session.fit(progress, abort)
    finally:
        shutdown()
