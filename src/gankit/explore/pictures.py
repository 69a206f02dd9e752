"""Exploration pictures: class x seed grids, interpolation strips and GIFs, truncation grids.

Each `*_images` function takes a `Generator` handle and returns the images as a tensor
(N, C, H, W) in [-1, 1], rows first, so the tests check exactly what the files show.
"""

import contextlib
import math
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from gankit.errors import GankitError
from gankit.explore.commands import _psi_label  # torch-free, so the CLI's module keeps it
from gankit.artifacts import atomic_write
from gankit.explore.latent import interpolate, one_hot, seed_z
from gankit.generator import Generator, check_psi, truncate
from gankit.video import FRAME_MS, save_clips_gif, save_filmstrip
from gankit.viz import FONT_SIZE, MARGIN, font, grid_image, save_grid, save_png

GIF_SCALE = 4  # one image a frame: a 28x28 digit drawn 112x112


def noise(g: Generator, seeds, psi: float = math.inf, keep_norm: bool = True) -> torch.Tensor:
    """(len(seeds), z_dim): each seed's z, truncated at psi (`gankit.generator.truncate`)."""
    return truncate(torch.stack([seed_z(g.z_dim, s) for s in seeds]), psi, keep_norm)


def class_seed_images(g: Generator, classes: list[int], seeds: list[int],
                      psi: float = math.inf) -> torch.Tensor:
    """Row k: class classes[k] for every seed (same z down a column)."""
    z = noise(g, seeds, psi).repeat(len(classes), 1)                  # (K*S, z_dim)
    y = torch.tensor(classes).repeat_interleave(len(seeds))           # (K*S,)
    return g.render(z, y)


def latent_interpolation_images(g: Generator, seed_a: int, seed_b: int, steps: int,
                                method: str = "slerp", psi: float = math.inf,
                                y: int | None = None) -> torch.Tensor:
    """From seed_a's z to seed_b's z, at a fixed class y for a conditional G."""
    za, zb = noise(g, [seed_a, seed_b], psi)
    z = interpolate(za, zb, steps, method)                            # (steps, z_dim)
    return g.render(z, None if y is None else torch.full((steps,), y))


def class_interpolation_images(g: Generator, seed: int, c_from: int, c_to: int, steps: int,
                               psi: float = math.inf) -> torch.Tensor:
    """At one seed's z, the class vector moves linearly from one-hot(c_from) to one-hot(c_to)."""
    n = g.n_classes
    y = interpolate(one_hot([c_from], n)[0], one_hot([c_to], n)[0], steps, "lerp")  # (steps, n)
    z = noise(g, [seed], psi).expand(steps, -1)
    return g.render(z, y)


def truncation_images(g: Generator, psis: list[float], seeds: list[int],
                      y: int | None = None, keep_norm: bool = True) -> torch.Tensor:
    """Row k: every seed truncated at psis[k]."""
    rows = [g.render(noise(g, seeds, check_psi(p), keep_norm),
                     None if y is None else torch.full((len(seeds),), y)) for p in psis]
    return torch.cat(rows)


@contextlib.contextmanager
def truncated_noise(g: Generator, psi: float, keep_norm: bool = True):
    """Within the block, every z `g` draws for a measurement (`g.noise`) is truncated at psi."""
    g.noise = lambda k, seed=0, psi_=None: truncate(Generator.noise(g, k, seed), psi, keep_norm)
    try:
        yield g
    finally:
        del g.noise


def truncation_measure(g: Generator, psi: float, keep_norm: bool, n: int) -> dict:
    """Precision and recall (`gankit eval`'s, seed 123) of n samples truncated at psi: what the
    picture's row trades. GankitError where the data set has no evaluator or real images here."""
    from gankit.metrics import evaluate  # in here: the pictures need no metrics

    with truncated_noise(g, psi, keep_norm):
        return evaluate(g, None, ["pr"], n=n)["metrics"]


# The two forms of truncation (`gankit.generator.truncate`): (title, keep_norm).
FORMS = {"sphere": ("kept on its sphere (default)", True),
         "zero": ("squeezed toward z = 0 (--to-zero)", False)}


