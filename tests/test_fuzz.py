"""Bad input, every subcommand and config key: exit code 2, exactly one line on stderr, no
traceback, and not one file written or changed (the workspace, a trained run inside it, is
compared byte for byte before and after every case).

The kinds: wrong types and out-of-range values for every config key; sizes no architecture
or machine holds (image sides, widths, batches, data files of huge images, generator cards
with enormous or negative arguments); places that cannot be written; run directories edited
or half-copied (logs without steps, corrupt or stray sample grids); settings one architecture
refuses that another must refuse too (a gradient penalty with BatchNorm, image sides); and
files given where another kind was meant. A property-based layer (hypothesis) then throws
generated `--set` overrides and generator-card fields at the same rule.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from gankit.cli import main
from gankit.config import apply_overrides, load_preset
from gankit.errors import GankitError
from gankit.models import check_training_size

TINY = ["--set", "train.steps=2", "--set", "train.batch_size=8", "--set", "model.g_hidden=4",
        "--set", "model.d_hidden=4", "--set", "train.n_samples=4", "--set", "train.device=cpu",
        "--set", "train.report=false"]
BIG = str(10**29)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A tiny finished run, damaged copies of it, bad data files, and the feature cache."""
    ws = tmp_path_factory.mktemp("fuzz")
    run = ws / "run"
    assert main(["train", "--out", str(run), *TINY]) == 0
    for name in ("no-shape", "bad-state", "bad-weights", "bad-stats"):
        shutil.copytree(run, ws / name)
    card = json.loads((ws / "no-shape" / "generator.json").read_text())
    del card["data_shape"]
    (ws / "no-shape" / "generator.json").write_text(json.dumps(card))
    torch.save({"something": torch.zeros(2)}, ws / "bad-state" / "state.pt")
    (ws / "bad-weights" / "generator.safetensors").write_bytes(b"\x00not safetensors")
    (ws / "bad-stats" / "stats.jsonl").write_text('{"step": 1}\nnot json\n')
    (ws / "config-only").mkdir()
    (ws / "config-only" / "config.json").write_text("[]")
    (ws / "bad.npz").write_bytes(b"PK\x03\x04 truncated")
    (ws / "bad.pth").write_bytes(b"not weights")
    (ws / "existing.png").write_bytes(b"keep me")
    (ws / "folder").mkdir()
    (ws / "cache").mkdir()
    # a data file of two 4000x4000 images (compressed: 30 kB on disk) and one of 3x3 images
    np.savez_compressed(ws / "huge-images.npz", images=np.zeros((2, 4000, 4000), np.uint8),
                        labels=np.zeros(2, np.uint8))
    np.savez_compressed(ws / "tiny-images.npz", images=np.zeros((8, 3, 3), np.uint8),
                        labels=np.zeros(8, np.uint8))
    for name, change in CARDS.items():
        shutil.copytree(run, ws / f"card-{name}", ignore=shutil.ignore_patterns("samples"))
        card = json.loads((ws / f"card-{name}" / "generator.json").read_text())
        change(card)
        (ws / f"card-{name}" / "generator.json").write_text(json.dumps(card))
    for name, damage in RUNS.items():
        shutil.copytree(run, ws / f"edited-{name}")
        damage(ws / f"edited-{name}")
    return ws


def _kw(key, value):
    return lambda card: card["kwargs"].__setitem__(key, value)


# Generator cards (generator.json) changed by hand or by a hostile party: each is refused in
# one line before PyTorch allocates anything (a hidden width of a million would ask for
# terabytes; a negative z_dim for a tensor of negative size).
CARDS = {
    "huge-hidden": _kw("hidden", 10**6), "huge-z": _kw("z_dim", 10**6),
    "wide-hidden": _kw("hidden", 200_000), "negative-z": _kw("z_dim", -3),
    "negative-hidden": _kw("hidden", -1), "zero-z": _kw("z_dim", 0),
    "float-hidden": _kw("hidden", 1.5), "string-hidden": _kw("hidden", "wide"),
    "list-z": _kw("z_dim", [64]), "null-z": _kw("z_dim", None), "bool-blocks": _kw("n_blocks", True),
    "huge-blocks": _kw("n_blocks", 10**7), "negative-classes": _kw("n_classes", -4),
    "unknown-arg": _kw("depth", 3), "shape-3x3": _kw("shape", [1, 3, 3]),
    "kwargs-list": lambda c: c.__setitem__("kwargs", [1, 2]),
    "model-number": lambda c: c.__setitem__("model", 3),
    "model-unknown": lambda c: c.__setitem__("model", "stylegan9"),
    "model-dcgan": lambda c: c.__setitem__("model", "dcgan"),
    "no-kwargs": lambda c: c.pop("kwargs"), "no-model": lambda c: c.pop("model"),
    "shape-huge": lambda c: c.__setitem__("data_shape", [1, 10**6, 10**6]),
    "shape-points": lambda c: c.__setitem__("data_shape", [2]),
    "shape-negative": lambda c: c.__setitem__("data_shape", [1, -28, 28]),
    "shape-string": lambda c: c.__setitem__("data_shape", "1x28x28"),
    "shape-empty": lambda c: c.__setitem__("data_shape", []),
    "kind-evaluator": lambda c: c.__setitem__("kind", "evaluator"),
}


