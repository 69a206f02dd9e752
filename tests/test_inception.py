"""Standard Inception FID: the plumbing, with random InceptionV3 weights the test writes."""

import pytest
import torch

from gankit.cli import main
from gankit.errors import GankitError
from gankit.metrics import inception


@pytest.fixture(scope="module")
def random_inception_weights(tmp_path_factory):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    folder = tmp_path_factory.mktemp("inception")
    empty = folder / "empty.pth"
    torch.save({}, empty)
    original = FeatureExtractorInceptionV3.load_state_dict
    FeatureExtractorInceptionV3.load_state_dict = lambda self, state, *a, **k: None
    try:  # build the network without the real weights, keeping its random initialisation
        net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                          feature_extractor_weights_path=str(empty))
    finally:
        FeatureExtractorInceptionV3.load_state_dict = original
    path = folder / "random-inception.pth"
    torch.save(net.state_dict(), path)
    return path


def test_inception_features_and_fid(random_inception_weights):
    from gankit.metrics.image import fid
    net, sha = inception.load_inception(str(random_inception_weights))
    assert len(sha) == 64
    torch.manual_seed(0)
    a = torch.rand(6, 1, 28, 28) * 2 - 1
    f = inception.inception_features(net, a)
    assert f.shape == (6, 2048)
    assert fid(f, f) == pytest.approx(0.0, abs=1e-3)


def test_missing_weights_say_how_to_get_them(tmp_path):
    with pytest.raises(GankitError, match="weights-inception-2015-12-05"):
        inception.load_inception(None)
    with pytest.raises(GankitError, match="does not exist"):
        inception.load_inception(str(tmp_path / "nope.pth"))
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(GankitError, match="could not be read"):
        inception.load_inception(str(bad))


def test_eval_cli_inception_fid(random_inception_weights, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--set", "train.steps=1", "--set",
                 "train.batch_size=4", "--set", "model.g_hidden=4", "--set", "train.n_samples=4"]) == 0
    # A tiny real set keeps Inception's 299x299 passes few on a CPU.
    from gankit.metrics import real
    monkeypatch.setattr(real, "real_features", _small(real.real_features))
    assert main(["eval", str(run), "--metrics", "inception_fid", "--n", "8",
                 "--inception-weights", str(random_inception_weights)]) == 0
    assert "Inception FID" in capsys.readouterr().out


def _small(real_features):
    def wrapped(data_cfg, extractor, sha, fn, n_real, seed=0):
        return real_features(data_cfg, extractor, sha, fn, 8, seed)
    return wrapped
