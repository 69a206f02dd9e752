"""Which generator to explore: a run directory or snapshot, or a pretrained one by name."""

import torch

from gankit.errors import GankitError


def load_generator(snapshot: str | None = None, pretrained: str | None = None):
    """(G in eval mode on the CPU, its card) from exactly one of a snapshot path or a pretrained name."""
    from gankit.pretrained import resolve

    G, meta = resolve(snapshot, pretrained)
    if len(meta.get("data_shape", ())) != 3:
        raise GankitError(f"{snapshot or pretrained} makes 2D points, not images: explore works on "
                          "image generators (plot toy samples with gankit sample)")
    return G.cpu().eval(), meta


def n_classes(G) -> int | None:
    """The number of classes a conditional G takes, None for an unconditional one."""
    n = getattr(G, "n_classes", None)
    return int(n) if n else None


def class_names(G, meta: dict) -> list[str]:
    n = n_classes(G) or 0
    names = meta.get("class_names") or []
    return [str(c) for c in names] if len(names) == n else [str(i) for i in range(n)]


def require_conditional(G, what: str) -> int:
    n = n_classes(G)
    if n is None:
        raise GankitError(f"{what} needs a conditional generator (one trained with class labels, "
                          "e.g. the cgan-mnist preset); this one is unconditional")
    return n


def parse_class(value, names: list[str], flag: str = "--class") -> int:
    """A class given by index ("7") or by name ("Sneaker") -> its index; one line if neither."""
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


@torch.no_grad()
def render(G, z: torch.Tensor, y: torch.Tensor | None = None, batch: int = 256) -> torch.Tensor:
    """(N, z_dim) noise and optional (N,) indices or (N, n_classes) class vectors -> (N, C, H, W)."""
    out = []
    for i in range(0, len(z), batch):
        zi = z[i:i + batch]
        out.append(G(zi) if y is None else G(zi, y[i:i + batch]))
    return torch.cat(out)