def _append(name, text):
    def damage(run):
        with open(run / name, "a") as f:
            f.write(text)
    return damage


def _write(name, data):
    return lambda run: (run / name).write_bytes(data)


# Run directories edited or half-copied: what report, eval and sample read is named in one line.
RUNS = {
    "stats-no-step": _append("stats.jsonl", '{"d_loss": 1.0}\n'),
    "stats-string-step": _append("stats.jsonl", '{"step": "9", "d_loss": 1.0}\n'),
    "stats-missing-stat": _append("stats.jsonl", '{"step": 9, "d_loss": 1.0}\n'),
    "stats-text-stat": _append("stats.jsonl", '{"step": 9, "d_loss": "high", "g_loss": 1, '
                               '"d_real": 1, "d_fake": 1, "d_acc_real": 1, "d_acc_fake": 1, '
                               '"g_grad": 1, "d_grad": 1, "kimg": 1, "time_s": 1}\n'),
    "stats-metrics-no-step": _append("stats.jsonl", '{"metrics": {"fid": 3.0}}\n'),
    "stats-array": _append("stats.jsonl", "[1, 2]\n"),
    "health-no-step": _append("health.jsonl", '{"diversity": 0.5}\n'),
    "health-text-diversity": _append("health.jsonl", '{"step": 9, "diversity": "low"}\n'),
    "health-diagnosis-no-step": _append("health.jsonl", '{"diagnosis": "collapse"}\n'),
    "health-corrupt": _append("health.jsonl", '{"step": 9, "divers\n'),
    "png-garbage": _write("samples/step-000004.png", b"not a png"),
    "png-empty": _write("samples/step-000004.png", b""),
    "png-truncated": lambda run: (run / "samples" / "step-000004.png").write_bytes(
        (run / "samples" / "step-000002.png").read_bytes()[:60]),
    "png-text-named": _write("samples/step-000004.png", b"\x89PNG\r\n\x1a\n then nothing"),
    "config-corrupt": _write("config.json", b"{not json"),
    "config-array": _write("config.json", b"[]"),
    "config-unknown-key": _write("config.json", b'{"train": {"stepz": 3}}'),
    "config-bad-value": _write("config.json", b'{"train": {"steps": "many"}}'),
    "generator-missing": lambda run: (run / "generator.safetensors").unlink(),
    "card-missing": lambda run: (run / "generator.json").unlink(),
    "state-garbage": _write("state.pt", b"not a checkpoint"),
}


def snapshot(folder) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def sets(*items):
    return ["train", "--out", "{ws}/new-run", *TINY, *[a for i in items for a in ("--set", i)]]


# Every config key with a value of the wrong type, and a value out of its range.
SKIP = {"preset", "description"}
WRONG_TYPE = []
for section, values in load_preset("dcgan-mnist").to_dict().items():
    for key, value in (values.items() if isinstance(values, dict) else []):
        if isinstance(value, bool):
            WRONG_TYPE.append(sets(f"{section}.{key}=maybe"))
        elif isinstance(value, (int, float)):
            WRONG_TYPE.append(sets(f"{section}.{key}=lots"))

