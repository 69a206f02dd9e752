"""The metric registry: each metric once, with what it needs, how it is computed, how it prints.

    @register_metric("fid", needs=("evaluator",), keys=("fid",), default=("eval", "train"))
    def fid(inputs): ...                      # -> {"fid": 12.3}

(StyleGAN2-ADA's `metric_main.register_metric`.) `gankit eval`, `train.eval_every`, the
`eval` table and the report's curves all read `METRICS`; a new metric is one registration.

needs, the inputs a metric draws on (`Inputs` in `gankit.metrics` makes each once):
    evaluator   the data set's domain evaluator: its features and logits of real and fake images
    labels      a conditional G: the class each sample was asked for
    real_pixels the real images themselves
    inception   InceptionV3 weights the user gives (--inception-weights)
    points      a 2D toy generator's points and the mixture's centres (every other metric is
                for image generators)
    clips       a video generator's clips and real clips (`gankit.metrics.video`); such a
                metric is for video generators only
keys: the entries it writes into a record's "metrics", the first one its headline value.
default: the default sets it belongs to, "eval" (`gankit eval`) and "train" (`train.eval_every`).
"""

from dataclasses import dataclass
from typing import Callable

from gankit.errors import GankitError

NEEDS = ("evaluator", "labels", "real_pixels", "inception", "points", "clips")
USES = ("eval", "train")


def _label(key: str) -> str:
    return key.upper() if len(key) <= 3 else key


def scalar_rows(values: dict, keys: tuple[str, ...]) -> list[tuple[str, str]]:
    """One row per key: 'FID  12.3', with '± std' where `<key>_std` was recorded."""
    rows = []
    for key in keys:
        if key in values and not key.endswith("_std"):
            v = values[key]
            std = values.get(f"{key}_std")
            rows.append((_label(key), f"{v:.4g}" + (f" ± {std:.2g}" if std is not None else "")))
    return rows


def scalar_series(values: dict, keys: tuple[str, ...]) -> dict[str, float]:
    """Every number among the keys (stds left out) as a curve of its own name."""
    return {k: float(values[k]) for k in keys
            if k in values and not k.endswith("_std") and isinstance(values[k], (int, float))}


@dataclass(frozen=True)
class Metric:
    name: str                                   # as given to --metrics / train.eval_metrics
    compute: Callable                           # Inputs -> {key: value}
    needs: tuple[str, ...]
    keys: tuple[str, ...]
    default: tuple[str, ...]
    rows: Callable                              # values -> [(label, text)] for the eval table
    series: Callable                            # values -> {curve name: float} for the report

    @property
    def points(self) -> bool:
        return "points" in self.needs

    @property
    def video(self) -> bool:
        return "clips" in self.needs


METRICS: dict[str, Metric] = {}


def register_metric(name: str, *, needs: tuple[str, ...] = (), keys: tuple[str, ...] | None = None,
                    default: tuple[str, ...] = (), rows: Callable | None = None,
                    series: Callable | None = None):
    """Decorator: register `compute(inputs) -> {key: value}` as metric `name`."""
    keys = tuple(keys or (name,))
    bad = [n for n in needs if n not in NEEDS] + [u for u in default if u not in USES]
    if bad or name in METRICS:
        raise ValueError(f"metric {name!r}: unknown needs/default {bad} or registered twice")

    def wrap(compute):
        METRICS[name] = Metric(name, compute, tuple(needs), keys, tuple(default),
                               rows or (lambda v: scalar_rows(v, keys)),
                               series or (lambda v: scalar_series(v, keys)))
        return compute
    return wrap


def metric_names(points: bool, video: bool = False) -> list[str]:
    """The metrics for a toy (2D points) generator, an image generator or a video generator."""
    return [m.name for m in METRICS.values() if m.points == points and m.video == video]


def default_metrics(points: bool, conditional: bool, use: str = "eval",
                    video: bool = False) -> list[str]:
    """The default set of `gankit eval` (use="eval") or `train.eval_every` (use="train")."""
    return [m.name for m in METRICS.values() if use in m.default and m.points == points
            and m.video == video and (conditional or "labels" not in m.needs)]


def training_metrics(text: str, data, conditional: bool) -> list[str]:
    """`train.eval_metrics` (`text`), or the training default for this data's kind of
    generator, parsed: what `train.eval_every` measures."""
    default = default_metrics(data.is_points, conditional, use="train", video=data.is_video)
    return parse_metrics(text or ",".join(default), data.is_points, data.is_video)


def parse_metrics(text: str, toy_data: bool, video: bool = False) -> list[str]:
    """'fid,kid' -> ['fid', 'kid']; a name that is no metric for this kind of G is one line."""
    names = [m.strip() for m in text.split(",") if m.strip()]
    allowed = metric_names(toy_data, video)
    bad = [m for m in names if m not in allowed]
    if bad or not names:
        kind = "toy-mixture" if toy_data else "video" if video else "image"
        raise GankitError(f"--metrics {text!r}: {', '.join(bad) or 'nothing'} is not a metric for "
                          f"{kind} generators; choose from {','.join(allowed)}")
    return names


def _owners(values: dict) -> list[Metric]:
    """The registered metrics that wrote `values`, in the order their keys appear."""
    owner = {k: m for m in METRICS.values() for k in m.keys}
    out = []
    for key in values:
        m = owner.get(key)
        if m is not None and m not in out:
            out.append(m)
    return out


def summary_rows(values: dict) -> list[tuple[str, str]]:
    """A record's metrics as (name, text) rows for a table; keys no metric owns (an older
    record's) print as plain numbers."""
    known = {k for m in METRICS.values() for k in m.keys}
    rows = []
    for m in _owners(values):
        rows += m.rows(values)
    rows += scalar_rows(values, tuple(k for k in values if k not in known
                                      and isinstance(values[k], (int, float))))
    return rows


def metric_series(values: dict) -> dict[str, float]:
    """A record's metrics as {curve name: value} for the report's metric curves."""
    known = {k for m in METRICS.values() for k in m.keys}
    out = {}
    for m in _owners(values):
        out.update(m.series(values))
    out.update(scalar_series(values, tuple(k for k in values if k not in known)))
    return out
