"""The training state, for resume: `state.pt` (the generator snapshot for inference is
`gankit.models.snapshot`).

`state.pt` holds G, D, both optimizers, the step, the sampler and every RNG state. It is
saved with `torch.save` and read with `torch.load(weights_only=True)`, which only rebuilds
tensors and plain containers and refuses anything that would run code. It is written with
`gankit.artifacts.atomic_write`, so an interrupted write never leaves a half-written state in
place of a good one.
"""

import random
from pathlib import Path

import numpy as np
import torch

from gankit.artifacts import atomic_write
from gankit.errors import GankitError
from gankit.rundir import STATE  # noqa: F401 (checkpoint.STATE, as before)


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
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for a bad file; all mean the same here
        raise GankitError(f"{path} could not be read ({type(e).__name__}): the training state "
                          "is corrupt; start a new run or restore a copy") from None
    missing = [k for k in ("trainer", "elapsed") if not isinstance(state, dict) or k not in state]
    if missing or not isinstance(state["trainer"], dict):
        raise GankitError(f"{path} is not a gankit training state (no {', '.join(missing) or 'trainer'}"
                          "): restore the run's own state.pt, or start a new run")
    return state