OUT_OF_RANGE = [sets(item) for item in [
    "data.name=nope", "data.path={ws}/missing.npz", "data.path={ws}/bad.npz", "data.split=val",
    "data.image_size=-1", "data.image_size=100000", "data.n_toy=0", "data.stream_mb=-1",
    "data.workers=-1", "data.channels=7", "model.name=nope", "model.z_dim=0",
    "model.g_hidden=0", "model.d_hidden=-3", "model.n_layers=0", "model.upsample=nope",
    "model.n_classes=-2", "model.bn_init_mean=nan", "loss.d_loss=nope", "loss.g_loss=nope",
    "loss.label_smoothing=0.5", "loss.r1_gamma=-1", "loss.r1_gamma=inf", "loss.r1_every=0",
    "loss.gp_lambda=nan", "loss.instance_noise=-0.1", "loss.noise_kimg=0", "optim.lr_g=0",
    "optim.lr_d=nan", "optim.lr_g=inf", "optim.beta1=1", "optim.beta2=-0.1", "train.steps=0",
    "train.batch_size=0", f"train.batch_size={BIG}", "train.d_steps=0", "train.seed=-1",
    f"train.seed={BIG}", "train.sample_every=0", "train.log_every=-1", "train.ckpt_every=0",
    "train.n_samples=0", "train.device=tpu", "train.precision=fp8", "train.threads=-1",
    "train.ema_decay=1", "train.ema_kimg=-1", "train.ema_rampup=nan", "train.time_limit=-1",
    "train.time_limit=inf", "train.eval_every=-1", "train.eval_n=1", "train.eval_metrics=nope",
    "train.diffaugment=nope", "health.every=-1", "health.n=1", "health.patience=0",
    "health.d_fake_floor=0", "health.d_gap=1", "health.collapse_drop=2",
    "health.min_coverage=-1", "health.min_diversity=0", "health.grace=-1",
    "health.max_restarts=-1", "health.restart_lr=0", "train.stepz=3", "nosection=1",
    "train.steps", "=3",
]]

