"""Optional TensorBoard logging (`gankit train --tensorboard`): the scalars of stats.jsonl and
health.jsonl, the metrics of train.eval_every and the sample grids, in RUN_DIR/tensorboard.

torch.utils.tensorboard needs the `tensorboard` package, an optional extra:
`pip install 'gankit[tensorboard]'`.
"""

from numbers import Number
from pathlib import Path

import numpy as np
from PIL import Image

from gankit.errors import GankitError
from gankit.rundir import TENSORBOARD

MISSING = ("--tensorboard (train.tensorboard=true) needs the tensorboard package, which is not "
           "installed: pip install 'gankit[tensorboard]' (or pip install tensorboard), or drop "
           "the flag")


def require_tensorboard():
    """The SummaryWriter class, or a GankitError saying how to get it."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # optional: the tensorboard extra
    except ImportError:  # torch raises it when the tensorboard package is missing
        raise GankitError(MISSING) from None
    return SummaryWriter


def flat_numbers(values: dict, prefix: str = "") -> dict[str, float]:
    """{"coverage": {"covered": 9}, "fid": 3.1} -> {"coverage/covered": 9, "fid": 3.1}."""
    out = {}
    for k, v in values.items():
        if isinstance(v, dict):
            out.update(flat_numbers(v, f"{prefix}{k}/"))
        elif isinstance(v, Number) and not isinstance(v, bool):
            out[f"{prefix}{k}"] = float(v)
    return out


class TensorBoard:
    def __init__(self, run_dir: Path):
        self.writer = require_tensorboard()(log_dir=str(Path(run_dir) / TENSORBOARD))

    def scalars(self, group: str, values: dict, step: int) -> None:
        for name, v in flat_numbers(values).items():
            if name != "step":
                self.writer.add_scalar(f"{group}/{name}", v, step)

    def image(self, tag: str, png: Path, step: int) -> None:
        pixels = np.asarray(Image.open(png).convert("RGB"))          # (H, W, 3) uint8
        self.writer.add_image(tag, pixels, step, dataformats="HWC")

    def close(self) -> None:
        self.writer.close()
