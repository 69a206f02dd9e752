"""A generator snapshot: what a run keeps for inference, and what gankit ships pretrained.

`generator.safetensors` + `generator.json` in the artifact format (`gankit.artifacts`): G's
weights (BatchNorm running statistics included) and a card with kind "generator", the model
name and constructor arguments that `build_generator` takes, the data shape, class names and
gankit version. Nothing else is needed to sample. Cards written before the artifact format
(no `kind`, no `weights_sha256`) load the same way.
"""

from importlib import resources
from pathlib import Path

import torch

from gankit import artifacts, rundir
from gankit.errors import GankitError
from gankit.models import build_generator
from gankit.models.size import FLOAT, check_fits, n_parameters, on_meta

# What a card's constructor arguments may hold: a malformed or hostile card is refused before
# PyTorch sees it (a negative width, a width no machine holds).
MAX_CARD_INT = 1 << 20

NAME = rundir.SNAPSHOT
SNAPSHOT_WEIGHTS, SNAPSHOT_META = rundir.SNAPSHOT_WEIGHTS, rundir.SNAPSHOT_CARD
FIX = "give a run directory written by gankit train (or resume the run to write it again)"


def save_snapshot(folder: Path, G: torch.nn.Module, model_name: str, g_kwargs: dict,
                  data_shape: tuple, class_names, extra: dict | None = None) -> None:
    """Write FOLDER/generator.safetensors and FOLDER/generator.json (`extra`: more card entries)."""
    card = {"kind": "generator", "model": model_name, "kwargs": g_kwargs,
            "data_shape": list(data_shape), "class_names": class_names, **(extra or {})}
    artifacts.save(Path(folder) / NAME, G, card)


def snapshot_paths(path) -> tuple[Path, Path]:
    """Accept a run directory, a generator.json or a generator.safetensors (or NAME.*)."""
    p = Path(path)
    if not p.exists():
        names = shipped_names(shipped_folder())
        shipped = (f", or for a shipped generator --pretrained NAME (gankit.load(NAME) in "
                   f"Python), NAME one of {', '.join(names)}"
                   if names and len(p.parts) == 1 and not p.suffix else "")
        raise GankitError(f"{path} does not exist: give a run directory or its "
                          f"{SNAPSHOT_WEIGHTS}{shipped}")
    if p.is_file() and p.suffix not in (".json", ".safetensors"):  # state.pt, a PNG, ...
        run = p.parent
        raise GankitError(f"{path} is not a generator snapshot"
                          + (" but the run's training state (for gankit train --resume)"
                             if p.name == rundir.STATE else "")
                          + f": give the run directory {run} or {run / SNAPSHOT_WEIGHTS}")
    weights, meta = artifacts.paths(p, name=NAME)
    if not weights.is_file() or not meta.is_file():
        raise GankitError(f"{path} is not a generator snapshot: expected {weights.name} and "
                          f"{meta.name} in {weights.parent} (a run directory written by gankit train)")
    return weights, meta


def shipped_folder() -> Path:
    """gankit/pretrained, where the shipped generators live (read as package data: models sit
    below `gankit.pretrained`, which lists and loads them for users through the two below)."""
    return Path(str(resources.files("gankit").joinpath("pretrained")))


def shipped_names(folder: Path) -> list[str]:
    """The generators in `folder` (those with both their weights and their card)."""
    return sorted(p.stem for p in folder.glob("*.json")
                  if (folder / f"{p.stem}.safetensors").is_file())


def shipped_snapshot(name: str, folder: Path | None = None) -> Path:
    """NAME.json of a shipped generator (what `load_snapshot` takes), or one line naming those
    there are."""
    folder = folder or shipped_folder()
    available = shipped_names(folder)
    if name not in available:
        raise GankitError(f"no pretrained generator {name!r}: choose one of "
                          f"{', '.join(available) or '(none shipped)'} (gankit pretrained lists them)")
    return folder / f"{name}.json"