COMMANDS = [
    # gankit itself, train and resume
    [], ["nope"], ["train", "--preset", "nope"], ["train", "--out", "{ws}/run", *TINY],
    ["train", "--out", "{ws}/existing.png", *TINY], ["train", "--device", "tpu"],
    ["train", "--resume", "{ws}/missing"], ["train", "--resume", "{ws}/folder"],
    ["train", "--resume", "{ws}/run", "--preset", "dcgan-mnist"],
    ["train", "--resume", "{ws}/run", "--set", "model.g_hidden=8"],
    ["train", "--resume", "{ws}/run", "--set", "train.steps=1"],
    ["train", "--resume", "{ws}/run", "--set", "train.steps=nan"],
    ["train", "--resume", "{ws}/bad-state", "--set", "train.steps=4"],
    ["train", "--resume", "{ws}/config-only"],
    # sample
    ["sample", "--pretrained", "mnist-dcgan", "--seed", "-1", "--out", "{ws}/a.png"],
    ["sample", "--pretrained", "mnist-dcgan", "--seed", BIG, "--out", "{ws}/a.png"],
    ["sample", "--pretrained", "mnist-dcgan", "--n", "0", "--out", "{ws}/a.png"],
    ["sample", "--pretrained", "mnist-dcgan", "--n", str(10**12), "--out", "{ws}/a.png"],
    ["sample", "--pretrained", "mnist-dcgan", "--out", "{ws}/a.jpg"],
    ["sample", "--pretrained", "mnist-dcgan", "--out", "{ws}/missing/a.png"],
    ["sample", "--pretrained", "mnist-dcgan", "--out", "{ws}/existing.png"],
    ["sample", "--pretrained", "mnist-dcgan", "--out", "{ws}/folder"],
    ["sample", "--pretrained", "mnist-dcgan", "--out", "{ws}/run/state.pt", "--force"],
    ["sample", "--pretrained", "mnist-dcgan", "--class", "3", "--out", "{ws}/a.png"],
    ["sample", "--pretrained", "mnist-cdcgan", "--class", "11", "--out", "{ws}/a.png"],
    ["sample", "--pretrained", "nope", "--out", "{ws}/a.png"],
    ["sample", "--out", "{ws}/a.png"], ["sample", "{ws}/missing", "--out", "{ws}/a.png"],
    ["sample", "{ws}/folder", "--out", "{ws}/a.png"],
    ["sample", "{ws}/no-shape", "--out", "{ws}/a.png"],
    ["sample", "{ws}/bad-weights", "--out", "{ws}/a.png"],
    ["sample", "{ws}/run", "--pretrained", "mnist-dcgan", "--out", "{ws}/a.png"],
    # eval
    ["eval", "--pretrained", "mnist-dcgan", "--n", "1", "--metrics", "fid"],
    ["eval", "--pretrained", "mnist-dcgan", "--n", "3", "--metrics", "pr"],
    ["eval", "--pretrained", "mnist-dcgan", "--n", "1", "--metrics", "kid"],
    ["eval", "--pretrained", "mnist-dcgan", "--n", str(10**9)],
    ["eval", "--pretrained", "mnist-dcgan", "--n", "0"],
    ["eval", "--pretrained", "mnist-dcgan", "--metrics", "nope"],
    ["eval", "--pretrained", "mnist-dcgan", "--metrics", "modes"],
    ["eval", "--pretrained", "mnist-dcgan", "--metrics", "class_acc"],
    ["eval", "--pretrained", "mnist-dcgan", "--metrics", "inception_fid"],
    ["eval", "--pretrained", "mnist-dcgan", "--metrics", "inception_fid",
     "--inception-weights", "{ws}/bad.pth"],
    ["eval", "{ws}/no-shape"], ["eval", "{ws}/bad-weights"], ["eval"],
    # explore
    ["explore"], ["explore", "grid", "--pretrained", "mnist-dcgan", "--out", "{ws}/a.png"],
    ["explore", "grid", "--pretrained", "mnist-cdcgan", "--seeds", "0-100000000000",
     "--out", "{ws}/a.png"],
    ["explore", "grid", "--pretrained", "mnist-cdcgan", "--seeds", f"5-{BIG}", "--out", "{ws}/a.png"],
    ["explore", "grid", "--pretrained", "mnist-cdcgan", "--seeds", "a-b", "--out", "{ws}/a.png"],
    ["explore", "grid", "--pretrained", "mnist-cdcgan", "--classes", "99", "--out", "{ws}/a.png"],
    ["explore", "grid", "--pretrained", "mnist-cdcgan", "--psi", "-1", "--out", "{ws}/a.png"],
    ["explore", "grid", "{ws}/no-shape", "--out", "{ws}/a.png"],
    ["explore", "interp", "--pretrained", "mnist-dcgan", "--fps", "0", "--out", "{ws}/a.gif"],
    ["explore", "interp", "--pretrained", "mnist-dcgan", "--fps", "nan", "--out", "{ws}/a.gif"],
    ["explore", "interp", "--pretrained", "mnist-dcgan", "--fps", "-3", "--out", "{ws}/a.gif"],
    ["explore", "interp", "--pretrained", "mnist-dcgan", "--fps", "1000", "--out", "{ws}/a.gif"],
    ["explore", "interp", "--pretrained", "mnist-dcgan", "--steps", str(10**8), "--out", "{ws}/a.gif"],
    ["explore", "interp", "--pretrained", "mnist-dcgan", "--steps", "1", "--out", "{ws}/a.gif"],
    ["explore", "interp", "--pretrained", "mnist-dcgan", "--seeds", "1,2,3", "--out", "{ws}/a.gif"],
    ["explore", "interp", "--pretrained", "mnist-dcgan", "--seeds", "-1,2", "--out", "{ws}/a.gif"],
    ["explore", "interp", "--pretrained", "mnist-dcgan", "--method", "nope", "--out", "{ws}/a.gif"],
    ["explore", "interp", "--pretrained", "mnist-dcgan", "--out", "{ws}/a.jpg"],
    ["explore", "classes", "--pretrained", "mnist-cdcgan", "--from", "1", "--to", "7",
     "--seed", "-1", "--out", "{ws}/a.gif"],
    ["explore", "classes", "--pretrained", "mnist-cdcgan", "--from", "99", "--to", "7",
     "--out", "{ws}/a.gif"],
    ["explore", "classes", "--pretrained", "mnist-cdcgan", "--from", "1", "--out", "{ws}/a.gif"],
    ["explore", "classes", "--pretrained", "mnist-dcgan", "--from", "1", "--to", "7",
     "--out", "{ws}/a.gif"],
    ["explore", "truncation", "--pretrained", "mnist-dcgan", "--psi", "0.5,-2", "--out", "{ws}/a.png"],
    ["explore", "truncation", "--pretrained", "mnist-dcgan", "--seeds", "7-2", "--out", "{ws}/a.png"],
    *[["explore", "control", "--pretrained", "mnist-dcgan", "--target", "3", *extra,
       "--out", "{ws}/a.png"] for extra in (
        ["--step-size", "nan"], ["--step-size", "0"], ["--step-size", "inf"],
        ["--penalty", "-1"], ["--penalty", "nan"], ["--confidence", "0"], ["--confidence", "2"],
        ["--steps", "-1"], ["--steps", str(10**9)], ["--n", "0"], ["--n", str(10**6)],
        ["--seed", "-1"], ["--seed", str(2**63 - 1), "--n", "2"], ["--show", "0"])],
    ["explore", "control", "--pretrained", "mnist-dcgan", "--target", "12", "--out", "{ws}/a.png"],
    ["explore", "control", "--pretrained", "mnist-cdcgan", "--target", "1", "--out", "{ws}/a.png"],
    # serve (each refusal comes before a socket is opened)
    ["serve", "--pretrained", "mnist-dcgan", "--port", "99999"],
    ["serve", "--pretrained", "mnist-dcgan", "--port", "-1"],
    ["serve", "--pretrained", "mnist-dcgan", "--port", "http"],
    ["serve", "{ws}/missing"], ["serve", "{ws}/bad-weights"],
    # attack
    ["attack"], ["attack", "fgsm", "--eps", "nope"], ["attack", "fgsm", "--eps", "-1"],
    ["attack", "fgsm", "--eps", "nan"], ["attack", "fgsm", "--seed", "-1"],
    ["attack", "fgsm", "--n", "0"], ["attack", "fgsm", "--model", "nope"],
    ["attack", "fgsm", "--model", "{ws}/bad.pth"], ["attack", "fgsm", "--data", "{ws}/bad.npz"],
    ["attack", "fgsm", "--out", "{ws}/existing.png"], ["attack", "pgd", "--steps", "0"],
    ["attack", "pgd", "--alpha", "nope"], ["attack", "pgd", "--seed", BIG],
    ["attack", "train", "--adv", "nope", "--out", "{ws}/c.safetensors"],
    ["attack", "train", "--epochs", "0", "--out", "{ws}/c.safetensors"],
    ["attack", "train", "--dataset", "cifar", "--out", "{ws}/c.safetensors"],
    ["attack", "train", "--eps", "2", "--out", "{ws}/c.safetensors"],
    ["attack", "train", "--out", "{ws}/c.txt", "--seed", "-5"],
    # report, presets, pretrained
    ["report", "{ws}/missing"], ["report", "{ws}/folder"], ["report", "{ws}/bad-stats"],
    ["report", "{ws}/run", "--out", "{ws}/folder"],
    ["report", "{ws}/run", "--out", "{ws}/existing.png"],
    ["presets", "--all"], ["pretrained", "mnist"],
]

