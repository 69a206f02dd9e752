"""The bottom layer: atomic file writes, and one format for every saved network.

A saved network is two files side by side, like diffusers' `save_pretrained`:

- `NAME.safetensors`: the state dict (tensors only; reading it runs no code);
- `NAME.json`: its card, saying what rebuilds it: `kind` (generator, evaluator, classifier),
  `model` (a registry name or a class path), `kwargs` (the constructor arguments), the data
  shape and class names where they apply, the gankit version, `weights_sha256` (the sha256
  of NAME.safetensors), and whatever else the writer records (training, metrics, provenance).

`save` writes the weights first and the card last, so a card never names weights that are not
yet on disk; `load` checks the sha256 when the card has one, so a card and weights written at
different moments (a run killed between the two renames, files copied by hand) are caught.
Cards from before this format (no `kind`, no sha256) still load.

This module imports nothing from gankit but its version and `GankitError`: everything that
writes files may import it. What turns a card into a module (`build_generator`, `Evaluator`)
lives with the models, one layer up.
"""

import contextlib
import hashlib
import json
import os
import secrets
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from gankit import __version__
from gankit.errors import GankitError

KINDS = ("generator", "evaluator", "classifier")
WEIGHTS_SUFFIX, CARD_SUFFIX = ".safetensors", ".json"


# ---- atomic writes ----------------------------------------------------------------------

def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; some systems cannot open a folder for this."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | Path, write) -> None:
    """Call `write(tmp_path)`, then rename the temporary file over `path`.

    The temporary file sits in the same folder (a rename across file systems is not atomic)
    and gets the permissions a plain `open` would give (0o666 minus the umask; mkstemp's
    0o600 would hide shared run directories from other users). Its data and then the
    folder's entry are fsynced, so after a crash `path` holds the old file or the new one.
    If `write` raises, or the process is interrupted (KeyboardInterrupt), the temporary file
    is removed and `path` is left as it was.
    """
    path = Path(path)
    while True:  # mkstemp would do this, but always with mode 0o600
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            # the mode is 0o666 and the kernel applies the umask, as for a plain open()
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    try:
        write(str(tmp))
        # write() was given only the name and closed its own handle: reopen to sync the data
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def write_npz(path: str | Path, **arrays) -> None:
    """NumPy arrays into a compressed .npz, atomically (`gankit sample`'s arrays)."""
    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
    atomic_write(path, write)


def write_json(path: str | Path, obj) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(obj, indent=2) + "\n"))


# ---- weights + card -----------------------------------------------------------------------

def paths(path: str | Path, name: str | None = None) -> tuple[Path, Path]:
    """(NAME.safetensors, NAME.json) for a folder (NAME = `name`), a stem, or either file."""
    p = Path(path)
    if p.is_dir():
        if name is None:
            raise GankitError(f"{p} is a folder: give the NAME.safetensors inside it")
        p = p / name
    elif p.suffix in (WEIGHTS_SUFFIX, CARD_SUFFIX):
        p = p.with_suffix("")
    return p.with_name(p.name + WEIGHTS_SUFFIX), p.with_name(p.name + CARD_SUFFIX)


def _state_dict(module_or_state_dict) -> dict[str, torch.Tensor]:
    state = (module_or_state_dict.state_dict()
             if isinstance(module_or_state_dict, torch.nn.Module) else module_or_state_dict)
    # safetensors stores dense, CPU, non-shared tensors only
    return {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}


def save(path: str | Path, module_or_state_dict, card: dict) -> tuple[Path, Path]:
    """Write NAME.safetensors, then NAME.json; returns both paths.

    `path` is a stem (`runs/a/generator`), either file, or a folder (NAME = the card's kind).
    `card` needs `kind`, `model` and `kwargs`; `gankit_version` is filled in when missing and
    `weights_sha256` is always computed here.
    """
    missing = [k for k in ("kind", "model", "kwargs") if k not in card]
    if missing:  # a programming error, not a user's: nothing could rebuild this network
        raise ValueError(f"a card needs {', '.join(missing)} to say what rebuilds the network")
    if card["kind"] not in KINDS:
        raise ValueError(f"card kind {card['kind']!r} is not one of {', '.join(KINDS)}")
    weights, card_path = paths(path, name=card["kind"])
    data = save_safetensors(_state_dict(module_or_state_dict))
    head = {k: card[k] for k in ("kind", "model", "kwargs")}
    card = {**head, "gankit_version": card.get("gankit_version", __version__), **card,
            "weights_sha256": hashlib.sha256(data).hexdigest()}
    atomic_write(weights, lambda tmp: Path(tmp).write_bytes(data))
    write_json(card_path, card)
    return weights, card_path


def read_card(path: str | Path, kind: str | None = None, fix: str = "save it again") -> dict:
    """The card alone (no weights read). `kind`: refuse a card of another kind."""
    _, card_path = paths(path, name=kind)
    what = f"{kind} card" if kind else "gankit card"
    if not card_path.is_file():
        raise GankitError(f"{card_path} does not exist: {fix}")
    try:
        card = json.loads(card_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as e:
        raise GankitError(f"{card_path} is not a valid {what} ({e}): {fix}") from None
    if not isinstance(card, dict):
        raise GankitError(f"{card_path} is not a valid {what} (not a JSON object): {fix}")
    if kind and card.get("kind", kind) != kind:  # cards older than `kind` are taken on trust
        raise GankitError(f"{card_path} is a {card['kind']} card, not a {kind}: {fix}")
    return card


def load(path: str | Path, kind: str | None = None,
         fix: str = "save it again") -> tuple[dict[str, torch.Tensor], dict]:
    """(state dict on the CPU, card) of a network written by `save`.

    Every problem (missing, corrupt, of another kind, weights that do not match the card) is
    one `GankitError` line naming the file; `fix` says what would put it right.
    """
    weights, card_path = paths(path, name=kind)
    if not weights.is_file():
        raise GankitError(f"{weights} does not exist: {fix}")
    card = read_card(card_path, kind, fix)
    try:
        data = weights.read_bytes()
    except OSError as e:
        raise GankitError(f"{weights} could not be read ({e.strerror}): {fix}") from None
    try:  # parsed before the sha256 check, so a damaged file is called corrupt, not mismatched
        state = load_safetensors(data)
    except (SafetensorError, ValueError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise GankitError(f"{weights} could not be loaded ({first}): the file is corrupt; "
                          f"{fix}") from None
    sha = card.get("weights_sha256")
    if sha is not None and hashlib.sha256(data).hexdigest() != sha:
        raise GankitError(f"{weights} does not match its card {card_path.name} (sha256 differs): "
                          f"the two were written at different moments; {fix}")
    return state, card


def load_into(module: torch.nn.Module, state: dict, where: str | Path,
              fix: str = "save it again") -> torch.nn.Module:
    """`module.load_state_dict(state)`, with a mismatch as one GankitError line naming `where`."""
    try:
        module.load_state_dict(state)
    except RuntimeError as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise GankitError(f"{where} does not fit the network its card describes ({first}): "
                          f"{fix}") from None
    return module


__all__ = ["KINDS", "atomic_write", "load", "load_into", "paths", "read_card", "save",
           "write_json"]
