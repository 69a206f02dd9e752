"""No command overwrites a file it did not create in this invocation, unless --force says so;
and no --out may name a file of a run directory. Each refusal is one line, exit 2, before any
work is done, and the existing file is left byte for byte."""

import pytest

from gankit.cli import main

WRITERS = [
    ["sample", "--pretrained", "mnist-dcgan", "--n", "4"],
    ["explore", "grid", "--pretrained", "mnist-cdcgan"],
    ["explore", "interp", "--pretrained", "mnist-dcgan"],
    ["explore", "classes", "--pretrained", "mnist-cdcgan", "--from", "1", "--to", "7"],
    ["explore", "truncation", "--pretrained", "mnist-dcgan"],
    ["explore", "control", "--pretrained", "mnist-dcgan", "--target", "7"],
    ["attack", "fgsm"],
    ["attack", "pgd"],
    ["attack", "train"],
]


@pytest.mark.parametrize("args", WRITERS, ids=lambda a: " ".join(a[:2]))
def test_an_existing_out_is_kept_unless_forced(args, tmp_path, capsys):
    out = tmp_path / ("c.safetensors" if args[:2] == ["attack", "train"] else "old.png")
    out.write_bytes(b"keep me")
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "already exists" in err and "--force" in err
    assert out.read_bytes() == b"keep me"


def test_attack_train_keeps_an_existing_card_too(tmp_path, capsys):
    (tmp_path / "c.json").write_text("{}")
    assert main(["attack", "train", "--out", str(tmp_path / "c.safetensors")]) == 2
    assert "c.json already exists" in capsys.readouterr().err
    assert (tmp_path / "c.json").read_text() == "{}"


def test_force_replaces_and_a_run_file_is_never_an_out(tmp_path, capsys):
    out = tmp_path / "old.png"
    out.write_bytes(b"keep me")
    assert main(["sample", "--pretrained", "mnist-dcgan", "--n", "4", "--out", str(out),
                 "--force"]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    (run / "state.pt").write_bytes(b"state")
    assert main(["report", str(run), "--out", str(run / "state.pt"), "--force"]) == 2
    assert "is a file of the run" in capsys.readouterr().err
    assert (run / "state.pt").read_bytes() == b"state"
    assert main(["sample", "--pretrained", "mnist-dcgan", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
