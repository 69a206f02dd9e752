"""Long work shows progress on stderr: attacks, classifier training and eval draw a bar with
counts and rates (tqdm), beside results on stdout that stay as they were."""

from gankit.cli import main


def test_attack_shows_a_bar_over_every_budget(tmp_path, capsys):
    assert main(["attack", "fgsm", "--n", "40", "--eps", "0.1,0.2",
                 "--out", str(tmp_path / "a.png")]) == 0
    out, err = capsys.readouterr()
    assert "fgsm (2 budgets)" in err and "80/80" in err and "img/s" in err
    assert "80/80" not in out and "accuracy" in out


def test_eval_shows_generation_and_features(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    assert main(["eval", "--pretrained", "mnist-dcgan", "--n", "30", "--metrics", "is"]) == 0
    err = capsys.readouterr().err
    assert "generating" in err and "featurizing" in err and "30/30" in err
