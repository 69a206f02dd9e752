"""The VAE: ELBO terms on hand-computed cases, shapes, and a run that sample/eval treat as a GAN's."""

import json
import math

import pytest
import torch

from gankit.cli import main
from gankit.config import apply_overrides, load_preset
from gankit.metrics.sharpness import laplacian_variance
from gankit.models.vae import VAEDecoder, VAEEncoder
from gankit.training import run
from gankit.models.snapshot import load_snapshot
from gankit.training.vae import kl_divergence, reconstruction_nll


def test_kl_is_the_closed_form_on_known_values():
    assert kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).tolist() == [0.0, 0.0, 0.0]
    mu = torch.tensor([[1.0, -2.0]])
    logvar = torch.tensor([[0.0, math.log(4.0)]])
    # 0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2) = 0.5 * ((1 + 1 - 1 - 0) + (4 + 4 - 1 - log 4))
    expected = 0.5 * (1.0 + 7.0 - math.log(4.0))
    assert kl_divergence(mu, logvar).item() == pytest.approx(expected, rel=1e-6)


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    ref = torch.distributions.kl_divergence(q, p).sum(1)
    assert torch.allclose(kl_divergence(mu, logvar), ref, atol=1e-5)


def test_reconstruction_is_the_bernoulli_nll():
    # 2 pixels: a white pixel (x = 1) predicted with p = σ(0) = 1/2, a black one (x = -1)
    # predicted with p = σ(log 3) = 3/4: -log(1/2) - log(1 - 3/4) = log 2 + log 4 = log 8.
    logits = torch.tensor([[[[0.0, math.log(3.0)]]]])
    x = torch.tensor([[[[1.0, -1.0]]]])
    assert reconstruction_nll(logits, x).item() == pytest.approx(math.log(8.0), rel=1e-6)
    # a grey pixel is a soft target: (x + 1) / 2 = 1/4 with p = 1/4 gives the entropy
    h = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    nll = reconstruction_nll(torch.tensor([[[[math.log(1 / 3)]]]]), torch.tensor([[[[-0.5]]]]))
    assert nll.item() == pytest.approx(h, rel=1e-5)


def test_shapes_and_the_decoder_is_a_generator():
    E, G = VAEEncoder(z_dim=6, hidden=4), VAEDecoder(z_dim=6, hidden=4)
    mu, logvar = E(torch.rand(3, 1, 28, 28) * 2 - 1)
    assert mu.shape == logvar.shape == (3, 6)
    x = G(torch.randn(3, 6))
    assert x.shape == (3, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    z = torch.randn(2, 6)
    assert torch.allclose(G(z), 2 * torch.sigmoid(G.logits(z)) - 1, atol=1e-6)
    assert G.z_dim == 6


def tiny_vae(steps, *more):
    return apply_overrides(load_preset("vae-mnist"),
                           [f"train.steps={steps}", "train.batch_size=16", "model.g_hidden=4",
                            "model.d_hidden=4", "train.device=cpu", "train.log_every=2",
                            "train.sample_every=2", "train.ckpt_every=2", "train.n_samples=4",
                            *more])


def test_vae_run_follows_the_run_contract(tmp_path, capsys):
    run_dir, grid = run.start(tiny_vae(4), str(tmp_path / "run"))
    assert grid.is_file()
    rec = json.loads((run_dir / "stats.jsonl").read_text().splitlines()[-1])
    assert rec["step"] == 4 and rec["loss"] == pytest.approx(rec["recon"] + rec["kl"], abs=1e-3)
    G, meta = load_snapshot(run_dir)
    assert meta["model"] == "vae" and meta["kwargs"]["z_dim"] == G.z_dim == 16
    assert G(torch.randn(2, G.z_dim)).shape == (2, 1, 28, 28)   # plain G(z), as explore uses
    assert main(["sample", str(run_dir), "--n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert main(["eval", str(run_dir), "--metrics", "fid,sharpness", "--n", "50"]) == 0
    out = capsys.readouterr().out
    assert "FID" in out and "sharpness (Laplacian variance)" in out and "real data" in out


def test_the_report_of_a_vae_run_draws_its_own_statistics(tmp_path):
    """The report serves every trainer kind: a VAE logs -ELBO, reconstruction and KL."""
    run_dir, _ = run.start(tiny_vae(4), str(tmp_path / "run"))
    assert main(["report", str(run_dir)]) == 0
    page = (run_dir / "report.html").read_text()
    assert "4 steps" in page and "0 steps" not in page
    assert "No training statistics" not in page and 'alt="training curves"' in page
    assert "Diagnoses" not in page        # no D, so no health monitor: nothing to claim


def test_vae_resume_is_bit_identical(tmp_path):
    straight, _ = run.start(tiny_vae(6), str(tmp_path / "a"))
    half, _ = run.start(tiny_vae(3), str(tmp_path / "b"))
    run.resume(str(half), ["train.steps=6"])
    a = torch.load(straight / "state.pt", weights_only=True)["trainer"]
    b = torch.load(half / "state.pt", weights_only=True)["trainer"]
    assert a["step"] == b["step"] == 6
    for part in ("G", "E"):
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), f"{part}.{key} differs"


def test_gan_only_settings_are_refused_for_the_vae(tmp_path, capsys):
    assert main(["train", "--preset", "vae-mnist", "--set", "train.d_steps=2",
                 "--out", str(tmp_path / "r")]) == 2
    assert "train.d_steps" in capsys.readouterr().err


def test_sharpness_of_flat_edges_and_blur():
    flat = torch.zeros(2, 1, 8, 8)
    assert laplacian_variance(flat).tolist() == [0.0, 0.0]
    checker = (torch.arange(8).view(1, 8) + torch.arange(8).view(8, 1)) % 2  # (8, 8) of 0/1
    x = (checker.float() * 2 - 1).view(1, 1, 8, 8)   # black/white checkerboard in [-1, 1]
    # on the [0, 1] scale every interior Laplacian response is ±4 (a pixel against its four
    # opposite neighbours)
    # in equal numbers, so the variance is 16 (unbiased: 16 * 36 / 35)
    assert laplacian_variance(x).item() == pytest.approx(16 * 36 / 35, rel=1e-6)
    blurred = torch.nn.functional.avg_pool2d(x, 3, 1, 1)
    assert laplacian_variance(blurred).item() < laplacian_variance(x).item()