def truncation_sheet(g: Generator, psis: list[float], seeds: list[int], y: int | None = None,
                     forms: tuple[str, ...] = ("sphere", "zero"),
                     measures: dict | None = None) -> Image.Image:
    """The truncation grid of each form side by side, a row per psi, and under each row the
    precision and recall that `measures[(form, psi)]` holds: so the picture shows the trade
    (or that there is none), not only samples that look alike."""
    measures = measures or {}
    labelled = any(measures.values())
    if len(forms) == 1 and not labelled:  # the plain grid, labelled with psi
        return grid_image(truncation_images(g, psis, seeds, y, FORMS[forms[0]][1]),
                          nrow=len(seeds), row_labels=[_psi_label(p) for p in psis])
    panels = []
    for form in forms:
        title, keep = FORMS[form]
        rows = [grid_image(truncation_images(g, [p], seeds, y, keep), nrow=len(seeds))
                for p in psis]
        notes = [_pr_note(measures.get((form, p))) for p in psis] if labelled else None
        panels.append(_stack(rows, notes, title if len(forms) > 1 else None))
    labels = _stack([Image.new("RGB", (1, r.height), "white") for r in rows],
                    [""] * len(rows) if labelled else None, "" if len(forms) > 1 else None,
                    labels=[_psi_label(p) for p in psis])
    sheet = Image.new("RGB", (labels.width + sum(p.width for p in panels)
                              + SHEET_GAP * (len(panels) - 1), labels.height), "white")
    x = 0
    for part in [labels, *panels]:
        sheet.paste(part, (x, 0))
        x += part.width + (SHEET_GAP if part is not labels else 0)
    return sheet


SHEET_GAP = 24  # white pixels between the two forms' grids


def _pr_note(m: dict | None) -> str:
    return "" if not m else f"precision {m['precision']:.2f}   recall {m['recall']:.2f}"


def _stack(rows: list[Image.Image], notes: list[str] | None, title: str | None,
           labels: list[str] | None = None) -> Image.Image:
    """Rows one under another, each with its note (a text line) under it and its label (for
    the left column) beside it; the title above all."""
    line = FONT_SIZE + 2 * MARGIN
    top = line if title is not None else 0
    pitch = [r.height + (line if notes is not None else 0) for r in rows]
    width = max(r.width for r in rows)
    if labels:
        probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        width = 2 * MARGIN + max(math.ceil(probe.textlength(t, font=font())) for t in labels)
    out = Image.new("RGB", (width, top + sum(pitch)), "white")
    draw = ImageDraw.Draw(out)
    if title:
        draw.text((width / 2, line / 2), title, fill="black", font=font(), anchor="mm")
    y = top
    for k, r in enumerate(rows):
        if labels:
            draw.text((MARGIN, y + r.height / 2), labels[k], fill="black", font=font(), anchor="lm")
        else:
            out.paste(r.convert("RGB"), (0, y))
        if notes is not None and notes[k]:
            draw.text((width / 2, y + r.height + line / 2), notes[k], fill="#333", font=font(),
                      anchor="mm")
        y += pitch[k]
    return out


# ---- files ---------------------------------------------------------------------------------

def check_out(out, suffixes: tuple[str, ...]) -> Path:
    path = Path(out)
    if path.suffix.lower() not in suffixes:
        raise GankitError(f"--out {out}: the file must end in {' or '.join(suffixes)}")
    if not path.parent.is_dir():
        raise GankitError(f"--out {out}: the folder {path.parent} does not exist")
    return path


def write_grid(images: torch.Tensor, out, nrow: int,
               row_labels: list[str] | None = None) -> Path:
    """A PNG grid, rows of `nrow` images, optionally labelled on the left (`gankit.viz`)."""
    path = check_out(out, (".png",))
    save_grid(images, path, nrow, row_labels)
    return path


def write_clips(clips: torch.Tensor, out, fps: float = 1000 / FRAME_MS) -> Path:
    """A video G's interpolation: the clips (steps, C, T, H, W) from seed A to seed B, in
    reading order, all playing at once (.gif), or one per row (.png filmstrip)."""
    path = check_out(out, (".gif", ".png"))
    if path.suffix.lower() == ".png":
        return save_filmstrip(clips, path, max_clips=len(clips))
    return save_clips_gif(clips, path, nrow=min(len(clips), 8), fps=fps)


def write_picture(picture: Image.Image, out) -> Path:
    """A PIL picture drawn here (the truncation sheet) -> PNG, written atomically."""
    path = check_out(out, (".png",))
    save_png(picture, path)
    return path


def write_frames(frames: torch.Tensor, out, fps: float = 12,
                 labels: list[str] | None = None) -> Path:
    """An animated GIF that plays the frames forth and back (.gif), or a strip of them (.png);
    `labels` (one a frame) are written above each GIF frame."""
    path = check_out(out, (".gif", ".png"))
    if path.suffix.lower() == ".png":
        return write_grid(frames, path, nrow=len(frames))
    pics = [grid_image(f[None], nrow=1, title=None if labels is None else labels[i],
                       scale=GIF_SCALE, padding=0) for i, f in enumerate(frames)]
    pics = pics + pics[-2:0:-1]  # forth and back, so the loop has no jump
    atomic_write(path, lambda tmp: pics[0].save(tmp, format="GIF", save_all=True,
                                                append_images=pics[1:], loop=0,
                                                duration=int(1000 / fps)))
    return path