# Every int key negative or past any count, every float key not a number: refused in one line
# (each key's own message, or the config's general bound).
EXTREMES = []
for section, values in load_preset("dcgan-mnist").to_dict().items():
    for key, value in (values.items() if isinstance(values, dict) else []):
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and key not in ("bn_init_mean",):
            EXTREMES.append(sets(f"{section}.{key}={10**12}"))
        elif isinstance(value, float) and key != "bn_init_mean":
            EXTREMES.append(sets(f"{section}.{key}=nan"))
EXTREMES += [sets(item) for item in [
    "data.channels=-7", "data.channels=2", "data.workers=100000", "model.n_classes=100000",
    "model.content_side=-7", "model.d_mbstd=-1", "train.threads=100000",
    "train.d_steps=100000", "train.eval_n=100000000", "health.n=100000", "data.frames=0",
    "data.digits=11", "model.t_dim=-1", "loss.gp_every=0", "loss.ac_weight=-1",
    "health.progress=0", "health.varied=2",
]] + [sets("train.ema_kimg=1", "train.ema_decay=0.9")]
EXTREMES = [c for c in EXTREMES if c not in OUT_OF_RANGE]

# Sizes no architecture or machine holds: one line naming the value, the limit and the fix,
# before the data set becomes float32 or a weight is allocated.
SIZES = [sets(*items) for items in [
    ("data.path={ws}/huge-images.npz",), ("data.path={ws}/tiny-images.npz",),
    ("data.path={ws}/huge-images.npz", "model.name=dcgan"),
    ("data.path={ws}/huge-images.npz", "data.image_size=64", "model.name=dcgan28"),
    ("data.image_size=3",), ("data.image_size=7",), ("data.image_size=1",),
    ("data.image_size=1025",), ("data.image_size=2048",),
    ("data.image_size=1024", "model.g_hidden=4096", "model.d_hidden=4096"),
    ("model.name=dcgan", "data.image_size=4"), ("model.name=dcgan", "data.image_size=3"),
    ("model.name=dcgan", "data.image_size=48"), ("model.name=dcgan", "data.image_size=100"),
    ("model.name=dcgan28", "data.image_size=32"), ("model.name=dcgan28", "data.image_size=3"),
    ("model.name=dcgan64", "data.image_size=32"), ("model.name=dcgan64", "data.image_size=3"),
    ("model.name=vae", "data.image_size=32"), ("model.name=vae", "data.image_size=3"),
    ("model.name=tgan",), ("model.name=toy-mlp",),
    ("model.name=mlp", "data.name=toy-ring"), ("model.name=dcgan", "data.name=toy-grid"),
    # (8 tiny images resized: the data set stays small and the networks are what cannot fit)
    ("data.path={ws}/tiny-images.npz", "data.image_size=512", "model.g_hidden=4096",
     "model.d_hidden=4096"),
    ("data.path={ws}/tiny-images.npz", "data.image_size=512", "model.name=dcgan",
     "model.g_hidden=4096", "model.d_hidden=4096"),
    ("data.path={ws}/tiny-images.npz", "data.image_size=256", "model.name=dcgan",
     "model.g_hidden=1024", "train.batch_size=65536"),
    ("data.path={ws}/tiny-images.npz", "data.image_size=256", "model.z_dim=4096",
     "model.g_hidden=4096"),
    ("data.path={ws}/tiny-images.npz", "data.image_size=1024", "train.batch_size=65536"),
    ("model.name=mlp", "train.batch_size=65536", "data.image_size=1024"),
    ("data.name=toy-ring", "model.name=toy-mlp", f"data.n_toy={2**31 - 1}",
     "model.g_hidden=4096", "model.d_hidden=4096", "model.n_layers=4096"),
    ("data.name=moving-mnist", "model.name=tgan", f"data.n_clips={2**31 - 1}"),
    ("data.name=moving-mnist", "model.name=tgan", "data.frames=3"),
    ("data.name=moving-mnist", "model.name=tgan", "data.image_size=48"),
    ("data.name=moving-mnist", "model.name=tgan", "data.image_size=4"),
    ("data.name=moving-mnist", "model.name=mlp"),
]]