def load_snapshot(path, device="cpu") -> tuple[torch.nn.Module, dict]:
    """Rebuild G from a snapshot, in eval mode. Returns (G, meta), meta being its card."""
    weights, meta_path = snapshot_paths(path)
    state, meta = artifacts.load(weights, kind="generator", fix=FIX)
    missing = [k for k in ("model", "kwargs", "data_shape") if k not in meta]
    shape = meta.get("data_shape")
    if missing or not (isinstance(shape, list) and shape
                       and all(isinstance(d, int) and d > 0 for d in shape)):
        what = f"no {', '.join(missing)}" if missing else f"data_shape {shape!r}"
        raise GankitError(f"{meta_path} is not a valid generator card ({what}): re-export the "
                          "snapshot with gankit train, or restore its generator.json") from None
    G = build_checked(meta, meta_path, state, weights)
    artifacts.load_into(G, state, weights, fix="the file is corrupt or from another model")
    return G.to(device).eval(), meta


def _bad_card(meta_path, what: str) -> GankitError:
    return GankitError(f"{meta_path} is not a valid generator card ({what}): re-export the "
                       "snapshot with gankit train, or restore its generator.json")


def build_checked(meta: dict, meta_path, state: dict | None = None,
                  weights_path=None) -> torch.nn.Module:
    """G as the card describes it, once its arguments are known to be sane, its weights known
    to fit in memory and (given the `state` read from `weights_path`) to be the shapes the
    card's network has: all counted on the meta device first, nothing allocated."""
    kwargs = meta["kwargs"]
    if not isinstance(kwargs, dict) or not isinstance(meta["model"], str):
        raise _bad_card(meta_path, "model must be a name and kwargs a mapping")
    for key, value in kwargs.items():
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        if not 0 <= value <= MAX_CARD_INT:
            raise _bad_card(meta_path, f"kwargs.{key}={value} is outside 0..{MAX_CARD_INT:,}")

    def build() -> torch.nn.Module:
        try:
            return build_generator(meta["model"], kwargs)
        except GankitError as e:
            raise _bad_card(meta_path, str(e)) from None
        except (KeyError, TypeError, ValueError, RuntimeError, OverflowError, IndexError,
                ZeroDivisionError) as e:  # arguments the constructor cannot take
            first = (str(e).strip().splitlines() or [""])[0]
            raise _bad_card(meta_path, f"{type(e).__name__}: {first}") from None

    if not kwargs.get("content"):  # (a video G with shipped content loads that G: not on meta)
        G = on_meta(build)
        weights = n_parameters(G)
        check_fits(weights * FLOAT, f"{meta_path}'s generator ({weights:,} weights)",
                   "its widths are not those of a generator gankit trained; restore its "
                   "generator.json")
        if state is not None:
            wanted = {k: tuple(v.shape) for k, v in G.state_dict().items()}
            have = {k: tuple(v.shape) for k, v in state.items()}
            if wanted != have:
                diff = (sorted(set(wanted) ^ set(have))
                        or [k for k in wanted if wanted[k] != have[k]])
                raise GankitError(f"{weights_path} does not fit the network its card describes "
                                  f"({diff[0]}: {have.get(diff[0])} in the file, "
                                  f"{wanted.get(diff[0])} in the card's network): the file is "
                                  "corrupt or from another model")
    G = build()
    made = _output_shape(G)
    if list(made) != list(meta["data_shape"]):
        raise _bad_card(meta_path, f"data_shape {meta['data_shape']} but its network makes "
                        f"{list(made)}")
    return G


def _output_shape(G: torch.nn.Module) -> tuple:
    """What one sample of G looks like (one sample drawn on the CPU, in eval mode; a forward
    pass on the meta device would cost seconds of start-up)."""
    y = torch.zeros(1, dtype=torch.long) if getattr(G, "n_classes", 0) else None
    with torch.no_grad():
        return tuple(G.eval()(torch.zeros(1, int(G.z_dim)), y).shape[1:])


__all__ = ["SNAPSHOT_META", "SNAPSHOT_WEIGHTS", "load_snapshot", "save_snapshot", "snapshot_paths"]
