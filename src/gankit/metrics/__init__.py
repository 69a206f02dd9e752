"""Measure a generator: one registry of metrics, one `evaluate` that returns a provenance record.

    record = evaluate(G, meta, ["fid", "kid", "is", "pr", "coverage"], n=10_000)

A conditional generator is sampled with balanced labels, and `class_acc` adds the evaluator's
accuracy on the samples of each class (did G draw the class it was asked for?).

Image metrics are computed in the feature space of the data set's domain evaluator
(`evaluator.py`): FID/KID/precision-recall on its penultimate features, IS and class coverage
on its softmax. The checkerboard measure (`spectrum.py`) reads the images' power spectrum and
`sharpness` (the variance of the Laplacian) their pixels: neither needs an evaluator, and both
give the real data's value beside it. Toy mixtures get the VEEGAN mode metrics. Real features
are cached on disk per
(data set, split, extractor), since they never change.
"""

import hashlib
import json
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

import gankit
from gankit.data import load_data
from gankit.errors import GankitError
from gankit.metrics import image, inception, spectrum, toy
from gankit.metrics.sharpness import sharpness
from gankit.metrics.evaluator import EVALUATORS, evaluator_card, featurize, load_evaluator
from gankit.sample import generate, sample_labels

IMAGE_METRICS = ("fid", "kid", "is", "pr", "coverage")
INCEPTION_METRICS = ("inception_fid",)
CONDITIONAL_METRICS = ("class_acc",)
SPECTRUM_METRICS = ("checkerboard",)
PIXEL_METRICS = ("sharpness",)  # computed on the pixels themselves: no extractor needed
TOY_METRICS = ("modes",)
METRICS = IMAGE_METRICS + CONDITIONAL_METRICS + TOY_METRICS
DEFAULT_N = {"image": 10_000, "toy": 2_500}


def cache_dir() -> Path:
    return Path(os.environ.get("GANKIT_CACHE", Path.home() / ".cache" / "gankit"))


def parse_metrics(text: str, toy_data: bool) -> list[str]:
    names = [m.strip() for m in text.split(",") if m.strip()]
    allowed = (TOY_METRICS if toy_data else IMAGE_METRICS + CONDITIONAL_METRICS
               + INCEPTION_METRICS + SPECTRUM_METRICS + PIXEL_METRICS)
    bad = [m for m in names if m not in allowed]
    if bad or not names:
        kind = "toy-mixture" if toy_data else "image"
        raise GankitError(f"--metrics {text!r}: {', '.join(bad) or 'nothing'} is not a metric for "
                          f"{kind} generators; choose from {','.join(allowed)}")
    return names


def to_evaluator_input(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> (N, 1, 28, 28): grey, at the evaluator's resolution."""
    if x.shape[1] == 3:
        x = x.mean(dim=1, keepdim=True)
    if x.shape[-1] != 28:
        x = F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    return x.clamp(-1, 1)


def _data_identity(data_cfg: dict) -> str:
    """What names a real data set for the cache: its source file's size and mtime, or 'bundled'."""
    path = data_cfg.get("path") or ""
    if not path:
        return f"{data_cfg['name']}:bundled"
    p = Path(path).resolve()
    st = p.stat() if p.exists() else None
    return f"{data_cfg['name']}:{p}:{st.st_size if st else 0}:{st.st_mtime_ns if st else 0}"


def _split_text(data_cfg: dict) -> str:
    path = data_cfg.get("path") or ""
    if not path:
        return "(bundled, all)"
    if path.endswith(".npz"):
        return f"({path}, all)"
    return f"({path}, split {data_cfg.get('split', 'train')})"


def _real_text(data_cfg: dict, n_used: int, n_total: int) -> str:
    return f"{data_cfg['name']} {_split_text(data_cfg)}: {n_used} of {n_total} images"


def real_features(data_cfg: dict, extractor: str, extractor_sha: str, featurize_fn,
                  n_real: int, seed: int = 0) -> tuple[dict, int]:
    """Features of up to n_real real images, cached on disk per (data, split, extractor)."""
    split = data_cfg.get("split", "train")
    key_text = json.dumps([_data_identity(data_cfg), split, extractor_sha, n_real, seed])
    key = hashlib.sha256(key_text.encode()).hexdigest()[:16]
    path = cache_dir() / "real-features" / f"{data_cfg['name']}-{extractor}-{key}.safetensors"
    if path.is_file():
        t = load_file(path)
        return t, int(t.pop("n_total"))
    data = load_data(data_cfg["name"], data_cfg.get("path") or None, split=split,
                     image_size=data_cfg.get("image_size") or None,
                     channels=data_cfg.get("channels") or None)
    x = data.images
    n_total = len(x)
    if n_real < n_total:  # a fixed subset, the same on every call
        idx = torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))[:n_real]
        x = x[idx]
    tensors = {k: v.contiguous() for k, v in featurize_fn(x).items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file({**tensors, "n_total": torch.tensor(n_total)}, str(tmp))
    os.replace(tmp, path)
    return tensors, n_total


def _real_images(data_cfg: dict, n_real: int, seed: int) -> tuple[torch.Tensor, int]:
    """Up to n_real real images of the data a generator's card names: a fixed random subset."""
    data = load_data(data_cfg["name"], data_cfg.get("path") or None,
                     split=data_cfg.get("split", "train"),
                     image_size=data_cfg.get("image_size") or None,
                     channels=data_cfg.get("channels") or None)
    x = data.images
    if n_real < len(x):
        x = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n_real]]
    return x, len(data.images)


