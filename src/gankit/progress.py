"""One progress bar for long work (steps, items/s, ETA), on stderr beside the output.

In a terminal it redraws in place; in a log file it writes a line every 30 s, as the
training loop's bar does.
"""

import sys

from tqdm import tqdm


def bar(total: int, desc: str, unit: str = "img", enabled: bool = True) -> tqdm:
    """A tqdm bar of `total` units; `enabled=False` gives one that prints nothing."""
    return tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True, file=sys.stderr,
                mininterval=0.5 if sys.stderr.isatty() else 30, disable=not enabled)


__all__ = ["bar"]
