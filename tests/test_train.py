import json

import pytest
import torch
from safetensors.torch import load_file

from gankit.config import apply_overrides, load_preset, preset_names
from gankit.errors import GankitError
from gankit.models.snapshot import load_snapshot
from gankit.stats import COLLECTOR
from gankit.training import loop, run
from gankit.training.protocol import trainer_class

# Small enough that every preset trains a step in about a second on a CPU.
FAST = ["train.steps=1", "train.batch_size=8", "train.n_samples=4", "train.device=cpu"]


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_trains_a_step(name, tmp_path, request, image_folder):
    cfg = apply_overrides(load_preset(name), FAST)
    if cfg.data.name == "fashion":  # only these presets need the shared Fashion-MNIST file
        cfg.data.path = str(request.getfixturevalue("fashion_npz"))
    elif cfg.data.name == "folder":
        cfg.data.path = str(image_folder)
    run_dir, grid = run.start(cfg, str(tmp_path / "run"))
    assert grid.is_file() and grid.stat().st_size > 0
    names = {p.name for p in run_dir.iterdir()}
    assert {"config.json", "stats.jsonl", "samples", "generator.safetensors", "generator.json",
            "state.pt"} <= names
    record = json.loads((run_dir / "stats.jsonl").read_text().splitlines()[-1])
    assert record["step"] == 1
    names = list(trainer_class(cfg).bar_names)  # reported by every trainer of its kind
    assert all(k in record and f"{k}_std" in record for k in names)
    assert all(torch.isfinite(torch.tensor(float(v))) for v in record.values())
    G, meta = load_snapshot(run_dir)
    assert meta["model"] == cfg.model.name and meta["gankit_version"]
    y = torch.tensor([0, 1]) if meta["kwargs"].get("n_classes") else None
    x = G(torch.randn(2, G.z_dim), y)
    assert tuple(x.shape[1:]) == tuple(meta["data_shape"])


def step_means(trainer) -> dict:
    """One train_step's reported statistics: {name: mean}."""
    COLLECTOR.reset()
    trainer.train_step()
    return {k: s.mean for k, s in COLLECTOR.read().items()}


def tiny(steps, *more):
    return apply_overrides(load_preset("dcgan-mnist"),
                           [f"train.steps={steps}", "train.batch_size=16", "model.g_hidden=8",
                            "model.d_hidden=8", "train.device=cpu", "train.log_every=2",
                            "train.sample_every=2", "train.ckpt_every=2", *more])


def weights(run_dir):
    state = torch.load(run_dir / "state.pt", weights_only=True)
    return state["trainer"]


def test_resume_is_bit_identical(tmp_path):
    # 10 steps straight, versus 5 steps, then resume and extend to 10.
    straight, _ = run.start(tiny(10), str(tmp_path / "a"))
    half, _ = run.start(tiny(5), str(tmp_path / "b"))
    run.resume(str(half), ["train.steps=10"])
    a, b = weights(straight), weights(half)
    assert a["step"] == b["step"] == 10
    for part in ("G", "D"):
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), f"{part}.{key} differs"
    for part in ("opt_g", "opt_d"):
        for pid, s in a[part]["state"].items():
            assert torch.equal(s["exp_avg"], b[part]["state"][pid]["exp_avg"])
    ga = load_file(straight / "generator.safetensors")
    gb = load_file(half / "generator.safetensors")
    assert all(torch.equal(ga[k], gb[k]) for k in ga)
    lines = (half / "stats.jsonl").read_text().splitlines()
    assert [json.loads(l)["step"] for l in lines] == [2, 4, 5, 6, 8, 10]


def test_resume_with_evaluations_during_training_is_bit_identical(tmp_path):
    """train.eval_every builds the evaluator, whose layers draw initial weights: that must not
    move the training RNG, or a resumed run would differ from a straight one."""
    more = ("train.eval_every=3", "train.eval_n=20")
    straight, _ = run.start(tiny(6, *more), str(tmp_path / "a"))     # evaluates at 3 and 6
    half, _ = run.start(tiny(4, *more), str(tmp_path / "b"))         # at 3, and 4 (its end)
    run.resume(str(half), ["train.steps=6"])
    a, b = weights(straight), weights(half)
    for part in ("G", "D"):
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), f"{part}.{key} differs"
    assert sum("metrics" in line for line in (half / "stats.jsonl").read_text().splitlines()) == 3


