"""The speed benchmark compares like with like: gankit's step and the plain loop do the same math."""
import copy
import sys
from pathlib import Path

import torch

from gankit.config import apply_overrides, load_preset
from gankit.data import load_data
from gankit.train.gan import GANTrainer as Trainer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from speed import plain_step  # noqa: E402


def test_gankit_step_equals_the_plain_loop_on_the_same_batch_and_noise():
    cfg = apply_overrides(load_preset("dcgan-course-exact"),
                          ["train.batch_size=16", "model.g_hidden=8", "model.d_hidden=8"])
    torch.manual_seed(0)
    trainer = Trainer(cfg, load_data("mnist"), torch.device("cpu"))
    G, D = copy.deepcopy(trainer.G), copy.deepcopy(trainer.D)
    start = [p.detach().clone() for p in G.parameters()]
    o = cfg.optim
    opt_g = torch.optim.Adam(G.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))

    for step in range(3):
        real = trainer.sampler.next("cpu")
        z = torch.randn(16, cfg.model.z_dim)
        trainer.sampler.next = lambda device, real=real: real  # feed gankit the same batch
        trainer.noise = lambda n, generator=None, z=z: z       # and the same noise
        trainer.train_step()
        plain_step(G, D, opt_g, opt_d, real, z)
        for ours, theirs in [(trainer.G, G), (trainer.D, D)]:
            for (name, a), b in zip(ours.named_parameters(), theirs.parameters()):
                torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=f"step {step}: {name}")
    assert all(not torch.equal(a, b) for a, b in zip(start, G.parameters()))  # both moved
