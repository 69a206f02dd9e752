"""One handle on a trained generator, for everything that draws from it.

    g = load("runs/00001-dcgan-mnist")          # or load(pretrained="mnist-cdcgan")
    g = Generator(G, card)                      # a live module and its card (the trainer's EMA G)
    x = g.generate(64, seed=0, y="7", psi=1.5)  # (64, 1, 28, 28) on the CPU
    g.save(x, "samples.png")

It answers what the commands used to ask the module and its card each in their own way: how
many classes and their names, which class a user means (`class_index`), whether it draws
images or 2D points (`is_points`), and how to run G seeded and in batches (`generate`,
`render`). The truncation trick lives here too, so `generate(psi=...)` and the explorer's
pictures truncate the same way.

Truncation (the "truncation trick" of BigGAN, Brock et al. 2019): every coordinate of z comes
from a standard normal truncated to [-psi, psi]. It is drawn by the inverse CDF from the
same seed's normal draw, not by resampling: a seed's z at threshold psi is its untruncated z
moved monotonically toward 0, so a row over psi shows one sample being truncated, and psi =
inf is exactly the untruncated z. By default the truncated z is then scaled back to the
seed's own norm (`keep_norm`): a d-dimensional normal lies near the sphere of radius sqrt(d)
(White 2016, "Sampling generative networks"), and these generators never saw a z far inside
it; truncated to [-0.5, 0.5]^64 its norm is about 2.3 instead of 8, which the first
BatchNorm layer, in eval mode, passes on as a washed-out mean image (the shipped mnist-dcgan
drew blobs for every psi <= 0.75). Kept on the sphere, truncation removes z's outlying
coordinates and keeps G on the inputs it was trained on; psi -> 0 tends to each seed's
direction (2 Phi(z_i) - 1)_i, so seeds still differ. keep_norm=False is BigGAN's raw
truncation: psi -> 0 squeezes every seed onto z = 0, the same image G(0) for every seed.
(StyleGAN's truncation pulls toward the mean of an intermediate w space these generators do
not have; in z space its mean is 0 and it would only rescale z.)
"""

import math
import numbers
import os
from pathlib import Path

import torch

from gankit.config import load_preset, preset_names
from gankit.errors import GankitError
from gankit.models.snapshot import load_snapshot, snapshot_paths
from gankit.pretrained import snapshot_path
from gankit.video import save_clips_gif, save_filmstrip
from gankit.viz import grid_image, save_png, save_scatter


def conditional_presets() -> list[str]:
    """The presets that train a conditional G (model.n_classes != 0; -1: the data's classes),
    read from the presets themselves, so a new one is named with no edit here."""
    return [name for name in preset_names() if load_preset(name).model.n_classes]


def default_labels(n: int, n_classes: int) -> torch.Tensor:
    """(n,) balanced labels in runs of one class: one class per row in a ceil(n/K)-wide grid."""
    return torch.arange(n) // math.ceil(n / n_classes)


def check_psi(psi: float) -> float:
    """A truncation threshold: a number >= 0, or inf for no truncation."""
    try:
        psi = float(psi)
    except (TypeError, ValueError):
        raise GankitError(f"truncation psi must be a number >= 0 (or inf for none), "
                          f"got {psi!r}") from None
    if math.isnan(psi) or psi < 0:
        raise GankitError(f"truncation psi must be a number >= 0 (or inf for none), got {psi}")
    return psi


def truncate(z: torch.Tensor, psi: float, keep_norm: bool = True) -> torch.Tensor:
    """Map standard normal z (..., d) to a normal truncated to [-psi, psi] per coordinate,
    then (keep_norm) scaled back to each z's own norm over the last dimension.

    Inverse CDF, u = Phi(z) -> Phi^-1(Phi(-psi) + u (Phi(psi) - Phi(-psi))), in float64 so the
    tails survive; hand-written (torch.nn.init.trunc_normal_ draws fresh uniforms, which
    would lose the link between a seed's truncated and untruncated z). As psi -> 0 the map
    tends to psi (2u - 1), so psi = 0 with keep_norm is the direction 2u - 1 at z's norm.
    """
    psi = check_psi(psi)
    if math.isinf(psi):
        return z.clone()
    z64 = z.double()
    if psi == 0:
        out = 2 * torch.special.ndtr(z64) - 1 if keep_norm else torch.zeros_like(z64)
    else:
        lo, hi = (torch.special.ndtr(torch.tensor(v, dtype=torch.float64)) for v in (-psi, psi))
        out = torch.special.ndtri(lo + torch.special.ndtr(z64) * (hi - lo)).clamp(-psi, psi)
    if keep_norm:
        norm = out.norm(dim=-1, keepdim=True)
        out = out * torch.where(norm > 0, z64.norm(dim=-1, keepdim=True) / norm, 0.0)
    return out.to(z.dtype)


