"""FGSM/PGD: exact budgets, clipping, ε = 0, and `gankit attack` end to end on tiny models."""

import json

import pytest
import torch
from torch import nn

from gankit.cli import main
from gankit.robust import adversarial_accuracy, fgsm, parse_eps, pgd, predict
from gankit.robust.attacks import RealFake
from gankit.robust.targets import load_classifier, load_target


def tiny_classifier(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.Tanh(), nn.Linear(32, 10)).eval()


def test_fgsm_moves_every_unclipped_pixel_by_exactly_eps():
    model = tiny_classifier()
    g = torch.Generator().manual_seed(1)
    x = torch.rand(16, 1, 28, 28, generator=g) - 0.5      # inside [-0.5, 0.5]: never clipped
    y = torch.randint(10, (16,), generator=g)
    for eps in (0.05, 0.1, 0.25):
        delta = (fgsm(model, x, y, eps) - x) / 2           # on the [0, 1] pixel scale
        assert delta.abs().max().item() == pytest.approx(eps, abs=1e-6)
        moved = delta != 0
        assert moved.float().mean() > 0.99                  # the gradient is zero almost nowhere
        assert torch.allclose(delta[moved].abs(), torch.full_like(delta[moved], eps), atol=1e-6)


def test_fgsm_and_pgd_clip_to_the_valid_range():
    model = tiny_classifier()
    g = torch.Generator().manual_seed(2)
    x = torch.randint(0, 2, (16, 1, 28, 28), generator=g).float() * 2 - 1   # pixels at -1 or 1
    y = torch.randint(10, (16,), generator=g)
    for adv in (fgsm(model, x, y, 0.3), pgd(model, x, y, 0.3, steps=5)):
        assert adv.min() >= -1 and adv.max() <= 1
        assert ((adv - x).abs() / 2).max() <= 0.3 + 1e-6
    # where the sign pushes outward the pixel stays put; inward it moves by the full 2ε
    moved = (fgsm(model, x, y, 0.3) - x).abs()
    assert torch.all((moved < 1e-6) | ((moved - 0.6).abs() < 1e-5))


def test_pgd_stays_in_the_ball_and_is_at_least_as_strong_as_fgsm():
    model = tiny_classifier()
    g = torch.Generator().manual_seed(3)
    x = torch.rand(64, 1, 28, 28, generator=g) * 2 - 1
    y = predict(model, x)                                   # start from 100 % accuracy
    acc_fgsm, _ = adversarial_accuracy(model, x, y, "fgsm", 0.02)
    acc_pgd, adv = adversarial_accuracy(model, x, y, "pgd", 0.02, steps=10)
    assert ((adv - x).abs() / 2).max() <= 0.02 + 1e-6
    assert acc_pgd <= acc_fgsm < 1.0


def test_accuracy_at_eps_zero_is_clean_accuracy():
    model = tiny_classifier()
    g = torch.Generator().manual_seed(4)
    x = torch.rand(50, 1, 28, 28, generator=g) * 2 - 1
    y = torch.randint(10, (50,), generator=g)
    clean = (predict(model, x) == y).float().mean().item()
    for attack in ("fgsm", "pgd"):
        acc, adv = adversarial_accuracy(model, x, y, attack, 0.0)
        assert acc == clean and torch.equal(adv, x)


def test_real_fake_wrapper_matches_d():
    D = nn.Sequential(nn.Flatten(), nn.Linear(784, 1), nn.Flatten(0))
    x = torch.randn(8, 1, 28, 28)
    logits = RealFake(D)(x)
    assert logits.shape == (8, 2)
    assert torch.equal(logits.argmax(1) == 1, D(x) > 0)
    # class 1's cross-entropy is D's BCE on real images
    bce = nn.functional.binary_cross_entropy_with_logits(D(x), torch.ones(8))
    assert nn.functional.cross_entropy(logits, torch.ones(8, dtype=torch.long)).item() == \
        pytest.approx(bce.item(), rel=1e-5)


@pytest.mark.parametrize("text", ["-0.1", "abc", "1.5", "0.1,,0.2", "nan", ""])
def test_bad_eps_values_are_refused(text):
    from gankit.errors import GankitError
    with pytest.raises(GankitError, match="--eps"):
        parse_eps(text)