def _domain_metrics(data_cfg: dict, names: list[str], fake: torch.Tensor, n_real: int,
                    provenance: dict, labels: torch.Tensor | None = None) -> dict:
    """FID, KID, IS, precision/recall and coverage in the domain evaluator's feature space."""
    dataset = data_cfg["name"]
    if dataset not in EVALUATORS:
        raise GankitError(f"no domain evaluator for data.name {dataset!r} (there are "
                          f"{', '.join(EVALUATORS)}): use --metrics inception_fid "
                          "--inception-weights PATH")
    card = evaluator_card(dataset)
    net = load_evaluator(dataset)

    def features(x):
        f, logits = featurize(net, to_evaluator_input(x))
        return {"features": f, "logits": logits}

    real, n_total = real_features(data_cfg, "evaluator", card["weights_sha256"], features, n_real)
    fake_t = features(fake)
    real_f, fake_f, fake_l = real["features"], fake_t["features"], fake_t["logits"]
    values = {}
    if "fid" in names:
        values["fid"] = image.fid(real_f, fake_f)
    if "kid" in names:
        values["kid"], values["kid_std"] = image.kid(real_f, fake_f)
    if "is" in names:
        values["is"], values["is_std"] = image.inception_score(fake_l)
    if "pr" in names:
        values["precision"], values["recall"] = image.precision_recall(real_f, fake_f)
    if "coverage" in names:
        values["coverage"] = image.class_coverage(fake_l)
    if "class_acc" in names:
        values["class_acc"] = image.class_accuracy(fake_l, labels)
    provenance.update(n_real=len(real_f), real=_real_text(data_cfg, len(real_f), n_total),
                      extractor=f"gankit {dataset} evaluator (penultimate layer)",
                      extractor_sha256=card["weights_sha256"])
    return values


def _checkerboard(data_cfg: dict, fake: torch.Tensor, n_real: int, provenance: dict) -> dict:
    """The generated images' stride-2 spectral peak, and the real data's as its reference."""
    real = load_data(data_cfg["name"], data_cfg.get("path") or None,
                     split=data_cfg.get("split", "train"),
                     image_size=data_cfg.get("image_size") or None,
                     channels=data_cfg.get("channels") or None).images
    if n_real < len(real):  # the same fixed subset as for the real features
        real = real[torch.randperm(len(real), generator=torch.Generator().manual_seed(0))[:n_real]]
    provenance.setdefault("real", _real_text(data_cfg, len(real), len(real)))
    provenance.setdefault("extractor", "none: the images' power spectrum (torch.fft)")
    return {"checkerboard": spectrum.checkerboard(fake),
            "checkerboard_real": spectrum.checkerboard(real)}