# A gradient penalty needs per-sample gradients, which BatchNorm in D mixes: refused on every
# architecture whose D can hold BatchNorm, as on the DCGAN-28 the README names.
GP_WITH_BATCHNORM = [sets("loss.d_loss=wgan-gp", *items)[:3] + ["--preset", "dcgan-mnist"]
                     + sets("loss.d_loss=wgan-gp", *items)[3:] for items in [
    (), ("model.d_input_bn=false",), ("model.d_mbstd=4",), ("model.d_spectral_norm=true",),
    ("model.d_full_view=true",), ("model.n_classes=10",),
    ("model.n_classes=10", "model.d_cond=projection"),
    *[("model.d_input_bn=true", *family) for family in [  # (a key only dcgan28 reads)
        ("model.name=dcgan64", "data.image_size=64"), ("model.name=dcgan", "data.image_size=16"),
        ("model.name=dcgan", "data.image_size=32"),
        ("model.name=dcgan", "data.image_size=64", "model.d_mbstd=2"),
        ("model.name=dcgan", "data.image_size=32", "model.n_classes=10"),
        ("model.name=dcgan64", "data.image_size=64", "model.n_classes=10")]],
    ("loss.gp_lambda=0",), ("loss.gp_every=4",),
]]

UNWRITABLE = [
    ["train", "--out", "{ws}/existing.png/run", *TINY],
    ["train", "--out", "{ws}/existing.png/deeper/run", *TINY],
    ["sample", "--pretrained", "mnist-dcgan", "--out", "{ws}/existing.png/a.png"],
    ["sample", "--pretrained", "mnist-dcgan", "--out", "{ws}/existing.png/a.npz"],
    ["explore", "grid", "--pretrained", "mnist-cdcgan", "--out", "{ws}/existing.png/a.png"],
    ["explore", "interp", "--pretrained", "mnist-dcgan", "--out", "{ws}/existing.png/a.gif"],
    ["attack", "fgsm", "--n", "10", "--out", "{ws}/existing.png/a.png"],
    ["attack", "train", "--out", "{ws}/existing.png/c.safetensors"],
    ["report", "{ws}/run", "--out", "{ws}/existing.png/r.html"],
    ["evaluator", "train", "--data", "{ws}/folder", "--out", "{ws}/existing.png/ev"],
]
if os.path.isdir("/sys"):  # sysfs takes no new files, for root too: read-only on any Linux
    UNWRITABLE += [["train", "--out", "/sys/gankit-run", *TINY],
                   ["sample", "--pretrained", "mnist-dcgan", "--out", "/sys/gankit.png"],
                   ["report", "{ws}/run", "--out", "/sys/gankit.html"]]