# ---- the CLI ---------------------------------------------------------------------------

def error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gan") / "run"
    assert main(["train", "--out", str(out), "--set", "train.steps=2", "--set",
                 "train.batch_size=8", "--set", "model.g_hidden=8", "--set", "model.d_hidden=8",
                 "--set", "train.n_samples=4", "--set", "train.device=cpu"]) == 0
    return out


def table(text):
    """'ε accuracy error' rows of the printed table -> {ε text: accuracy %}."""
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[-1].endswith("%") and len(parts) >= 3:
            rows[" ".join(parts[:-2])] = float(parts[-2].rstrip("%"))
    return rows


def test_attack_fgsm_on_the_mnist_evaluator(tmp_path, capsys):
    out = tmp_path / "fgsm.png"
    assert main(["attack", "fgsm", "--eps", "0,0.1,0.3", "--n", "40", "--out", str(out)]) == 0
    rows = table(capsys.readouterr().out)
    assert set(rows) == {"0 (clean)", "0", "0.1", "0.3"}
    assert rows["0"] == rows["0 (clean)"] > 90              # ε = 0 is clean accuracy
    assert rows["0.3"] < rows["0 (clean)"]
    assert out.stat().st_size > 0


def test_attack_pgd_on_a_gan_discriminator(gan_run, tmp_path, capsys):
    out = tmp_path / "pgd.png"
    assert main(["attack", "pgd", "--model", str(gan_run), "--eps", "0.1", "--steps", "3",
                 "--alpha", "0.05", "--n", "16", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "discriminator" in text and "real/fake" in text
    rows = table(text)
    assert 0 <= rows["0.1"] <= rows["0 (clean)"] <= 100
    assert out.stat().st_size > 0


def test_fgsm_random_start_stays_in_the_ball_and_the_range():
    from gankit.robust.adversarial import fgsm_random_start
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    x = torch.rand(8, 1, 4, 4) * 2 - 1
    x[0] = 1.0  # saturated pixels stay in range
    y = torch.randint(0, 3, (8,))
    adv = fgsm_random_start(model, x, y, 0.1, torch.Generator().manual_seed(0))
    assert (adv - x).abs().max() <= 2 * 0.1 + 1e-6  # ε on the [0, 1] scale: 2ε in tensor units
    assert adv.min() >= -1 and adv.max() <= 1
    assert not torch.equal(adv, x)


@pytest.mark.parametrize("adv, extra, label", [
    ("fgsm", [], "fgsm-trained"),
    ("fgsm-rs", [], "fgsm-rs-trained"),
    ("pgd", ["--steps", "2", "--alpha", "0.1"], "pgd-trained"),
    ("none", [], "standard"),
])
def test_attack_train_writes_a_classifier_that_model_accepts(adv, extra, label, tmp_path, capsys,
                                                             monkeypatch):
    import gankit.robust.adversarial as adversarial
    from gankit.metrics import evaluator
    real_load_split = evaluator.load_split

    def few(dataset, split, npz):  # 256 training images keep this test to seconds
        x, y = real_load_split(dataset, split, npz)
        return (x[:256], y[:256]) if split == "train" else (x, y)

    monkeypatch.setattr(adversarial, "load_split", few)
    path = tmp_path / "robust.safetensors"
    assert main(["attack", "train", "--adv", adv, "--eps", "0.25", "--epochs", "1",
                 "--out", str(path), *extra]) == 0
    assert "held-out accuracy" in capsys.readouterr().out
    model, card = load_classifier(path)
    assert card["adv"] == adv and card["eps"] == 0.25 and card["dataset"] == "mnist"
    assert card["kind"] == "classifier" and card == json.loads(path.with_suffix(".json").read_text())
    assert main(["attack", "fgsm", "--model", str(path), "--eps", "0.25", "--n", "20",
                 "--out", str(tmp_path / "a.png")]) == 0
    assert label in capsys.readouterr().out
    target = load_target(str(path), n=20)
    assert target.x.shape == (20, 1, 28, 28) and json.dumps(card)


@pytest.mark.parametrize("args, words", [
    (["attack", "fgsm", "--eps", "-0.1"], "outside [0, 1]"),
    (["attack", "fgsm", "--eps", "abc"], "not a number"),
    (["attack", "fgsm", "--eps", "0.1,2"], "outside [0, 1]"),
    (["attack", "pgd", "--eps", "0.1", "--alpha", "0"], "--alpha"),
    (["attack", "train", "--eps", "1.5", "--out", "x.safetensors"], "outside [0, 1]"),
    (["attack", "train", "--adv", "magic", "--out", "x.safetensors"], "--adv 'magic'"),
    (["attack", "train", "--out", "x.pt"], ".safetensors"),
    (["attack", "fgsm", "--model", "/no/such/model"], "/no/such/model"),
    # fashion's held-out test images ship (attack fgsm --model fashion works offline); its
    # training images do not
    (["attack", "train", "--dataset", "fashion", "--out", "x.safetensors"], "--data"),
    (["attack", "fgsm", "--out", "x.jpg"], ".png"),
])
def test_bad_attack_input_is_one_line_and_exit_2(args, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    assert words in error_line(capsys)


def test_corrupt_classifier_file_and_vae_run_are_refused(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00garbage")
    assert main(["attack", "fgsm", "--model", str(bad)]) == 2
    assert "not a gankit classifier file" in error_line(capsys)
    vae = tmp_path / "vae"
    assert main(["train", "--preset", "vae-mnist", "--out", str(vae), "--set", "train.steps=1",
                 "--set", "train.batch_size=8", "--set", "train.n_samples=4"]) == 0
    capsys.readouterr()
    assert main(["attack", "fgsm", "--model", str(vae)]) == 2
    assert "no discriminator" in error_line(capsys)


def test_conditional_discriminator_is_refused_in_one_line(tmp_path, capsys):
    run = tmp_path / "cgan"
    assert main(["train", "--preset", "cdcgan-mnist", "--out", str(run), "--set", "train.steps=1",
                 "--set", "train.batch_size=8", "--set", "model.g_hidden=8",
                 "--set", "model.d_hidden=8", "--set", "train.n_samples=10"]) == 0
    capsys.readouterr()
    assert main(["attack", "fgsm", "--model", str(run), "--n", "8"]) == 2
    assert "is conditional" in error_line(capsys)


def small_evaluator_state():
    from gankit.metrics.evaluator import Evaluator
    torch.manual_seed(0)
    config = dict(channels=4, feature_dim=8, n_classes=10, dropout=0.3)
    return config, Evaluator(**config).eval()


def test_classifier_file_from_before_the_card_format_still_loads(tmp_path):
    """Files `gankit attack train` wrote before the artifact format: one .safetensors, card in
    its header."""
    from safetensors.torch import save_file
    config, model = small_evaluator_state()
    old_card = {"format": "gankit classifier", "architecture": "gankit.metrics.evaluator.Evaluator",
                "config": config, "dataset": "mnist", "adv": "fgsm", "eps": 0.25}
    path = tmp_path / "old.safetensors"
    save_file(dict(model.state_dict()), str(path), metadata={"gankit_classifier": json.dumps(old_card)})
    loaded, card = load_classifier(path)
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    assert torch.equal(loaded(x), model(x)) and card["adv"] == "fgsm"
    assert "fgsm-trained" in load_target(str(path), n=5).what


def test_classifier_card_of_another_kind_or_model_is_refused(tmp_path, capsys):
    from gankit import artifacts
    _, model = small_evaluator_state()
    artifacts.save(tmp_path / "g", model, {"kind": "generator", "model": "dcgan28", "kwargs": {}})
    assert main(["attack", "fgsm", "--model", str(tmp_path / "g.safetensors")]) == 2
    assert "is a generator card, not a classifier" in error_line(capsys)
    artifacts.save(tmp_path / "c", model, {"kind": "classifier", "model": "resnet18", "kwargs": {}})
    assert main(["attack", "fgsm", "--model", str(tmp_path / "c.safetensors")]) == 2
    assert "describes 'resnet18'" in error_line(capsys)