def test_resume_to_fewer_steps_is_refused_and_a_time_limit_gives_a_new_allowance(tmp_path,
                                                                                monkeypatch):
    done, _ = run.start(tiny(4), str(tmp_path / "a"))
    config = (done / "config.json").read_text()
    with pytest.raises(GankitError, match="fewer than the 4 steps"):
        run.resume(str(done), ["train.steps=2"])
    assert (done / "config.json").read_text() == config       # nothing rewritten
    # A run stopped by its time limit: resuming it trains on, for a limit of its own.
    clock = iter(range(0, 10_000, 10))                         # each reading: 10 s later
    monkeypatch.setattr(loop.time, "perf_counter", lambda: float(next(clock)))
    limited, _ = run.start(tiny(20, "train.time_limit=25"), str(tmp_path / "b"))
    first = weights(limited)["step"]
    run.resume(str(limited), [])
    assert 0 < first < weights(limited)["step"] < 20


def test_a_failed_start_leaves_no_run_directory(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise GankitError("planted failure while building the run")
    monkeypatch.setattr(run, "Training", broken)
    with pytest.raises(GankitError, match="planted"):
        run.start(tiny(2), str(tmp_path / "r"))
    assert not (tmp_path / "r").exists()


def test_resume_of_a_finished_run_extends_it(tmp_path):
    run_dir, _ = run.start(tiny(2), str(tmp_path / "r"))
    run.resume(str(run_dir), ["train.steps=4"])
    assert weights(run_dir)["step"] == 4
    assert json.loads((run_dir / "config.json").read_text())["train"]["steps"] == 4
    assert (run_dir / "samples" / "step-000004.png").is_file()


def test_runs_are_numbered_and_never_reused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first, _ = run.start(tiny(1), None)
    second, _ = run.start(tiny(1), None)
    assert first.name == "00000-dcgan-mnist" and second.name == "00001-dcgan-mnist"
    assert first.parent.name == second.parent.name == "runs"


def test_samples_use_one_fixed_noise_in_eval_mode(tmp_path):
    cfg = tiny(2)
    r = loop.Training(cfg, tmp_path, cfg.data.load(seed=cfg.train.seed))
    a = r.trainer.sample(r.fixed_z)
    b = r.trainer.sample(r.fixed_z)
    assert torch.equal(a, b)  # eval mode: no batch statistics, no randomness
    assert r.trainer.G.training  # and back to training mode afterwards


def test_d_steps_k_updates_d_k_times(tmp_path):
    cfg = tiny(1, "train.d_steps=3")
    r = loop.Training(cfg, tmp_path, cfg.data.load(seed=cfg.train.seed))
    r.trainer.train_step()
    d_state = r.trainer.opt_d.state_dict()["state"]
    g_state = r.trainer.opt_g.state_dict()["state"]
    assert int(next(iter(d_state.values()))["step"]) == 3
    assert int(next(iter(g_state.values()))["step"]) == 1


def test_g_step_goes_through_a_frozen_d(tmp_path):
    """G's update must leave no gradient on D: D's grads after a full step are exactly those
    its own optimizer stepped with."""
    cfg = tiny(1)
    r = loop.Training(cfg, tmp_path, cfg.data.load(seed=cfg.train.seed))
    t = r.trainer
    seen = {}
    d_step = t.opt_d.step

    def record_then_step(*args, **kwargs):
        seen["grads"] = [p.grad.clone() for p in t.D.parameters()]
        return d_step(*args, **kwargs)

    t.opt_d.step = record_then_step
    t.train_step()
    assert all(torch.equal(p.grad, g) for p, g in zip(t.D.parameters(), seen["grads"]))
    assert all(p.requires_grad for p in t.D.parameters())  # unfrozen again for the next D step
    assert all(p.grad is not None for p in t.G.parameters())


def test_ema_update_is_exact_on_known_numbers(tmp_path):
    cfg = tiny(1, "train.ema_decay=0.5")
    r = loop.Training(cfg, tmp_path, cfg.data.load(seed=cfg.train.seed))
    t = r.trainer
    p = next(t.G.parameters())
    ema_p = next(t.G_ema.module.parameters())
    with torch.no_grad():
        p.fill_(1.0)
        t.G_ema.update_parameters(t.G)      # first update copies: 1
        assert torch.all(ema_p == 1.0)
        p.fill_(12.0)
        t.G_ema.update_parameters(t.G)      # decay min(0.5, 2/11) = 2/11: 1 + 11 * 9/11 = 10
        assert torch.allclose(ema_p, torch.full_like(ema_p, 10.0))
        p.fill_(0.0)
        t.G_ema.update_parameters(t.G)      # decay min(0.5, 3/12) = 0.25: 10 * 0.25 = 2.5
        assert torch.allclose(ema_p, torch.full_like(ema_p, 2.5))
    assert r.trainer.generator is t.G_ema.module


def test_resume_with_ema_is_bit_identical(tmp_path):
    straight, _ = run.start(tiny(6, "train.ema_decay=0.9"), str(tmp_path / "a"))
    half, _ = run.start(tiny(3, "train.ema_decay=0.9"), str(tmp_path / "b"))
    run.resume(str(half), ["train.steps=6"])
    ga = load_file(straight / "generator.safetensors")
    gb = load_file(half / "generator.safetensors")
    assert all(torch.equal(ga[k], gb[k]) for k in ga)


def record_d_inputs(trainer):
    """Wrap D so every input it sees in training is kept."""
    seen, forward = [], trainer.D.forward

    def spy(x, y=None):
        seen.append(x.detach().clone())
        return forward(x, y)

    trainer.D.forward = spy
    return seen


def test_diffaugment_reaches_every_d_input_real_and_fake(tmp_path):
    cfg = tiny(1, "train.diffaugment=cutout", "train.d_steps=2")
    t = loop.Training(cfg, tmp_path, cfg.data.load(seed=cfg.train.seed)).trainer
    seen = record_d_inputs(t)
    t.train_step()
    assert len(seen) == 2 * 2 + 1             # real and fake per D step, fake in G's step
    for x in seen:                            # cutout zeroes a 14x14 square (clipped at edges)
        assert torch.all((x == 0).flatten(1).sum(1) >= 49)


def test_instance_noise_is_annealed_on_d_inputs(tmp_path):
    cfg = tiny(1, "loss.instance_noise=0.5", "loss.noise_kimg=0.032")  # 0 after 2 D steps of 16
    r = loop.Training(cfg, tmp_path, cfg.data.load(seed=cfg.train.seed))
    t = r.trainer
    seen = record_d_inputs(t)
    assert t.noise_sigma == 0.5
    t.train_step()
    real = seen[0]                            # real MNIST lies in [-1, 1]; noise leaves it
    assert real.abs().max() > 1.2
    assert t.noise_sigma == pytest.approx(0.25)
    t.train_step()
    assert t.noise_sigma == 0.0
    seen.clear()
    t.train_step()
    assert seen[0].abs().max() <= 1.0         # clean again once sigma reached 0


def test_wgan_gp_step_updates_the_critic_five_times_with_a_penalty(tmp_path, monkeypatch):
    cfg = tiny(1, "loss.d_loss=wgan-gp", "model.d_bn=false", "train.d_steps=5")
    t = loop.Training(cfg, tmp_path, cfg.data.load(seed=cfg.train.seed)).trainer
    import gankit.training.gan as trainer_module
    calls = []
    gp = trainer_module.gradient_penalty

    def counted(critic, real, fake):
        calls.append(critic)
        return gp(critic, real, fake)

    monkeypatch.setattr(trainer_module, "gradient_penalty", counted)
    stats = step_means(t)
    assert len(calls) == 5 and all(c == t.judge for c in calls)  # through the one D call
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
    assert int(next(iter(t.opt_d.state_dict()["state"].values()))["step"]) == 5


def test_a_lazy_gradient_penalty_comes_every_gp_every_steps_scaled_up(tmp_path, monkeypatch):
    cfg = tiny(1, "loss.d_loss=wgan-gp", "model.d_bn=false", "train.d_steps=1",
               "loss.gp_every=3", "loss.gp_lambda=10")
    t = loop.Training(cfg, tmp_path, cfg.data.load(seed=cfg.train.seed)).trainer
    import gankit.training.gan as trainer_module
    calls = []

    def planted(critic, real, fake):         # a penalty of 1000: its weight shows in D's loss
        calls.append(t.d_updates)
        return torch.tensor(1000.0)

    monkeypatch.setattr(trainer_module, "gradient_penalty", planted)
    d_losses = [step_means(t)["d_loss"] for _ in range(4)]
    assert calls == [0, 3]                   # D updates 0 and 3 of 0..3
    assert d_losses[0] == pytest.approx(10 * 3 * 1000, abs=10)   # lambda * gp_every * penalty
    assert abs(d_losses[1]) < 10 and abs(d_losses[2]) < 10      # the critic's gap alone


def test_wgan_with_batchnorm_in_the_critic_is_refused(tmp_path):
    from gankit.errors import GankitError
    cfg = tiny(1, "loss.d_loss=wgan-gp")      # dcgan28's D keeps BatchNorm by default
    with pytest.raises(GankitError, match="needs a critic without BatchNorm.*model.d_bn=false"):
        run.start(cfg, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()    # refused before a run directory was made


def test_a_trainer_built_directly_in_python_is_refused_by_the_same_rules():
    from gankit.training.gan import GANTrainer
    cfg = tiny(1, "loss.d_loss=wgan-gp")
    with pytest.raises(GankitError, match="needs a critic without BatchNorm"):
        GANTrainer(cfg, cfg.data.load(seed=cfg.train.seed), torch.device("cpu"))


def test_resume_with_spectral_norm_is_bit_identical(tmp_path):
    more = ["model.d_bn=false", "model.d_spectral_norm=true", "loss.d_loss=hinge"]
    straight, _ = run.start(tiny(4, *more), str(tmp_path / "a"))
    half, _ = run.start(tiny(2, *more), str(tmp_path / "b"))
    run.resume(str(half), ["train.steps=4"])
    a, b = weights(straight), weights(half)
    assert any("parametrizations" in k for k in a["D"])
    assert all(torch.equal(a["D"][k], b["D"][k]) for k in a["D"])


def test_ema_half_life_in_kimg_is_exact_on_known_numbers(tmp_path):
    # batch 16 and a half-life of 16 images: decay 0.5 per step, when not ramped up.
    cfg = tiny(1, "train.ema_kimg=0.016", "train.ema_rampup=0")
    t = loop.Training(cfg, tmp_path, cfg.data.load(seed=cfg.train.seed)).trainer
    p, ema_p = next(t.G.parameters()), next(t.G_ema.module.parameters())
    with torch.no_grad():
        p.fill_(1.0)
        t.G_ema.update_parameters(t.G)      # first update copies: 1
        p.fill_(3.0)
        t.G_ema.update_parameters(t.G)      # 1 + (3 - 1) * 0.5 = 2
        assert torch.allclose(ema_p, torch.full_like(ema_p, 2.0))
        p.fill_(0.0)
        t.G_ema.update_parameters(t.G)      # 2 * 0.5 = 1
        assert torch.allclose(ema_p, torch.full_like(ema_p, 1.0))
    from gankit.training.gan import ema_decay
    # Ramped up: after 2 updates (32 images) the half-life is at most 5 % of 48 = 2.4 images.
    cfg.train.ema_rampup = 0.05
    assert ema_decay(cfg.train, 2) == pytest.approx(0.5 ** (16 / 2.4))
    cfg.train.ema_kimg = 10.0               # 10,000 images: reached after 12,500 updates
    assert ema_decay(cfg.train, 20_000) == pytest.approx(0.5 ** (16 / 10_000))
    assert ema_decay(cfg.train, 20_000) > 0.998


def test_hooks_drive_a_run_from_outside(tmp_path):
    """gankit.train's progress and abort hooks (StyleGAN2-ADA's progress_fn / abort_fn): the
    caller sees each logged step's means and stops the run, which ends as a time limit does."""
    import gankit
    ticks = []
    r = gankit.train("dcgan-mnist", {"train.steps": 50, "train.batch_size": 8, "model.g_hidden": 4,
                                     "model.d_hidden": 4, "train.device": "cpu", "train.log_every": 2,
                                     "train.report": False},
                     out=tmp_path / "run", progress=ticks.append, abort=lambda step: step >= 5)
    assert [t.step for t in ticks] == [2, 4, 5]                  # each logged step, and the end
    assert {"d_loss", "g_grad"} <= set(ticks[-1].means) and ticks[-1].stds["d_fake"] > 0
    assert ticks[-1].generator().card["step"] == 5
    assert r.stats[-1]["step"] == 5 and r.generator.card["step"] == 5   # snapshot at the stop


def test_gankit_train_is_a_function_and_the_old_module_names_still_import():
    """The trainer package is gankit.training; gankit.train is the API's call, and code written
    against the package's old name gets the very same modules (one class, one registry)."""
    import subprocess
    import sys
    code = ("import types, gankit\n"
            "from gankit.train.gan import GANTrainer\n"
            "from gankit.train import run, loop\n"
            "import gankit.train.protocol\n"
            "import gankit.training.gan, gankit.training.run, gankit.training.loop\n"
            "assert GANTrainer is gankit.training.gan.GANTrainer\n"
            "assert run is gankit.training.run and loop is gankit.training.loop\n"
            "assert isinstance(gankit.train, types.FunctionType)\n"
            "assert gankit.training.protocol.TRAINERS['gan'] is GANTrainer\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
