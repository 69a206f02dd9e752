"""The speed benchmark compares like with like: gankit's step and the plain loop do the same math."""
import copy
import sys
from pathlib import Path

import torch

from gankit.config import apply_overrides, load_preset
from gankit.data import load_data
from gankit.training.gan import GANTrainer as Trainer

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
    # torch's fused Adam, as gankit's (their equality is the next test's): the loop over
    # parameters rounds differently, which Adam's normalisation magnifies where a gradient
    # is near zero (G's last bias)
    opt_g = torch.optim.Adam(G.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2), fused=True)
    opt_d = torch.optim.Adam(D.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2), fused=True)

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


def test_gankit_adam_is_torch_fused_adam_bit_for_bit_and_resumes():
    """gankit.training.optim.Adam calls torch's methods past their dynamo wrappers, with torch's
    fused kernel on a CPU: the same update as torch.optim.Adam(fused=True), and within rounding
    of torch's default (a loop over parameters)."""
    from gankit.training.optim import Adam
    torch.manual_seed(0)
    ours, theirs, loop = torch.nn.Linear(6, 3), torch.nn.Linear(6, 3), torch.nn.Linear(6, 3)
    theirs.load_state_dict(ours.state_dict())
    loop.load_state_dict(ours.state_dict())
    opts = [Adam(ours.parameters(), lr=1e-2, betas=(0.0, 0.99)),
            torch.optim.Adam(theirs.parameters(), lr=1e-2, betas=(0.0, 0.99), fused=True),
            torch.optim.Adam(loop.parameters(), lr=1e-2, betas=(0.0, 0.99))]
    assert opts[0].defaults["fused"] and not opts[2].defaults["fused"]
    for step in range(6):
        x = torch.randn(4, 6)
        for net, opt in zip((ours, theirs, loop), opts):
            opt.zero_grad()
            net(x).square().mean().backward()
            opt.step()
        if step == 2:  # a resume in the middle: state_dict round trip into a new optimiser
            opts[0] = Adam(ours.parameters(), lr=1e-2, betas=(0.0, 0.99))
            opts[0].load_state_dict(copy.deepcopy(opts[1].state_dict()))
    for a, b, c in zip(ours.parameters(), theirs.parameters(), loop.parameters()):
        assert torch.equal(a, b)
        torch.testing.assert_close(a, c)
    assert not torch.equal(ours.weight, torch.nn.Linear(6, 3).weight)
    assert Adam(ours.parameters(), foreach=True).defaults["fused"] is None  # the caller's choice


def test_the_projection_is_a_transposed_conv_computed_as_a_matrix_product():
    """models.blocks.Projection, G's first layer (z, 1x1, to k x k maps): the output and the
    gradients of nn.ConvTranspose2d with the same weights, in either memory layout, and the
    same state dict."""
    from torch import nn
    from gankit.models.blocks import Projection
    torch.manual_seed(0)
    for fmt in (torch.contiguous_format, torch.channels_last):
        for bias in (False, True):
            ours = Projection(5, 7, 4, 1, 0, bias=bias).to(memory_format=fmt)
            theirs = nn.ConvTranspose2d(5, 7, 4, 1, 0, bias=bias)
            theirs.load_state_dict(ours.state_dict())
            z = torch.randn(3, 5, 1, 1).to(memory_format=fmt)
            a, b = ours(z), theirs(z)
            torch.testing.assert_close(a, b)
            assert a.is_contiguous(memory_format=fmt)
            g = torch.randn_like(b)
            (a * g).sum().backward()
            (b * g).sum().backward()
            for p, q in zip(ours.parameters(), theirs.parameters()):
                torch.testing.assert_close(p.grad, q.grad)
    x = torch.randn(2, 5, 3, 3)  # not 1x1: torch's own path
    torch.testing.assert_close(ours(x), nn.functional.conv_transpose2d(x, ours.weight, ours.bias))


def test_a_one_step_run_imports_neither_dynamo_nor_torchvision(tmp_path):
    """Start-up (issue 14): torch._dynamo (1.6 s, pulled in by torch.optim's wrappers) and
    torchvision (2 s, by make_grid) stay out of `gankit train` unless a run asks for them."""
    import subprocess
    code = ("import sys; from gankit.cli import main\n"
            "try: main(['train', '--set', 'train.steps=1', '--out', sys.argv[1]])\n"
            "except SystemExit: pass\n"
            "print(sorted(m for m in ('torch._dynamo', 'torchvision', 'sympy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "run")], check=True,
                         capture_output=True, text=True).stdout
    assert (tmp_path / "run" / "report.html").is_file()
    assert out.strip().splitlines()[-1] == "[]"