def parse_class(value, names: list[str], flag: str = "--class") -> int:
    """A class given by index (7, "7") or by name ("Sneaker") -> its index; one line if neither."""
    text = str(value).strip()
    if text in names and not text.isdigit():
        return names.index(text)
    try:
        k = int(text)
    except ValueError:
        k = None
    if k is None or not 0 <= k < len(names):
        shown = ", ".join(f"{i}={n}" for i, n in enumerate(names)) if names != [
            str(i) for i in range(len(names))] else f"0 to {len(names) - 1}"
        raise GankitError(f"{flag} {text}: not a class of this generator; choose {shown}")
    return k


class Generator:
    """A generator module with its card (the snapshot's JSON: model, kwargs, data_shape,
    class_names, data, ...). `name` says where it came from, for messages; `folder` is the
    snapshot's folder (a run directory) when it was loaded from one, else None."""

    def __init__(self, module: torch.nn.Module, card: dict, name: str = "this generator",
                 folder: Path | None = None):
        self.module, self.card, self.name, self.folder = module, card, name, folder

    # -- what it is ---------------------------------------------------------------------
    @property
    def z_dim(self) -> int:
        return int(self.module.z_dim)

    @property
    def n_classes(self) -> int:
        """The number of classes a conditional G takes; 0 for an unconditional one."""
        return int(getattr(self.module, "n_classes", 0) or 0)

    @property
    def class_names(self) -> list[str]:
        """The card's class names where they fit, else "0", "1", ...; [] when unconditional."""
        names = self.card.get("class_names")
        names = names if isinstance(names, list) else []  # an edited card: any other value
        k = self.n_classes
        return [str(c) for c in names] if len(names) == k else [str(i) for i in range(k)]

    @property
    def data_shape(self) -> tuple[int, ...]:
        return tuple(self.card["data_shape"])

    @property
    def is_points(self) -> bool:
        """A 2D toy mixture's generator draws (N, 2) points, not images."""
        return len(self.data_shape) == 1

    @property
    def is_video(self) -> bool:
        """A video generator draws (N, C, T, H, W) clips (`gankit.video` draws them)."""
        return len(self.data_shape) == 4

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    # -- checks with one-line errors -----------------------------------------------------
    def class_index(self, value, flag: str = "--class") -> int:
        """The class a user means (index or name) -> its index; refused for an unconditional G."""
        if not self.n_classes:
            raise GankitError(f"{flag} {value}: this generator is unconditional; drop {flag} "
                              f"(to draw a chosen class, {self._conditional_hint()})")
        return parse_class(value, self.class_names, flag)

    def _conditional_hint(self) -> str:
        """How to train a conditional version of this generator's run, for messages."""
        data = self.card.get("data") or {}
        if data.get("name") == "folder":  # its classes are the folder's subfolders
            root = Path(str(data.get("path") or "")).expanduser()
            k = (sum(1 for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
                 if data.get("path") and root.is_dir() else 0)
            return (f"train the run again with --set model.n_classes={k if k > 1 else -1} "
                    f"(one class per subfolder of {data.get('path') or 'data.path'}"
                    f"{'' if k > 1 else '; -1: as many as it has'})")
        if data.get("name") in ("mnist", "fashion"):
            return (f"train the run again with --set model.n_classes=10, or a conditional "
                    f"preset: {', '.join(conditional_presets())}")
        return f"train a conditional preset: {', '.join(conditional_presets())}"

    def require_conditional(self, what: str) -> int:
        if not self.n_classes:
            raise GankitError(f"{what} needs a conditional generator (one trained with class "
                              "labels, e.g. the cgan-mnist preset); this one is unconditional")
        return self.n_classes

    def check_memory(self, n: int, flag: str = "--n", copies: int = 2) -> None:
        """Refuse, with what it would need, n samples that would not fit in half this
        machine's memory (`copies`: how many float32 copies the caller holds at once)."""
        need = n * math.prod(self.data_shape) * 4 * copies
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):  # not POSIX: nothing to measure by
            return
        if need > total // 2:
            raise GankitError(f"{flag} {n:,}: {n:,} samples of shape {list(self.data_shape)} "
                              f"need about {need / 2**30:.1f} GiB of memory and this machine "
                              f"has {total / 2**30:.1f} GiB: ask for fewer")

    def require_images(self, what: str) -> None:
        if self.is_points:
            raise GankitError(f"{self.name} makes 2D points, not images: {what} works on image "
                              "generators (plot toy samples with gankit sample)")

    # -- drawing ---------------------------------------------------------------------------
    def labels(self, n: int, y=None) -> torch.Tensor | None:
        """The (n,) labels `generate` uses: None for an unconditional G (y must be None); for a
        conditional one y=None -> balanced `default_labels`, a class (index or name) -> every
        sample that class, a tensor (n,) of indices or (n, K) class vectors -> as it is."""
        if y is None:
            return default_labels(n, self.n_classes) if self.n_classes else None
        if isinstance(y, (numbers.Integral, str)):
            return torch.full((n,), self.class_index(y), dtype=torch.long)
        if not self.n_classes:
            raise GankitError("labels given, but this generator is unconditional "
                              "(model.n_classes=0): it has no classes to choose")
        return torch.as_tensor(y)

    def noise(self, n: int, seed: int = 0, psi: float | None = None) -> torch.Tensor:
        """(n, z_dim) standard normal noise from `seed`, truncated at psi (None: not at all).

        Row 0 of seed s is the explorer's `seed_z(z_dim, s)`."""
        z = torch.randn(n, self.z_dim, generator=torch.Generator().manual_seed(seed))
        return z if psi is None else truncate(z, psi)

    @torch.no_grad()
    def render(self, z: torch.Tensor, y: torch.Tensor | None = None,
               batch: int = 500, bar=None) -> torch.Tensor:
        """G(z, y) for given noise (N, z_dim) and labels (N,) or class vectors (N, K), in
        batches, G in eval mode; returns (N, ...) on the CPU. `bar`: a tqdm bar to advance."""
        G, device = self.module, self.device
        was_training = G.training
        G.eval()
        out = []
        try:
            for i in range(0, len(z), batch):
                out.append(G(z[i:i + batch].to(device),
                             None if y is None else y[i:i + batch].to(device)).cpu())
                if bar is not None:
                    bar.update(len(out[-1]))
            return torch.cat(out)
        finally:
            G.train(was_training)

    def generate(self, n: int, seed: int = 0, y=None, psi: float | None = None,
                 batch: int = 500, bar=None) -> torch.Tensor:
        """n samples, seeded: the same seed gives the same z whatever y, psi or batch is.

        y (conditional G only): a class index or name, (n,) labels, or None for balanced
        `default_labels`. psi: truncation threshold (see the module notes); None for none."""
        return self.render(self.noise(n, seed, psi), self.labels(n, y), batch, bar)

    # -- pictures --------------------------------------------------------------------------
    def grid_columns(self, n: int, rows_are_classes: bool) -> int:
        """Columns of a grid of n samples: one class per row, or as square as it gets."""
        return math.ceil(n / self.n_classes) if rows_are_classes else math.ceil(math.sqrt(n))

    def grid(self, x: torch.Tensor, rows_are_classes: bool = False, title: str | None = None):
        """Images `x` as one PIL grid (`gankit.viz.grid_image`): where rows_are_classes, x in
        runs of one class as `default_labels` gives them, one class per row, named on the
        left; else as square as it gets."""
        nrow = self.grid_columns(len(x), rows_are_classes)
        labels = self.class_names[:math.ceil(len(x) / nrow)] if rows_are_classes else None
        return grid_image(x, nrow, row_labels=labels, title=title)

    def save(self, x: torch.Tensor, path, rows_are_classes: bool = False,
             title: str | None = None, centres: torch.Tensor | None = None) -> Path:
        """A PNG of samples `x`: a grid of images (`grid`, titled where a title is given), or
        a scatter plot of 2D points (with the mixture's centres (K, 2) marked, where given);
        clips: a GIF grid (.gif) or a PNG filmstrip, one clip per row."""
        path = Path(path)
        if self.is_video:
            if path.suffix.lower() == ".gif":
                return save_clips_gif(x, path)
            return save_filmstrip(x, path)
        if self.is_points:
            save_scatter(x, path, centres,
                         title=title if title is not None else f"{len(x)} samples")
        else:
            save_png(self.grid(x, rows_are_classes, title), path)
        return path


def load(src: str | None = None, pretrained: str | None = None,
         device: str | torch.device = "cpu") -> Generator:
    """A command's generator: a run directory / snapshot or a pretrained name, exactly one."""
    if (src is None) == (pretrained is None):
        raise GankitError("give either a run directory / snapshot or --pretrained NAME "
                          "(one of them, not both)")
    path = snapshot_path(pretrained) if pretrained else src
    G, card = load_snapshot(path, device=device)
    return Generator(G.eval(), card, pretrained or str(src), snapshot_paths(path)[0].parent)