CARD_CASES = [c for name in CARDS for c in (
    ["sample", f"{{ws}}/card-{name}", "--out", "{ws}/a.png"],
    ["eval", f"{{ws}}/card-{name}", "--n", "100", "--metrics", "fid"],
    ["explore", "grid", f"{{ws}}/card-{name}", "--out", "{ws}/a.png"],
)]

RUN_CASES = [["report", f"{{ws}}/edited-{name}"] for name in RUNS  # what report reads
             if not name.startswith(("generator", "card", "state"))] + [
    ["train", "--resume", "{ws}/edited-config-corrupt"],
    ["train", "--resume", "{ws}/edited-config-array"],
    ["train", "--resume", "{ws}/edited-config-unknown-key"],
    ["train", "--resume", "{ws}/edited-config-bad-value"],
    ["train", "--resume", "{ws}/edited-state-garbage", "--set", "train.steps=4"],
    ["sample", "{ws}/edited-generator-missing", "--out", "{ws}/a.png"],
    ["sample", "{ws}/edited-card-missing", "--out", "{ws}/a.png"],
    ["eval", "{ws}/edited-generator-missing"], ["eval", "{ws}/edited-card-missing"],
    ["attack", "fgsm", "--model", "{ws}/edited-state-garbage", "--n", "10"],
    ["attack", "fgsm", "--model", "{ws}/edited-config-corrupt", "--n", "10"],
]

# Files given where another kind was meant: the message names what the file is.
WRONG_FILE = [
    ["sample", "{ws}/run/state.pt", "--out", "{ws}/a.png"],
    ["sample", "{ws}/run/config.json", "--out", "{ws}/a.png"],
    ["sample", "{ws}/run/stats.jsonl", "--out", "{ws}/a.png"],
    ["sample", "{ws}/run/samples/step-000002.png", "--out", "{ws}/a.png"],
    ["eval", "{ws}/run/state.pt"], ["eval", "{ws}/run/config.json"],
    ["attack", "fgsm", "--model", "{ws}/run/config.json"],
    ["attack", "fgsm", "--model", "{ws}/run/state.pt"],
    ["attack", "fgsm", "--model", "{ws}/run/generator.json"],
    ["report", "{ws}/run/config.json"], ["report", "{ws}/run/samples"],
    ["train", "--resume", "{ws}/run/state.pt"],
    ["sample", "no-such-generator", "--out", "{ws}/a.png"],
    ["sample", "--pretrained", "mnist-dcgan", "--class", "Sneaker", "--out", "{ws}/a.png"],
    ["sample", "{ws}/run", "--class", "3", "--out", "{ws}/a.png"],
    ["sample", "--pretrained", "fashion-cdcgan", "--class", "Shoe", "--out", "{ws}/a.png"],
    sets("data.name=fashion"), sets("data.name=fashion", "data.path=fashion-mnist-70k.npz"),
    sets("data.name=fashion", "data.path={ws}/folder"),
]

CASES = (WRONG_TYPE + OUT_OF_RANGE + COMMANDS + EXTREMES + SIZES + GP_WITH_BATCHNORM + UNWRITABLE
         + CARD_CASES + RUN_CASES + WRONG_FILE)


def test_there_are_at_least_300_distinct_cases():
    assert len({tuple(c) for c in CASES}) == len(CASES) >= 300


def case_id(argv) -> str:
    text = " ".join(argv).replace(" ".join(TINY), "TINY")
    return text.replace("train --out {ws}/new-run TINY --set ", "set ")


