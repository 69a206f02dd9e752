"""Configuration: nested dataclasses of plain values, named presets, `--set a.b=value` overrides.

A preset is a JSON file in `gankit/presets/` holding a description and the values it changes
from the defaults below. Overrides are checked against the dataclass fields: an unknown key
or a value of the wrong type is an error, never silently ignored (as in nanoGPT's configurator).
"""

import dataclasses
import json
import math
from dataclasses import dataclass, field
from importlib import resources

from gankit.errors import GankitError

DEFAULT_PRESET = "mlp-mnist"
PRECISIONS = ("fp32", "bf16")
# Sizes past which a request cannot be meant (and would fail deep inside torch instead).
MAX_IMAGE_SIZE = 1024
MAX_WIDTH = 4096
MAX_BATCH = 65_536
MAX_SAMPLES = 4096
MAX_INT = 2**31 - 1  # any count past this is a typo (and overflows torch's int32 arguments)
MAX_THREADS, MAX_WORKERS, MAX_D_STEPS, MAX_CLASSES, MAX_EVAL_N = 1024, 256, 1000, 10_000, 1_000_000


@dataclass
class DataConfig:
    name: str = "mnist"          # mnist | fashion | folder | toy-ring | toy-grid | moving-mnist | video
    path: str = ""               # empty: the bundled MNIST (for mnist); else IDX dir, .npz or folder
    image_size: int = 0          # 0: the source's own size
    channels: int = 0            # 0: the source's own channel count (folder: 3, 4 with alpha)
    background: str = "white"    # folder: transparency composited onto this colour; alpha: kept
    fit: str = "crop"            # folder: crop | pad, how a non-square image becomes square
    split: str = "train"         # train | test | all: IDX files; the evaluators' files (data/splits.py)
    download: bool = False       # fetch MNIST/Fashion-MNIST through torchvision into data.path
    n_toy: int = 100_000         # points drawn from a toy mixture
    stream_mb: float = 2000.0    # folder: stream from disk (DataLoader workers) above this many MB
    workers: int = 2             # DataLoader worker processes when streaming
    frames: int = 16             # moving-mnist: frames per clip (TGAN's 16)
    digits: int = 2              # moving-mnist: digits per clip
    n_clips: int = 10_000        # moving-mnist: clips synthesised (held as uint8)

    def validate(self) -> None:
        if self.channels not in (0, 1, 3, 4):
            raise GankitError(f"data.channels must be 0 (the source's own), 1 or 3 (4: a folder "
                              f"with data.background=alpha), got {self.channels}")
        if not (0 <= self.stream_mb and 0 <= self.workers <= MAX_WORKERS):
            raise GankitError(f"data.stream_mb must be >= 0 and data.workers in 0..{MAX_WORKERS} "
                              "(stream_mb 0: always stream a folder; workers 0: read in the "
                              f"training process), got {self.stream_mb} and {self.workers}")
        if self.image_size < 0 or self.image_size > MAX_IMAGE_SIZE:
            raise GankitError(f"data.image_size must be in 0..{MAX_IMAGE_SIZE} (0: the source's "
                              f"own size), got {self.image_size}")
        if self.n_toy < 1:
            raise GankitError(f"data.n_toy must be at least 1, got {self.n_toy}")
        if not (1 <= self.frames <= 256 and 1 <= self.digits <= 10 and self.n_clips >= 1):
            raise GankitError(f"data.frames must be in 1..256, data.digits in 1..10 and "
                              f"data.n_clips at least 1, got {self.frames}, {self.digits} and "
                              f"{self.n_clips}")

    def load(self, seed: int = 0, stream: bool = True):
        """The data set this section names: the one place a `DataConfig` becomes data.
        `seed` draws the toy mixtures' points; `stream=False` never streams a folder."""
        from gankit.data import load_data  # here, not at the top: `gankit --help` stays fast
        return load_data(self.name, self.path or None, image_size=self.image_size or None,
                         channels=self.channels or None, split=self.split,
                         download=self.download, n_toy=self.n_toy, seed=seed,
                         stream_mb=self.stream_mb if stream else None, frames=self.frames,
                         digits=self.digits, n_clips=self.n_clips,
                         background=self.background, fit=self.fit)

    @classmethod
    def from_card(cls, card: dict | None) -> "DataConfig":
        """The data a generator card (`generator.json`'s `data`) names; old cards may lack keys."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (card or {"name": "mnist"}).items() if k in known})


@dataclass
class ModelConfig:
    name: str = "dcgan28"        # mlp | dcgan28 | dcgan64 | dcgan (any side 2^k) | toy-mlp | vae | tgan
    z_dim: int = 64
    g_hidden: int = 64
    d_hidden: int = 16
    upsample: str = "transposed"  # transposed | resize
    n_layers: int = 3            # toy-mlp depth
    bn_init_mean: float = 1.0    # DCGAN paper: BatchNorm scale ~ N(1, 0.02); the course uses 0
    d_input_bn: bool = True      # dcgan28: BatchNorm on D's first layer (course: yes; paper: no)
    d_mbstd: int = 0             # dcgan28/dcgan: minibatch-stddev channel in D over groups of this many, 0: off
    d_bn: bool = True            # dcgan28/64: BatchNorm in D at all (WGAN-GP needs false)
    d_spectral_norm: bool = False  # spectral normalisation of every D weight (Miyato et al. 2018)
    n_classes: int = 0           # conditional GAN on this many classes (the data's), 0: unconditional,
                                 # -1: as many as the data has (a folder's class subfolders)
    d_cond: str = "concat"       # dcgan28 conditional D: concat (class maps) | projection | none
    d_classify: bool = False     # dcgan28: D also names the class (AC-GAN's head; loss.ac_weight)
    d_full_view: bool = False    # dcgan28: D sees every pixel (the course's D: only the top-left 22x22)
    t_dim: int = 0               # tgan: size of the per-frame latent z_t, 0: z_dim (TGAN's)
    d_frame: bool = False        # tgan: D also judges every frame alone (MoCoGAN's image D)
    motion: str = "frames"       # tgan: frames (TGAN: each frame drawn) | warp | bounce (content moved)
    content: str = ""            # tgan warp/bounce: a shipped image generator as the content (frozen)
    content_side: int = 0        # tgan content: its image's side in the frame, 0: the frame's
    whole_pixels: bool = False   # tgan warp/bounce: move the content by whole pixels (straight-through)

    def validate(self) -> None:
        # Which keys an architecture takes, and their meaning, belong to the model classes:
        # gankit.models.model_kwargs checks those against the data set.
        for key in ("z_dim", "g_hidden", "d_hidden", "n_layers"):
            if not 1 <= getattr(self, key) <= MAX_WIDTH:
                raise GankitError(f"model.{key} must be in 1..{MAX_WIDTH}, got {getattr(self, key)}")
        if not (-1 <= self.n_classes <= MAX_CLASSES and 0 <= self.content_side <= MAX_IMAGE_SIZE
                and 0 <= self.d_mbstd <= MAX_BATCH):
            raise GankitError(f"model.n_classes must be in -1..{MAX_CLASSES:,} (-1: the data's "
                              f"classes), model.content_side in 0..{MAX_IMAGE_SIZE} and "
                              f"model.d_mbstd in 0..{MAX_BATCH:,}, got {self.n_classes}, "
                              f"{self.content_side} and {self.d_mbstd}")
        if self.n_classes < -1 or self.d_mbstd < 0 or not 0 <= self.t_dim <= MAX_WIDTH:
            raise GankitError(f"model.n_classes must be >= -1 (-1: the data's classes), "
                              f"model.d_mbstd and model.t_dim >= 0 (0: off / z_dim), got "
                              f"{self.n_classes}, {self.d_mbstd} and {self.t_dim}")
        if not math.isfinite(self.bn_init_mean):
            raise GankitError(f"model.bn_init_mean must be finite, got {self.bn_init_mean}")


@dataclass
class LossConfig:
    d_loss: str = "bce"             # bce | hinge | least-squares | wgan-gp
    g_loss: str = ""                # "": the objective's own; bce: non-saturating | minimax
    label_smoothing: float = 0.0    # one-sided: real targets become 1 - label_smoothing
    r1_gamma: float = 0.0           # R1 gradient penalty on real data (Mescheder et al. 2018), 0: off
    r1_every: int = 1               # lazy R1: apply every this many D steps (StyleGAN2 uses 16)
    gp_lambda: float = 10.0         # WGAN-GP's gradient penalty weight (d_loss=wgan-gp)
    gp_every: int = 1               # lazy gradient penalty: every this many D steps, scaled up
    ac_weight: float = 1.0          # AC-GAN's class term (cross-entropy), with model.d_classify
    instance_noise: float = 0.0     # std of Gaussian noise on D's inputs at the start, 0: off
    noise_kimg: float = 100.0       # instance noise falls linearly to 0 over this many kimg

    def validate(self) -> None:
        if not 0.0 <= self.label_smoothing < 0.5:
            raise GankitError(f"loss.label_smoothing must be in [0, 0.5), got {self.label_smoothing}")
        for key in ("r1_gamma", "gp_lambda", "instance_noise", "ac_weight"):
            if not 0 <= getattr(self, key) < math.inf:
                raise GankitError(f"loss.{key} must be >= 0 and finite, got {getattr(self, key)}")
        for key in ("r1_every", "gp_every"):
            if getattr(self, key) < 1:
                raise GankitError(f"loss.{key} must be at least 1, got {getattr(self, key)}")
        if not 0 < self.noise_kimg < math.inf:
            raise GankitError(f"loss.noise_kimg must be positive and finite, got {self.noise_kimg}")

    @property
    def double_backward(self) -> bool:
        """Whether D's loss differentiates a gradient (R1, or WGAN-GP's penalty)."""
        return self.r1_gamma > 0 or self.d_loss == "wgan-gp"


@dataclass
class OptimConfig:
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999

    def validate(self) -> None:
        for key in ("lr_g", "lr_d"):
            if not 0 < getattr(self, key) < math.inf:
                raise GankitError(f"optim.{key} must be positive and finite, got {getattr(self, key)}")
        for key in ("beta1", "beta2"):
            if not 0.0 <= getattr(self, key) < 1.0:
                raise GankitError(f"optim.{key} must be in [0, 1) (Adam's decay rates), "
                                  f"got {getattr(self, key)}")


@dataclass
class TrainConfig:
    steps: int = 2000            # generator steps
    batch_size: int = 128        # per process: under torchrun the effective batch is x world size
    d_steps: int = 1             # discriminator steps per generator step (k in Goodfellow et al.)
    seed: int = 0
    sample_every: int = 500      # steps between sample grids
    log_every: int = 50          # steps between lines of stats.jsonl
    ckpt_every: int = 1000       # steps between checkpoints (and at the end)
    n_samples: int = 64          # images in each sample grid, from one fixed noise batch
    device: str = "auto"         # auto | cpu | cuda
    precision: str = "fp32"      # fp32 | bf16 (autocast; float32 weights and losses)
    channels_last: bool = False  # NHWC memory layout for convolutions (the DCGAN presets: on)
    compile: bool = False        # torch.compile the models for the training step
    threads: int = 0             # CPU threads for torch; 0: auto (gankit.threads)
    ema_decay: float = 0.0       # EMA of G's weights for sampling and evaluation, 0: off
    ema_kimg: float = 0.0        # instead: the EMA's half-life in thousand images (StyleGAN2-ADA: 10)
    ema_rampup: float = 0.05     # with ema_kimg: half-life at most this share of images so far, 0: none
    time_limit: float = 0.0      # seconds; stop early (with a checkpoint) after this long, 0: none
    eval_every: int = 0          # steps between metric evaluations logged to stats.jsonl, 0: never
    eval_n: int = 2000           # generated samples per evaluation during training
    eval_metrics: str = ""       # comma-separated; empty: fid,coverage (+class_acc if conditional), modes for toys
    diffaugment: str = ""        # DiffAugment policies on D's inputs: color,translation,cutout
    report: bool = True          # write report.html at the end of training
    tensorboard: bool = False    # also log to RUN_DIR/tensorboard (needs the tensorboard package)

    def validate(self) -> None:
        for key in ("steps", "batch_size", "d_steps", "sample_every", "log_every", "ckpt_every",
                    "n_samples"):
            if getattr(self, key) < 1:
                raise GankitError(f"train.{key} must be at least 1, got {getattr(self, key)}")
        if self.batch_size > MAX_BATCH or self.n_samples > MAX_SAMPLES:
            raise GankitError(f"train.batch_size must be at most {MAX_BATCH:,} and train.n_samples "
                              f"at most {MAX_SAMPLES:,}, got {self.batch_size:,} and "
                              f"{self.n_samples:,}")
        if not 0 <= self.seed < 2 ** 32:
            raise GankitError(f"train.seed must be in 0..{2 ** 32 - 1} (what numpy accepts), "
                              f"got {self.seed}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise GankitError(f"train.ema_decay must be in [0, 1) (0: no EMA), got {self.ema_decay}")
        if (not 0 <= self.ema_kimg < math.inf or not 0 <= self.ema_rampup < math.inf
                or (self.ema_kimg and self.ema_decay)):
            raise GankitError("train.ema_kimg and train.ema_rampup must be finite and >= 0, and "
                              "only one of train.ema_decay and train.ema_kimg set (the other 0)")
        if not 0 <= self.threads <= MAX_THREADS:
            raise GankitError(f"train.threads must be in 0..{MAX_THREADS} (0: auto), got "
                              f"{self.threads}")
        if self.d_steps > MAX_D_STEPS or self.eval_n > MAX_EVAL_N:
            raise GankitError(f"train.d_steps must be at most {MAX_D_STEPS} and train.eval_n at "
                              f"most {MAX_EVAL_N:,}, got {self.d_steps} and {self.eval_n:,}")
        if not 0 <= self.time_limit < math.inf:
            raise GankitError(f"train.time_limit must be >= 0 seconds (0: none), got {self.time_limit}")
        if self.eval_every < 0 or self.eval_n < 2:
            raise GankitError("train.eval_every must be >= 0 (0: off) and train.eval_n at least 2")
        if self.device not in ("auto", "cpu", "cuda"):
            raise GankitError(f"train.device must be auto, cpu or cuda, got {self.device!r}")
        if self.precision not in PRECISIONS:
            raise GankitError(f"train.precision must be one of {', '.join(PRECISIONS)}, "
                              f"got {self.precision!r}")


@dataclass
class HealthConfig:
    """The training health monitor (gankit.training.health): when it looks, and what it calls sick."""
    every: int = 100             # steps between health checks, 0: off
    n: int = 128                 # fixed samples whose diversity and class coverage are tracked
    patience: int = 2            # consecutive failing observations (or probes) before a diagnosis
    d_fake_floor: float = 0.05   # D overpowering: mean D(G(z)) below this, D near-perfect on fakes
    d_gap: float = -0.02         # G overpowering: mean D(x) - mean D(G(z)) at most this
    collapse_drop: float = 0.5   # mode collapse: diversity or coverage below this share of its best
    min_coverage: float = 0.5    # ... or classes (modes) covered below this share of the real data's
    min_diversity: float = 0.3   # ... or diversity below this share of the real data's
    grace: int = 300             # steps before those two count: early samples are still noise
    progress: float = 0.05       # ... nor while diversity rose this much since the last check
    varied: float = 0.5          # ... and few classes count only below this diversity share
    max_restarts: int = 3        # divergence: restores of the last good checkpoint before giving up
    restart_lr: float = 0.5      # each restore multiplies both learning rates by this

    def validate(self) -> None:
        if self.n > MAX_SAMPLES:
            raise GankitError(f"health.n must be at most {MAX_SAMPLES:,}, got {self.n:,}")
        if (self.every < 0 or self.n < 2 or self.patience < 1 or self.max_restarts < 0
                or self.grace < 0):
            raise GankitError("health.every must be >= 0 (0: off), health.n at least 2, "
                              "health.patience at least 1, health.max_restarts and "
                              "health.grace >= 0")
        for key in ("d_fake_floor", "collapse_drop", "restart_lr", "min_coverage", "min_diversity",
                    "progress", "varied"):
            if not 0.0 < getattr(self, key) <= 1.0:
                raise GankitError(f"health.{key} must be in (0, 1], got {getattr(self, key)}")
        if not -1.0 < self.d_gap < 1.0:
            raise GankitError(f"health.d_gap must be in (-1, 1), got {self.d_gap}")


@dataclass
class Config:
    preset: str = "custom"       # the preset it started from (set by load_preset)
    description: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    health: HealthConfig = field(default_factory=HealthConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def validate(self) -> "Config":
        """Each section checks itself; then what only the sections together decide."""
        for section in SECTIONS:
            for f in dataclasses.fields(getattr(self, section)):
                value = getattr(getattr(self, section), f.name)
                if (isinstance(value, int) and not isinstance(value, bool)
                        and abs(value) > MAX_INT and f.name != "seed"):
                    raise GankitError(f"{section}.{f.name} must be at most {MAX_INT:,}, "
                                      f"got {value:.3g}")
            getattr(self, section).validate()
        if self.train.compile and self.loss.double_backward:
            raise GankitError("train.compile cannot be used with loss.r1_gamma > 0 or "
                              "loss.d_loss=wgan-gp: torch.compile does not support the double "
                              "backward of a gradient penalty; set train.compile=false")
        return self


SECTIONS = ("data", "model", "loss", "optim", "train", "health")


def _preset_files() -> dict:
    folder = resources.files("gankit") / "presets"
    return {p.name[:-5]: p for p in folder.iterdir() if p.name.endswith(".json")}


def preset_names() -> list[str]:
    return sorted(_preset_files())


def preset_descriptions() -> dict[str, str]:
    return {name: json.loads(p.read_text())["description"] for name, p in
            sorted(_preset_files().items())}


def _coerce(key: str, value, kind):
    """Convert `value` (a JSON value or a --set string) to the field's type, or fail clearly."""
    if isinstance(value, str) and kind is not str:
        text = value.strip()
        try:
            if kind is bool:
                if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return text.lower() in ("true", "1", "yes")
            if kind is int and "e" in text.lower():  # 1e3 is a fine way to write 1000
                number = float(text)
                if not number.is_integer():
                    raise ValueError
                return int(number)
            return kind(text)
        except ValueError:
            raise GankitError(f"{key} must be {kind.__name__}, got {value!r}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise GankitError(f"{key} must be {kind.__name__}, got {value!r}")
    return value


def _set(cfg: Config, key: str, value) -> None:
    section, _, name = key.partition(".")
    if section not in SECTIONS or not name:
        raise GankitError(f"unknown config key {key!r}: keys look like section.name with section "
                          f"one of {', '.join(SECTIONS)} (see config.json of any run)")
    sub = getattr(cfg, section)
    fields = {f.name: f for f in dataclasses.fields(sub)}
    if name not in fields:
        raise GankitError(f"unknown config key {key!r}: {section} has "
                          f"{', '.join(fields)}")
    kind = type(getattr(type(sub)(), name))
    setattr(sub, name, _coerce(key, value, kind))


def apply_overrides(cfg: Config, overrides: list[str]) -> Config:
    for item in overrides:
        key, eq, value = item.partition("=")
        if not eq:
            raise GankitError(f"--set expects key=value, got {item!r} (e.g. --set train.steps=500)")
        _set(cfg, key.strip(), value)
    return cfg


def from_dict(d: dict, preset: str = "custom") -> Config:
    if not isinstance(d, dict):
        raise GankitError(f"a config must be a JSON object of sections, got {type(d).__name__}")
    cfg = Config(preset=d.get("preset", preset), description=d.get("description", ""))
    for section in SECTIONS:
        values = d.get(section, {})
        if not isinstance(values, dict):
            raise GankitError(f"config section {section!r} must be a mapping")
        for name, value in values.items():
            _set(cfg, f"{section}.{name}", value)
    # "world" in a run's config.json records the torchrun world it trained in; not a setting.
    extra = set(d) - set(SECTIONS) - {"preset", "description", "world"}
    if extra:
        raise GankitError(f"unknown config section(s) {sorted(extra)}: use {', '.join(SECTIONS)}")
    return cfg


def load_preset(name: str) -> Config:
    files = _preset_files()
    if name not in files:
        raise GankitError(f"unknown preset {name!r}: choose one of {', '.join(sorted(files))} "
                          "(gankit presets lists them)")
    return from_dict(json.loads(files[name].read_text()), preset=name)


def validate(cfg: Config) -> Config:
    """Range checks that types alone cannot express (`Config.validate`)."""
    return cfg.validate()
