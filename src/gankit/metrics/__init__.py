"""Measure a generator: the registered metrics, and one `evaluate` that returns a provenance record.

    record = evaluate(g, None, ["fid", "kid", "is", "pr", "coverage"], n=10_000)

Each metric is registered once below (`registry.py` says how): what it needs, how it is
computed from `Inputs`, how it prints. A conditional generator is sampled with balanced
labels, and `class_acc` adds the evaluator's accuracy on the samples of each class (did G draw
the class it was asked for?).

Image metrics are computed in the feature space of the data set's domain evaluator
(`evaluator.py`): FID/KID/precision-recall on its penultimate features, IS and class coverage
on its softmax, against the evaluator's held-out test split (`real.py`). The checkerboard
measure (`spectrum.py`) reads the images' power spectrum and `sharpness` (the variance of the
Laplacian) their pixels: neither needs an evaluator, and both give the real data's value beside
it. Toy mixtures get the VEEGAN mode metrics. Real features are cached on disk per
(data set, split, extractor), since they never change.
"""

import dataclasses
import functools
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import gankit
from gankit import progress, rundir
from gankit.config import DataConfig
from gankit.errors import GankitError
from gankit.generator import Generator, load
from gankit.metrics import folder_evaluator, image, inception, real, registry, spectrum, toy
from gankit.metrics.evaluator import EVALUATORS, evaluator_card, featurize, load_evaluator
from gankit.metrics.registry import (default_metrics, metric_series,  # noqa: F401
                                     parse_metrics, register_metric, summary_rows,
                                     training_metrics)
from gankit.metrics.sharpness import sharpness

DEFAULT_N = {"image": 10_000, "toy": 2_500, "video": 500}  # video: clips


