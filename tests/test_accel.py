"""train.precision / channels_last / compile change how the step runs, not what it computes."""
import pytest
import torch

from gankit.config import apply_overrides, load_preset
from gankit.data import load_data
from gankit.errors import GankitError
from gankit.stats import COLLECTOR
from gankit.training import accel
from gankit.training.gan import GANTrainer as Trainer

TINY = ["train.batch_size=16", "model.g_hidden=8", "model.d_hidden=8", "train.ema_decay=0"]


def step_stats(*overrides):
    cfg = apply_overrides(load_preset("dcgan-mnist"), TINY + list(overrides))
    torch.manual_seed(0)
    trainer = Trainer(cfg, load_data("mnist"), torch.device("cpu"))
    stats = []
    for _ in range(2):  # each step's reported means (the lazy R1 penalty's left out)
        COLLECTOR.reset()
        trainer.train_step()
        tick = COLLECTOR.read()
        stats.append(torch.tensor([tick[k].mean for k in sorted(trainer.bar_names)]
                                  + [tick[k].mean for k in ("g_grad", "d_grad")]))
    return trainer, torch.stack(stats)


def test_channels_last_gives_the_same_step():
    _, base = step_stats()
    trainer, nhwc = step_stats("train.channels_last=true")
    conv = next(m for m in trainer.D.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(nhwc, base, rtol=1e-4, atol=1e-5)


def test_bf16_autocast_runs_in_bf16_and_stays_close():
    _, base = step_stats()
    trainer, bf16 = step_stats("train.precision=bf16")
    assert isinstance(trainer.G_net, accel.Autocast)
    assert next(trainer.G.parameters()).dtype == torch.float32  # weights stay float32
    with torch.no_grad():
        out = trainer.G_net(torch.randn(2, trainer.cfg.model.z_dim))
    assert out.dtype == torch.float32
    assert not torch.equal(bf16, base)                     # bf16 rounding did happen
    torch.testing.assert_close(bf16, base, rtol=0.05, atol=0.05)


def test_bad_precision_and_compile_with_r1_are_refused():
    cfg = apply_overrides(load_preset("dcgan-mnist"), ["train.precision=fp16"])
    with pytest.raises(GankitError, match="train.precision must be one of fp32, bf16"):
        cfg.validate()
    cfg = apply_overrides(load_preset("toy-ring"), ["train.compile=true"])
    with pytest.raises(GankitError, match="train.compile cannot be used with loss.r1_gamma"):
        cfg.validate()
    cfg = apply_overrides(load_preset("wgan-gp-mnist"), ["train.compile=true"])
    with pytest.raises(GankitError, match="train.compile cannot be used"):  # the GP: same check
        cfg.validate()
