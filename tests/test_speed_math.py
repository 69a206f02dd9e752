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


def test_the_matmul_transposed_conv_is_nn_conv_transpose2d_computed_otherwise():
    """models.blocks.MatmulConvTranspose2d (G's z projection, maps of at most 3x3, one-channel
    last layers): the output and the gradients of nn.ConvTranspose2d with the same weights,
    in either memory layout, with and without bias and padding; its autograd Function passes
    gradcheck and gradgradcheck (a double backward, as a penalty on G would take)."""
    from torch import nn
    from gankit.models.blocks import MatmulConvTranspose2d, _MatmulConvTranspose
    torch.manual_seed(0)
    shapes = [(5, 7, 1, 4, 1, 0), (6, 4, 3, 4, 1, 0), (6, 1, 5, 4, 2, 1), (6, 1, 4, 3, 2, 0),
              (3, 2, 3, 3, 2, 1)]                                 # c_in, c_out, size, k, s, p
    for c_in, c_out, size, k, s, p in shapes:
        for fmt in (torch.contiguous_format, torch.channels_last):
            for bias in (False, True):
                ours = MatmulConvTranspose2d(c_in, c_out, k, s, p, bias=bias).to(memory_format=fmt)
                theirs = nn.ConvTranspose2d(c_in, c_out, k, s, p, bias=bias)
                theirs.load_state_dict(ours.state_dict())
                x = torch.randn(3, c_in, size, size).to(memory_format=fmt).requires_grad_(True)
                a, b = ours(x), theirs(x)
                torch.testing.assert_close(a, b)
                assert a.is_contiguous(memory_format=fmt)
                g = torch.randn_like(b)
                ours_grads = torch.autograd.grad((a * g).sum(), [x, *ours.parameters()])
                their_grads = torch.autograd.grad((b * g).sum(), [x, *theirs.parameters()])
                for u, v in zip(ours_grads, their_grads):
                    torch.testing.assert_close(u, v)
        x = torch.randn(2, c_in, size, size, dtype=torch.double, requires_grad=True)
        w = torch.randn(c_in, c_out, k, k, dtype=torch.double, requires_grad=True)
        conv = lambda x, w: _MatmulConvTranspose.apply(x, w, s, p)  # noqa: E731
        assert torch.autograd.gradcheck(conv, (x, w))
        assert torch.autograd.gradgradcheck(conv, (x, w))
    x = torch.randn(2, 5, 3, 3)  # output padding: torch's own path
    ours = MatmulConvTranspose2d(5, 2, 3, 2, 1, output_padding=1)
    torch.testing.assert_close(ours(x), nn.functional.conv_transpose2d(
        x, ours.weight, ours.bias, stride=2, padding=1, output_padding=1))


def test_up_conv_computes_as_a_matrix_product_only_where_that_was_measured_faster():
    """blocks.matmul_pays: inputs of at most 3x3 and one-channel outputs take the matrix
    product, the rest torch's layer; the speed benchmarks' peers get torch's layer back."""
    from torch import nn
    from gankit.models.blocks import MatmulConvTranspose2d, as_torch_layers, up_conv
    kinds = [type(up_conv(*args, "transposed", False)) for args in [
        (64, 256, 3, 2, 0, 1), (256, 128, 4, 1, 0, 3), (64, 1, 4, 2, 0, 13),
        (128, 64, 4, 2, 1, 8), (64, 3, 4, 2, 1, 32)]]
    assert kinds == [MatmulConvTranspose2d] * 3 + [nn.ConvTranspose2d] * 2
    net = nn.Sequential(up_conv(64, 256, 3, 2, 0, 1, "transposed", False))
    assert type(as_torch_layers(net)[0]) is nn.ConvTranspose2d


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