def to_evaluator_input(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> (N, 1, 28, 28): grey, at the MNIST and Fashion evaluators'
    resolution (a colour folder's evaluator: `folder_evaluator.to_input`)."""
    if x.shape[1] == 3:
        x = x.mean(dim=1, keepdim=True)
    if x.shape[-1] != 28:
        x = F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    return x.clamp(-1, 1)


def check_metrics(names: list[str], conditional: bool, dataset: str,
                  inception_weights: str | None = None, data_path: str | None = None) -> None:
    """Refuse, in one line, metrics whose needs this generator or data set cannot meet
    (`data_path`: a folder's, whose evaluator is looked up by its content)."""
    for name in names:
        needs = registry.METRICS[name].needs
        if "labels" in needs and not conditional:
            raise GankitError(f"{name} measures a conditional generator, and this one is "
                              "unconditional: drop it from --metrics")
        if "evaluator" in needs and dataset == "folder":
            if folder_evaluator.find(data_path) is None:
                raise GankitError(f"{name}: {folder_evaluator.missing_message(data_path)}")
        elif "evaluator" in needs and dataset not in EVALUATORS:
            raise GankitError(f"{name}: no domain evaluator for data.name {dataset!r} (there are "
                              f"{', '.join(EVALUATORS)}): use --metrics inception_fid "
                              "--inception-weights PATH, sharpness or checkerboard")
        if "inception" in needs and not inception_weights:
            inception.load_inception(None)  # raises: how to get the weights


class Inputs:
    """What metrics are computed from, each made once, on first use, for every metric asking."""

    def __init__(self, g: Generator, data_cfg: dict, n: int, seed: int, n_real: int,
                 inception_weights: str | None, provenance: dict, show_progress: bool = False):
        self.g, self.data_cfg, self.n, self.seed = g, data_cfg, n, seed
        self.show_progress = show_progress
        self.n_real, self.inception_weights, self.provenance = n_real, inception_weights, provenance

    @functools.cached_property
    def labels(self) -> torch.Tensor | None:
        """(n,) balanced labels for a conditional G, else None."""
        return self.g.labels(self.n)

    @functools.cached_property
    def fake(self) -> torch.Tensor:
        """(n, C, H, W) generated images, or (n, 2) points."""
        with progress.bar(self.n, "generating", enabled=self.show_progress) as b:
            return self.g.generate(self.n, self.seed, y=self.labels, bar=b)

    @functools.cached_property
    def evaluator(self) -> tuple[dict, dict]:
        """(real, fake): {"features", "logits"} of each in the domain evaluator."""
        dataset = self.data_cfg["name"]
        if dataset == "folder":
            net, card = folder_evaluator.load(self.data_cfg.get("path"))
            to_input = functools.partial(folder_evaluator.to_input, card=card)
            name = f"gankit evaluator of folder {card['data']['folder']!r}"
        else:
            card, net = evaluator_card(dataset), load_evaluator(dataset)
            to_input, name = to_evaluator_input, f"gankit {dataset} evaluator"

        def features(x):
            with progress.bar(len(x), "featurizing", enabled=self.show_progress) as b:
                f, logits = featurize(net, to_input(x), bar=b)
            return {"features": f, "logits": logits}

        reals, n_total = real.real_features(self.data_cfg, "evaluator", card["weights_sha256"],
                                            features, self.n_real)
        n_used = len(reals["features"])
        self.provenance.update(n_real=n_used, real=real.describe(self.data_cfg, n_used, n_total),
                               extractor=f"{name} (penultimate layer)",
                               extractor_sha256=card["weights_sha256"])
        return reals, features(self.fake)

    @functools.cached_property
    def real_pixels(self) -> torch.Tensor:
        """Up to n_real real images: the same fixed subset as for the real features."""
        x, n_total = real.real_images(self.data_cfg, self.n_real, seed=0)
        self.provenance.setdefault("real", real.describe(self.data_cfg, len(x), n_total))
        return x

    @functools.cached_property
    def inception(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(real, fake) InceptionV3 pool3 features (N, 2048)."""
        net, sha = inception.load_inception(self.inception_weights)
        reals, n_total = real.real_features(
            self.data_cfg, "inception", sha,
            lambda x: {"features": inception.inception_features(net, x)}, self.n_real)
        n_used = len(reals["features"])
        self.provenance.update(inception_extractor="InceptionV3 pool3 (torch-fidelity port of "
                               "TF FID Inception)", inception_sha256=sha, n_real=n_used,
                               real=real.describe(self.data_cfg, n_used, n_total))
        return reals["features"], inception.inception_features(net, self.fake)

    @functools.cached_property
    def mixture(self):
        """The toy data set (centres, std) the points are judged against."""
        ref = dataclasses.replace(DataConfig.from_card(self.data_cfg), n_toy=1).load()
        self.provenance.update(real=f"{ref.name}: {len(ref.centres)} centres, std {ref.std}",
                               extractor="none (2D points)")
        return ref


# ---- the metrics ----------------------------------------------------------------------------
# Registration order is the order of `--metrics`' list and of computing.

@register_metric("fid", needs=("evaluator",), default=("eval", "train"))
def _fid(inp: Inputs) -> dict:
    reals, fakes = inp.evaluator
    return {"fid": image.fid(reals["features"], fakes["features"])}


@register_metric("kid", needs=("evaluator",), keys=("kid", "kid_std"), default=("eval",))
def _kid(inp: Inputs) -> dict:
    reals, fakes = inp.evaluator
    mean, std = image.kid(reals["features"], fakes["features"])
    return {"kid": mean, "kid_std": std}


@register_metric("is", needs=("evaluator",), keys=("is", "is_std"), default=("eval",))
def _is(inp: Inputs) -> dict:
    mean, std = image.inception_score(inp.evaluator[1]["logits"])
    return {"is": mean, "is_std": std}


@register_metric("pr", needs=("evaluator",), keys=("precision", "recall"), default=("eval",))
def _pr(inp: Inputs) -> dict:
    reals, fakes = inp.evaluator
    p, r = image.precision_recall(reals["features"], fakes["features"])
    return {"precision": p, "recall": r}


@register_metric("coverage", needs=("evaluator",), default=("eval", "train"),
                 rows=lambda v: [("classes covered (>= 1 %)",
                                  f"{v['coverage']['covered']}/{v['coverage']['n_classes']}"),
                                 ("KL(classes || uniform)", f"{v['coverage']['kl_uniform']:.4f}")],
                 series=lambda v: {"classes covered": float(v["coverage"]["covered"])})
def _coverage(inp: Inputs) -> dict:
    return {"coverage": image.class_coverage(inp.evaluator[1]["logits"])}


def _class_acc_rows(v: dict) -> list[tuple[str, str]]:
    a = v["class_acc"]
    return [("class accuracy (asked class)", f"{100 * a['overall']:.1f} %"),
            ("worst class accuracy", f"{100 * a['min']:.1f} % (class "
             f"{a['per_class'].index(a['min'])})")]


@register_metric("class_acc", needs=("evaluator", "labels"), default=("eval", "train"),
                 rows=_class_acc_rows,
                 series=lambda v: {"class accuracy": float(v["class_acc"]["overall"])})
def _class_acc(inp: Inputs) -> dict:
    return {"class_acc": image.class_accuracy(inp.evaluator[1]["logits"], inp.labels)}


@register_metric("inception_fid", needs=("inception",),
                 rows=lambda v: [("Inception FID", f"{v['inception_fid']:.4g}")])
def _inception_fid(inp: Inputs) -> dict:
    reals, fakes = inp.inception
    return {"inception_fid": image.fid(reals, fakes)}


@register_metric("checkerboard", needs=("real_pixels",), keys=("checkerboard", "checkerboard_real"),
                 rows=lambda v: [("checkerboard", f"{v['checkerboard']:.4g}"),
                                 ("checkerboard, real data", f"{v['checkerboard_real']:.3g}")])
def _checkerboard(inp: Inputs) -> dict:
    """The generated images' stride-2 spectral peak, and the real data's as its reference."""
    out = {"checkerboard": spectrum.checkerboard(inp.fake),
           "checkerboard_real": spectrum.checkerboard(inp.real_pixels)}
    inp.provenance.setdefault("extractor", "none: the images' power spectrum (torch.fft)")
    return out


@register_metric("sharpness", needs=("real_pixels",), keys=("sharpness", "sharpness_real"),
                 rows=lambda v: [("sharpness (Laplacian variance)",
                                  f"{v['sharpness']:.4g} (real data: {v['sharpness_real']:.4g})")])
def _sharpness(inp: Inputs) -> dict:
    return {"sharpness": sharpness(inp.fake), "sharpness_real": sharpness(inp.real_pixels)}


@register_metric("modes", needs=("points",), default=("eval", "train"),
                 rows=lambda v: [("modes covered",
                                  f"{v['modes']['modes_covered']}/{v['modes']['n_modes']}"),
                                 ("high-quality samples",
                                  f"{v['modes']['high_quality_pct']:.1f} %")],
                 series=lambda v: {"modes covered": float(v["modes"]["modes_covered"])})
def _modes(inp: Inputs) -> dict:
    ref = inp.mixture
    return {"modes": toy.toy_metrics(inp.fake, ref.centres, ref.std)}


# Video generators' metrics (frame_fid, identity, motion) register themselves there.
from gankit.metrics import video  # noqa: E402,F401  (after the image metrics: their order)


# ---- measuring ------------------------------------------------------------------------------

def sample_kind(g: Generator) -> str:
    """"toy", "video" or "image": what DEFAULT_N counts."""
    return "toy" if g.is_points else "video" if g.is_video else "image"


def evaluate(G, meta: dict | None, metrics: list[str], n: int | None = None, seed: int = 123,
             n_real: int = 10_000, inception_weights: str | None = None,
             show_progress: bool = False) -> dict:
    """Measure a generator against the real data its card names: G is a `Generator` (meta is
    then unused: pass None) or a bare module with its card `meta` (the trainer's G, whose card
    holds data_shape, data, step and preset). Returns {"metrics": {...}, "provenance": {...}}."""
    start = time.perf_counter()
    g = G if isinstance(G, Generator) else Generator(G, meta)
    meta = g.card
    data_cfg = meta.get("data") or {"name": "mnist", "path": ""}
    provenance = {"gankit_version": gankit.__version__, "step": meta.get("step"),
                  "preset": meta.get("preset"), "seed": seed}
    parse_metrics(",".join(metrics), g.is_points, video=g.is_video)
    check_metrics(metrics, bool(g.n_classes), data_cfg["name"], inception_weights,
                  data_cfg.get("path"))
    n = n or DEFAULT_N[sample_kind(g)]
    inputs = Inputs(g, data_cfg, n, seed, n_real, inception_weights, provenance, show_progress)
    values = {}
    for m in registry.METRICS.values():
        if m.name in metrics:
            values.update(m.compute(inputs))
    provenance["n_generated"] = n
    provenance["seconds"] = round(time.perf_counter() - start, 2)
    return {"metrics": values, "provenance": provenance}


# The fewest samples each metric can be computed from: a covariance (FID, KID) needs two,
# precision/recall the k = 3 nearest neighbours besides the sample itself.
MIN_N = {"fid": 2, "kid": 2, "inception_fid": 2, "pr": 4}


def evaluate_snapshot(path: str | None, metrics: str | None, n: int | None,
                      inception_weights: str | None = None, pretrained: str | None = None,
                      data_path: str | None = None) -> tuple[dict, Path | None]:
    """`gankit eval`: measure a snapshot and append the record to its run's metrics.jsonl.

    A shipped generator (`pretrained`) is measured but not recorded: its card holds the
    shipped figures, and the package folder may be read-only. `data_path` replaces the real
    data's path from the card (a generator trained elsewhere names a file not here).
    """
    g = load(path, pretrained)
    if data_path:
        g.card["data"] = {**(g.card.get("data") or {"name": "mnist"}), "path": data_path}
    default = default_metrics(g.is_points, bool(g.n_classes), video=g.is_video)
    names = parse_metrics(metrics or ",".join(default), g.is_points, video=g.is_video)
    if n is not None:
        short = [f"{m} needs at least {k}" for m, k in MIN_N.items() if m in names and n < k]
        if short:
            raise GankitError(f"--n {n}: {', '.join(short)} generated samples (a meaningful "
                              "value needs thousands)")
    g.check_memory(n or DEFAULT_N[sample_kind(g)])
    record = evaluate(g, None, names, n, inception_weights=inception_weights, show_progress=True)
    if pretrained:
        return record, None
    out = g.folder / rundir.METRICS
    rundir.append_jsonl(out, record)
    return record, out


# scripts/train_pretrained.py (not this package's) still imports this name.
