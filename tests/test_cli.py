"""The CLI as a user runs it: results, and one clear line with exit code 2 for bad input."""

import subprocess
import sys

import numpy as np
import pytest

from gankit.cli import main

TINY = ["--set", "train.steps=2", "--set", "train.batch_size=8", "--set", "model.g_hidden=8",
        "--set", "model.d_hidden=8", "--set", "train.n_samples=4", "--set", "train.device=cpu"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "--out", str(out), *TINY]) == 0
    return out


def error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one line, no traceback
    return err[0]


def test_train_prints_run_dir_and_final_grid(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), *TINY]) == 0
    text = capsys.readouterr().out
    assert f"run directory: {out}" in text
    assert f"final samples: {out / 'samples' / 'step-000002.png'}" in text


def test_sample_png_and_npz(trained, tmp_path):
    assert main(["sample", str(trained), "--n", "9", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").stat().st_size > 0
    assert main(["sample", str(trained / "generator.safetensors"), "--n", "5", "--seed", "3",
                 "--out", str(tmp_path / "s.npz")]) == 0
    images = np.load(tmp_path / "s.npz")["images"]
    assert images.shape == (5, 28, 28) and images.dtype == np.uint8
    assert main(["sample", str(trained), "--n", "5", "--seed", "3",
                 "--out", str(tmp_path / "t.npz")]) == 0
    assert np.array_equal(images, np.load(tmp_path / "t.npz")["images"])  # seeded


def test_presets_lists_every_preset(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in ("mlp-mnist", "dcgan-mnist", "dcgan-fashion", "dcgan64-folder", "toy-ring",
                 "toy-grid", "dcgan-course", "wgan-gp-mnist", "sngan-fashion", "toy-ring-plain",
                 "toy-ring-wgan-gp", "toy-grid-plain", "toy-grid-wgan-gp"):
        assert name in out


@pytest.mark.parametrize("args, words", [
    (["train", "--preset", "nope"], "unknown preset 'nope'"),
    (["train", "--set", "train.stepz=3"], "unknown config key 'train.stepz'"),
    (["train", "--set", "train.steps=lots"], "train.steps must be int"),
    (["train", "--set", "loss.g_loss=wgan"], "unknown loss.g_loss"),
    (["train", "--set", "data.name=fashion"], "data.path"),
    (["train", "--set", "data.path=/no/such/place"], "/no/such/place"),
    (["train", "--preset", "dcgan64-folder"], "data.path"),
    (["sample", "/no/such/run", "--out", "x.png"], "/no/such/run"),
    (["train", "--preset", "dcgan-mnist", "--set", "loss.d_loss=wgan-gp"], "needs a critic without BatchNorm"),
    (["train", "--preset", "dcgan-course", "--set", "loss.d_loss=wgan-gp", "--set",
      "model.d_input_bn=false"], "set model.d_bn=false"),
    (["train", "--set", "loss.d_loss=hinge", "--set", "loss.label_smoothing=0.1"],
     "loss.label_smoothing has no meaning for loss.d_loss=hinge"),
    (["train", "--set", "loss.d_loss=hinge", "--set", "loss.g_loss=minimax"],
     "mismatched loss.g_loss"),
    (["train", "--set", "train.diffaugment=color,flip"], "unknown train.diffaugment policy 'flip'"),
    (["train", "--preset", "toy-ring", "--set", "train.diffaugment=color"], "images only"),
    (["train", "--set", "loss.instance_noise=-1"], "loss.instance_noise must be >= 0"),
])
def test_bad_input_is_one_line_and_exit_2(args, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    assert words in error_line(capsys)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_empty_and_corrupt_data(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "--preset", "dcgan64-folder", "--set", f"data.path={empty}"]) == 2
    assert "empty" in error_line(capsys) or "no images" in capsys.readouterr().err
    bad = tmp_path / "pics"
    bad.mkdir()
    (bad / "broken.png").write_bytes(b"not a png at all")
    assert main(["train", "--preset", "dcgan64-folder", "--set", f"data.path={bad}"]) == 2
    assert "broken.png" in error_line(capsys)
    npz = tmp_path / "bad.npz"
    npz.write_bytes(b"garbage")
    assert main(["train", "--set", f"data.path={npz}"]) == 2
    assert "bad.npz" in error_line(capsys)


def test_out_dir_that_is_not_empty_is_refused(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["train", "--out", str(tmp_path), *TINY]) == 2
    assert "not empty" in error_line(capsys)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_resume_errors(tmp_path, trained, capsys):
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "not a run directory" in error_line(capsys)
    assert main(["train", "--resume", str(trained), "--set", "model.g_hidden=32"]) == 2
    assert "cannot change when resuming" in error_line(capsys)


def test_corrupt_checkpoint_is_refused_and_left_alone(tmp_path, trained, capsys):
    import shutil
    run = tmp_path / "copy"
    shutil.copytree(trained, run)
    (run / "state.pt").write_bytes(b"\x00garbage")
    assert main(["train", "--resume", str(run), "--set", "train.steps=4"]) == 2
    assert "state.pt" in error_line(capsys)
    (run / "generator.safetensors").write_bytes(b"\x00garbage")
    assert main(["sample", str(run), "--out", str(tmp_path / "x.png")]) == 2
    assert "generator.safetensors" in error_line(capsys)
    assert (run / "state.pt").read_bytes() == b"\x00garbage"  # nothing overwritten


def test_bad_sample_arguments(trained, tmp_path, capsys):
    assert main(["sample", str(trained), "--out", str(tmp_path / "x.jpg")]) == 2
    assert ".png" in error_line(capsys)
    with pytest.raises(SystemExit) as e:
        main(["sample", str(trained), "--n", "0", "--out", str(tmp_path / "x.png")])
    assert e.value.code == 2


def test_console_entry_point_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gankit", "train", "--preset", "nope"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr


def test_eval_prints_a_table_and_appends_provenance(trained, capsys, monkeypatch, tmp_path):
    import json
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    assert main(["eval", str(trained), "--n", "300", "--metrics", "fid,kid,is,pr,coverage"]) == 0
    out = capsys.readouterr().out
    for row in ("FID", "KID", "IS", "precision", "recall", "classes covered"):
        assert row in out
    record = json.loads((trained / "metrics.jsonl").read_text().splitlines()[-1])
    assert set(record["metrics"]) >= {"fid", "kid", "kid_std", "is", "precision", "coverage"}
    p = record["provenance"]
    # against the 2,000 bundled digits the evaluator never trained on, not all 10,000
    assert p["n_generated"] == 300 and p["n_real"] == 2_000
    assert len(p["extractor_sha256"]) == 64 and p["gankit_version"]
    assert p["real"] == "mnist (bundled, evaluator's held-out test split): 2000 of 2000 images"
    assert list((tmp_path / "cache" / "real-features").iterdir())  # real features cached
    assert main(["eval", str(trained), "--metrics", "modes"]) == 2
    assert "not a metric" in error_line(capsys)


def test_eval_every_logs_metrics_into_stats(tmp_path, monkeypatch):
    import json
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), *TINY, "--set", "train.eval_every=1",
                 "--set", "train.eval_n=50"]) == 0
    lines = [json.loads(l) for l in (out / "stats.jsonl").read_text().splitlines()]
    measured = [l for l in lines if "metrics" in l]
    assert [l["step"] for l in measured] == [1, 2]
    assert "fid" in measured[0]["metrics"] and "coverage" in measured[0]["metrics"]
