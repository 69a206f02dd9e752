"""Bad input, every subcommand and config key: exit code 2, exactly one line on stderr, no
traceback, and not one file written or changed (the workspace, a trained run inside it, is
compared byte for byte before and after every case)."""

import json
import shutil

import pytest
import torch

from gankit.cli import main
from gankit.config import load_preset

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
    return ws


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

CASES = WRONG_TYPE + OUT_OF_RANGE + COMMANDS


def test_there_are_at_least_100_distinct_cases():
    assert len({tuple(c) for c in CASES}) == len(CASES) >= 100


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