def evaluate(G, meta: dict, metrics: list[str], n: int | None = None, seed: int = 123,
             n_real: int = 10_000, inception_weights: str | None = None) -> dict:
    """Measure G (a generator in eval mode) against the real data its card names."""
    start = time.perf_counter()
    data_cfg = meta.get("data") or {"name": "mnist", "path": ""}
    provenance = {"gankit_version": gankit.__version__, "step": meta.get("step"),
                  "preset": meta.get("preset"), "seed": seed}
    if len(meta["data_shape"]) == 1:  # a 2D toy mixture
        n = n or DEFAULT_N["toy"]
        ref = load_data(data_cfg["name"], n_toy=1)
        points = generate(G, n, seed)
        values = {"modes": toy.toy_metrics(points, ref.centres, ref.std)}
        provenance.update(n_generated=n, real=f"{ref.name}: {len(ref.centres)} centres, "
                          f"std {ref.std}", extractor="none (2D points)")
    else:
        n = n or DEFAULT_N["image"]
        labels = sample_labels(G, n)  # balanced for a conditional G, else None
        if "class_acc" in metrics and labels is None:
            raise GankitError("class_acc measures a conditional generator, and this one is "
                              "unconditional: drop it from --metrics")
        fake = generate(G, n, seed, labels=labels)
        values = {}
        domain = [m for m in metrics if m in IMAGE_METRICS + CONDITIONAL_METRICS]
        if domain:
            values.update(_domain_metrics(data_cfg, domain, fake, n_real, provenance, labels))
        if "sharpness" in metrics:  # with the real data's value beside it as the reference
            real, n_total = _real_images(data_cfg, n_real, seed=0)
            values["sharpness"], values["sharpness_real"] = sharpness(fake), sharpness(real)
            provenance.setdefault("real", _real_text(data_cfg, len(real), n_total))
        if "inception_fid" in metrics:
            net, sha = inception.load_inception(inception_weights)
            real, n_total = real_features(data_cfg, "inception", sha,
                                          lambda x: {"features": inception.inception_features(net, x)},
                                          n_real)
            values["inception_fid"] = image.fid(real["features"],
                                                inception.inception_features(net, fake))
            provenance.update(inception_extractor="InceptionV3 pool3 (torch-fidelity port of "
                              "TF FID Inception)", inception_sha256=sha,
                              n_real=len(real["features"]),
                              real=_real_text(data_cfg, len(real["features"]), n_total))
        if "checkerboard" in metrics:
            values.update(_checkerboard(data_cfg, fake, n_real, provenance))
        provenance["n_generated"] = n
    provenance["seconds"] = round(time.perf_counter() - start, 2)
    return {"metrics": values, "provenance": provenance}


def summary_rows(values: dict) -> list[tuple[str, str]]:
    """Flatten a metrics dict into (name, text) rows for a table."""
    rows = []
    for name, v in values.items():
        if name == "coverage":
            rows += [("classes covered (>= 1 %)", f"{v['covered']}/{v['n_classes']}"),
                     ("KL(classes || uniform)", f"{v['kl_uniform']:.4f}")]
        elif name == "class_acc":
            rows += [("class accuracy (asked class)", f"{100 * v['overall']:.1f} %"),
                     ("worst class accuracy", f"{100 * v['min']:.1f} % (class "
                      f"{v['per_class'].index(v['min'])})")]
        elif name == "modes":
            rows += [("modes covered", f"{v['modes_covered']}/{v['n_modes']}"),
                     ("high-quality samples", f"{v['high_quality_pct']:.1f} %")]
        elif name == "sharpness":
            real = values.get("sharpness_real")
            rows.append(("sharpness (Laplacian variance)",
                         f"{v:.4g}" + (f" (real data: {real:.4g})" if real is not None else "")))
        elif name == "sharpness_real":
            continue
        elif name == "inception_fid":
            rows.append(("Inception FID", f"{v:.4g}"))
        elif name == "checkerboard_real":
            rows.append(("checkerboard, real data", f"{v:.3g}"))
        elif name.endswith("_std"):
            continue
        elif f"{name}_std" in values:
            rows.append((name.upper(), f"{v:.4g} ± {values[name + '_std']:.2g}"))
        else:
            rows.append((name.upper() if len(name) <= 3 else name, f"{v:.4g}"))
    return rows


def evaluate_snapshot(path: str | None, metrics: str | None, n: int | None,
                      inception_weights: str | None = None, pretrained: str | None = None,
                      data_path: str | None = None) -> tuple[dict, Path | None]:
    """`gankit eval`: measure a snapshot and append the record to its run's metrics.jsonl.

    A shipped generator (`pretrained`) is measured but not recorded: its card holds the
    shipped figures, and the package folder may be read-only. `data_path` replaces the real
    data's path from the card (a generator trained elsewhere names a file not here).
    """
    from gankit.pretrained import resolve
    from gankit.models.snapshot import snapshot_paths
    G, meta = resolve(path, pretrained)
    if data_path:
        meta["data"] = {**(meta.get("data") or {"name": "mnist"}), "path": data_path}
    toy_data = len(meta["data_shape"]) == 1
    default = TOY_METRICS if toy_data else IMAGE_METRICS + (
        CONDITIONAL_METRICS if meta["kwargs"].get("n_classes") else ())
    names = parse_metrics(metrics or ",".join(default), toy_data)
    record = evaluate(G, meta, names, n, inception_weights=inception_weights)
    if pretrained:
        return record, None
    out = snapshot_paths(path)[0].parent / "metrics.jsonl"
    with open(out, "a") as f:
        f.write(json.dumps(record) + "\n")
    return record, out
