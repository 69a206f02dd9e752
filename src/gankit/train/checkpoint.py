"""The two files a run keeps: a generator snapshot for inference, the training state for resume.

- `generator.safetensors` + `generator.json`: G's weights (BatchNorm running statistics
  included) and what rebuilds it: model name, constructor arguments, data shape, class names,
  gankit version. Nothing else is needed to sample.
- `state.pt`: G, D, both optimizers, the step, the sampler and every RNG state. It is saved
  with `torch.save` and read with `torch.load(weights_only=True)`, which only rebuilds tensors
  and plain containers and refuses anything that would run code.

Every file is written to a temporary name in the same directory and renamed over the target,
so an interrupted write never leaves a half-written checkpoint in place of a good one.
"""

import json
import os
import random
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

import gankit
from gankit.errors import GankitError
from gankit.models import build_generator

SNAPSHOT_WEIGHTS = "generator.safetensors"
SNAPSHOT_META = "generator.json"
STATE = "state.pt"


def atomic_write(path: Path, write) -> None:
    """Call `write(tmp_path)`, then rename the temporary file over `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(obj, indent=2) + "\n"))


def save_snapshot(folder: Path, G: torch.nn.Module, model_name: str, g_kwargs: dict,
                  data_shape: tuple, class_names, extra: dict | None = None) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in G.state_dict().items()}
    atomic_write(Path(folder) / SNAPSHOT_WEIGHTS, lambda tmp: save_file(state, tmp))
    meta = {"model": model_name, "kwargs": g_kwargs, "data_shape": list(data_shape),
            "class_names": class_names, "gankit_version": gankit.__version__, **(extra or {})}
    write_json(Path(folder) / SNAPSHOT_META, meta)


def snapshot_paths(path) -> tuple[Path, Path]:
    """Accept a run directory, a generator.json or a generator.safetensors."""
    p = Path(path)
    if not p.exists():
        raise GankitError(f"{path} does not exist: give a run directory or its "
                          f"{SNAPSHOT_WEIGHTS}")
    folder = p if p.is_dir() else p.parent
    stem = p.stem if p.is_file() else "generator"
    weights, meta = folder / f"{stem}.safetensors", folder / f"{stem}.json"
    if not weights.is_file() or not meta.is_file():
        raise GankitError(f"{path} is not a generator snapshot: expected {weights.name} and "
                          f"{meta.name} in {folder} (a run directory written by gankit train)")
    return weights, meta


def load_snapshot(path, device="cpu") -> tuple[torch.nn.Module, dict]:
    """Rebuild G from a snapshot, in eval mode. Returns (G, meta)."""
    weights, meta_path = snapshot_paths(path)
    try:
        meta = json.loads(meta_path.read_text())
        G = build_generator(meta["model"], meta["kwargs"])
        G.load_state_dict(load_file(weights, device="cpu"))
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise GankitError(f"{meta_path} is not a valid generator card ({e}): re-export the "
                          "snapshot with gankit train") from None
    except (SafetensorError, RuntimeError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise GankitError(f"{weights} could not be loaded ({first}): the file is corrupt or "
                          "from another model") from None
    return G.to(device).eval(), meta


def rng_state() -> dict:
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": random.getstate(),
        "numpy": {"key": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "gauss": float(np_state[4])},
    }


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    random.setstate(state["python"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["key"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["gauss"]))


def save_state(folder: Path, state: dict) -> None:
    atomic_write(Path(folder) / STATE, lambda tmp: torch.save(state, tmp))


def load_state(folder: Path) -> dict:
    path = Path(folder) / STATE
    if not path.is_file():
        raise GankitError(f"{folder} has no {STATE}: --resume needs a run directory written by "
                          "gankit train")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for a bad file; all mean the same here
        raise GankitError(f"{path} could not be read ({type(e).__name__}): the training state "
                          "is corrupt; start a new run or restore a copy") from None