@pytest.mark.parametrize("argv", CASES, ids=case_id)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(workspace, argv, capsys, monkeypatch):
    monkeypatch.chdir(workspace)  # default outputs (attack-fgsm.png, runs/) would land here
    monkeypatch.setenv("GANKIT_CACHE", str(workspace / "cache"))
    before = snapshot(workspace)
    try:
        code = main([a.replace("{ws}", str(workspace)) for a in argv])
    except SystemExit as e:  # argparse's refusals
        code = e.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("gankit"), err
    assert "Traceback" not in err
    assert snapshot(workspace) == before


# ---- the property-based layer ------------------------------------------------------------

KEYS = [f"{section}.{key}" for section, values in load_preset("dcgan-mnist").to_dict().items()
        if isinstance(values, dict) for key in values]
VALUES = st.one_of(
    st.integers(-10**40, 10**40).map(str), st.floats().map(repr), st.text(max_size=12),
    st.sampled_from(["true", "no", "", " ", "1e3", "1e400", "-1e400", "0x10", "1_000", "nan",
                     "-0", "1.5", "2**8", "None", "[]", "{}", "mlp", "dcgan", "wgan-gp",
                     "fp8", "cuda:7", "../..", "-", "0.0", "1e-400", "٣"]))
OVERRIDE = st.tuples(st.one_of(st.sampled_from(KEYS), st.text(max_size=16)), VALUES)


def one_line(e: Exception) -> bool:
    return bool(str(e)) and "\n" not in str(e)


@settings(max_examples=300, deadline=None, derandomize=True)  # CI repeats what it saw
@given(items=st.lists(OVERRIDE, min_size=1, max_size=3),
       preset=st.sampled_from(["dcgan-mnist", "mlp-mnist", "cdcgan-mnist", "toy-ring"]))
def test_generated_overrides_are_taken_or_refused_in_one_line(items, preset):
    """Any --set key=value: the config takes it, or refuses it with one GankitError line; what
    it takes, the architecture checks (built on the meta device, nothing allocated) take or
    refuse in one line too: never another exception."""
    cfg = load_preset(preset)
    try:
        apply_overrides(cfg, [f"{k}={v}" for k, v in items]).validate()
        side = cfg.data.image_size or 28
        shape = (2,) if cfg.data.name.startswith("toy") else (1, side, side)
        check_training_size(cfg.model, shape)
    except GankitError as e:
        assert one_line(e), str(e)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6)
SHIPPED_CARD = json.loads((Path(__file__).parents[1] / "src" / "gankit" / "pretrained"
                           / "mnist-cdcgan.json").read_text())
FIELDS = (["model", "kind", "data_shape", "class_names", "data", "kwargs", "step", "preset"]
          + [f"kwargs.{k}" for k in SHIPPED_CARD["kwargs"]] + ["kwargs.extra"])


@pytest.fixture(scope="module")
def card_dir(tmp_path_factory):
    """The shipped conditional generator as a snapshot folder whose card the test rewrites."""
    folder = tmp_path_factory.mktemp("card")
    shipped = Path(__file__).parents[1] / "src" / "gankit" / "pretrained"
    shutil.copy(shipped / "mnist-cdcgan.safetensors", folder / "generator.safetensors")
    return folder


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.sampled_from(FIELDS), JSON), min_size=1, max_size=2))
def test_generated_card_fields_sample_or_are_refused_in_one_line(card_dir, changes, capsys):
    """A generator card with any field replaced by any JSON value: gankit sample draws from it
    or refuses it (exit 2, one line), before allocating anything the card asks for."""
    card = json.loads(json.dumps(SHIPPED_CARD))
    for field, value in changes:
        section, _, key = field.partition(".")
        if key and isinstance(card.get(section), dict):
            card[section][key] = value
        elif not key:
            card[section] = value
    (card_dir / "generator.json").write_text(json.dumps(card))
    out = card_dir / "out.png"
    code = main(["sample", str(card_dir), "--out", str(out), "--n", "4", "--force"])
    err = capsys.readouterr().err
    assert code in (0, 2), err
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("argv", GP_WITH_BATCHNORM, ids=case_id)
def test_a_gradient_penalty_with_batchnorm_is_refused_for_that_reason(workspace, argv, capsys,
                                                                      monkeypatch):
    """Not refused for some other setting: the rule itself, on every D that holds BatchNorm."""
    monkeypatch.chdir(workspace)
    assert main([a.replace("{ws}", str(workspace)) for a in argv]) == 2
    assert "needs a critic without BatchNorm" in capsys.readouterr().err
