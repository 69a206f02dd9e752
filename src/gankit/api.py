"""gankit from Python (a notebook, a script): the objects the CLI uses, behind three calls.

    import gankit
    run = gankit.train(preset="dcgan-mnist", overrides={"train.steps": 500})
    run.dir, run.stats[-1]                      # the run directory; stats.jsonl as dicts
    gankit.show(run.sample(16, seed=0))         # a grid: inline in Jupyter, else a PIL image
    g = gankit.load("mnist-cdcgan")             # a run dir, a snapshot or a pretrained name

`train` is `gankit train --preset ... --set key=value ...` (the same config checks, run
directory, loop and report), `load` is the generator handle every command draws from
(`gankit.generator`), `show` draws a grid as every PNG gankit writes (`gankit.viz`). Mistakes
raise `GankitError` with the CLI's one-line message. Progress shows as a notebook widget
where one can (the loop's bar is `tqdm.auto`).
"""

import io
import sys
from pathlib import Path
from typing import Callable

import torch
from PIL import Image as PILImage

from gankit import rundir
from gankit.config import DEFAULT_PRESET, apply_overrides, load_preset
from gankit.errors import GankitError
from gankit.generator import Generator
from gankit.generator import load as load_handle
from gankit.metrics import default_metrics, evaluate
from gankit.pretrained import names as pretrained_names
from gankit.report import write_report
from gankit.training import run as train_run
from gankit.video import gif_bytes
from gankit.viz import grid_image


class Run:
    """A finished (or resumed) training run: its directory and what it wrote there."""

    def __init__(self, path: str | Path):
        self.dir = Path(path)
        self._generator: Generator | None = None

    def __repr__(self) -> str:
        return f"Run({str(self.dir)!r})"

    @property
    def config(self) -> dict:
        """config.json: the resolved config (preset + overrides)."""
        return train_run.read_config(self.dir).to_dict()

    @property
    def stats(self) -> list[dict]:
        """stats.jsonl, one dict per logged step (and metric lines); read afresh each time."""
        return rundir.read_jsonl(self.dir / rundir.STATS)

    @property
    def health(self) -> list[dict]:
        """health.jsonl: the health checks and diagnoses ([] where the run has none)."""
        return rundir.read_jsonl(self.dir / rundir.HEALTH)

    @property
    def generator(self) -> Generator:
        """The run's generator snapshot as the handle `gankit sample` uses (loaded once)."""
        if self._generator is None:
            self._generator = load_handle(str(self.dir))
        return self._generator

    def evaluate(self, metrics: list[str] | None = None, n: int | None = None,
                 seed: int = 123) -> dict:
        """The snapshot measured by the metric registry, as `gankit eval` measures it (its
        default metrics, n samples from `seed`): {"metrics": {...}, "provenance": {...}};
        nothing is written."""
        g = self.generator
        names = metrics or default_metrics(g.is_points, bool(g.n_classes), video=g.is_video)
        return evaluate(g, None, list(names), n=n, seed=seed)

    def sample(self, n: int, seed: int = 0, y=None, psi: float | None = None) -> torch.Tensor:
        """n samples from the snapshot, as `gankit sample --seed` draws them (y: a class index
        or name, or (n,) labels, for a conditional G; psi: truncation)."""
        return self.generator.generate(n, seed=seed, y=y, psi=psi)


def _override_list(overrides) -> list[str]:
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        raise GankitError("overrides must be a dict of config keys to values, e.g. "
                          "{'train.steps': 500}")
    # bools as JSON spells them; every other value as --set would receive it
    return [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in overrides.items()]


def train(preset: str = DEFAULT_PRESET, overrides: dict | None = None,
          out: str | Path | None = None, resume: str | Path | None = None,
          progress: Callable | None = None, abort: Callable[[int], bool] | None = None) -> Run:
    """`gankit train [--preset P] [--set k=v ...] [--out DIR]`, or `--resume DIR`, from Python.

    overrides: {"train.steps": 500, "loss.g_loss": "minimax"}: the --set keys, checked the same
    way (unknown keys and wrong types raise GankitError). Writes report.html at the end when
    train.report is on, as the CLI does. The loop's hooks (`gankit.training.loop`):
    progress(tick) after each step where something was due (tick.step, tick.means, tick.stds,
    tick.generator()), abort(step) -> True to end the run there, as the time limit does."""
    sets = _override_list(overrides)
    if resume is not None:
        run_dir, grid = train_run.resume(str(resume), sets, progress, abort)
    else:
        cfg = apply_overrides(load_preset(preset), sets)
        run_dir, grid = train_run.start(cfg, None if out is None else str(out), progress, abort)
    if grid is not None and train_run.read_config(run_dir).train.report:
        write_report(run_dir)
    return Run(run_dir)


def load(src: str | Path, device: str = "cpu") -> Generator:
    """The generator handle of a run directory, a snapshot (.safetensors) or a shipped
    generator's name (`gankit pretrained` lists them); a path wins over a name."""
    if str(src) in pretrained_names() and not Path(src).exists():
        return load_handle(pretrained=str(src), device=device)
    return load_handle(str(src), device=device)


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where IPython can display a picture inline)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return bool(shell) and "IPKernelApp" in getattr(shell, "config", {})


def show(images, nrow: int | None = None, row_labels: list[str] | None = None,
         title: str | None = None):
    """A grid of images (N, C, H, W) in [-1, 1], drawn as gankit's PNGs are (`gankit.viz`:
    enlarged at least 3x, `row_labels` on the left, `title` above); clips (N, C, T, H, W) as
    an animated GIF grid, all playing together, as `gankit sample --out x.gif` draws them; a
    Run or Generator handle shows its samples (a conditional one, 8 of each class, a row per
    class; a video one, 16 clips). Shown inline in Jupyter (returns None), else returned as a
    PIL image (for clips, an animated one: its frames are `ImageSequence.Iterator(picture)`)."""
    if isinstance(images, Run):
        images = images.generator
    if isinstance(images, Generator):
        g = images
        g.require_images("show")
        if g.is_video:
            images = g.generate(16)
        else:
            return _display(g.grid(g.generate(8 * g.n_classes if g.n_classes else 16),
                                   rows_are_classes=g.n_classes > 0, title=title))
    images = torch.as_tensor(images)
    if images.dim() == 3:  # one image (C, H, W)
        images = images[None]
    if images.dim() == 5:  # clips: the GIF gankit sample writes
        gif = gif_bytes(images, nrow)
        return _display(PILImage.open(io.BytesIO(gif)), gif)
    if images.dim() != 4:
        raise GankitError(f"show takes images (N, C, H, W) or clips (N, C, T, H, W) in "
                          f"[-1, 1], got shape {tuple(images.shape)} (plot 2D points "
                          "with matplotlib)")
    return _display(grid_image(images, nrow or max(1, round(len(images) ** 0.5)), row_labels,
                               title))


def _display(picture: PILImage.Image, data: bytes | None = None):
    """Inline in Jupyter (returns None), else the picture; `data`: its encoded bytes where
    they exist (an animated GIF's), else it is shown as a PNG."""
    if not _in_notebook():
        return picture
    from IPython.display import Image, display  # only inside Jupyter, where IPython is there

    if data is None:
        buffer = io.BytesIO()
        picture.save(buffer, format="png")
        data = buffer.getvalue()
    display(Image(data=data))
    return None
