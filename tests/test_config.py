import pytest

from gankit.config import (DEFAULT_PRESET, apply_overrides, from_dict, load_preset, preset_names,
                           validate)
from gankit.errors import GankitError

REQUIRED_PRESETS = {"mlp-mnist", "dcgan-mnist", "dcgan-fashion", "dcgan64-folder", "toy-ring",
                    "toy-grid", "dcgan-course", "dcgan-course-exact", "mlp-mnist-course-exact",
                    "wgan-gp-mnist-course-exact", "cgan-mnist-course-exact"}


def test_required_presets_exist_and_validate():
    assert REQUIRED_PRESETS <= set(preset_names())
    assert DEFAULT_PRESET == "mlp-mnist"
    for name in preset_names():
        cfg = load_preset(name)
        validate(cfg)
        assert cfg.description


def test_course_exact_presets_are_the_course():
    c = load_preset("dcgan-course-exact")  # week 2
    assert (c.model.name, c.model.z_dim, c.model.g_hidden, c.model.d_hidden) == ("dcgan28", 64, 64, 16)
    assert c.model.upsample == "transposed" and c.model.d_input_bn and c.model.bn_init_mean == 0.0
    assert c.train.batch_size == 128 and c.train.steps == 50 * 469  # 50 epochs of 60k
    assert (c.optim.lr_g, c.optim.lr_d, c.optim.beta1, c.optim.beta2) == (2e-4, 2e-4, 0.5, 0.999)
    assert c.loss.d_loss == "bce"
    m = load_preset("mlp-mnist-course-exact")  # week 1
    assert (m.model.name, m.model.z_dim, m.model.g_hidden, m.model.d_hidden) == ("mlp", 64, 128, 128)
    assert m.train.batch_size == 128 and m.train.steps == 200 * 469  # 200 epochs of 60k
    assert (m.optim.lr_g, m.optim.lr_d, m.optim.beta1, m.optim.beta2) == (1e-5, 1e-5, 0.9, 0.999)
    assert m.loss.d_loss == "bce"
    w = load_preset("wgan-gp-mnist-course-exact")  # week 3 (its critic without BatchNorm)
    assert (w.model.name, w.model.z_dim, w.model.g_hidden, w.model.d_hidden) == ("dcgan28", 64, 64, 64)
    assert w.model.upsample == "transposed" and w.model.bn_init_mean == 0.0 and not w.model.d_bn
    assert w.train.batch_size == 128 and w.train.d_steps == 5 and w.train.steps == 100 * 469
    assert (w.optim.lr_g, w.optim.lr_d, w.optim.beta1, w.optim.beta2) == (2e-4, 2e-4, 0.5, 0.999)
    assert (w.loss.d_loss, w.loss.gp_lambda) == ("wgan-gp", 10.0)
    c = load_preset("cgan-mnist-course-exact")  # week 4: week 2's networks, both 64 wide
    assert (c.model.name, c.model.z_dim, c.model.g_hidden, c.model.d_hidden) == ("dcgan28", 64, 64, 64)
    assert (c.model.n_classes, c.model.d_cond, c.model.upsample) == (10, "concat", "transposed")
    assert c.model.d_input_bn and c.model.bn_init_mean == 0.0 and not c.model.d_full_view
    assert c.train.batch_size == 128 and c.train.steps == 200 * 469  # 200 epochs of 60k
    assert (c.optim.lr_g, c.optim.lr_d, c.optim.beta1, c.optim.beta2) == (2e-4, 2e-4, 0.9, 0.999)
    assert c.loss.d_loss == "bce" and c.train.ema_decay == 0


def test_course_presets_keep_the_course_networks():
    """The recipe presets may train differently, but their networks are the course's."""
    for name, exact in (("dcgan-course", "dcgan-course-exact"), ("mlp-mnist", "mlp-mnist-course-exact"),
                        ("wgan-gp-mnist", "wgan-gp-mnist-course-exact"),
                        ("cgan-mnist", "cgan-mnist-course-exact")):
        a, b = load_preset(name).model, load_preset(exact).model
        assert (a.name, a.z_dim, a.g_hidden, a.d_hidden, a.upsample, a.n_classes, a.d_cond) == \
            (b.name, b.z_dim, b.g_hidden, b.d_hidden, b.upsample, b.n_classes, b.d_cond)


def test_every_preset_picks_threads_that_hold_up_on_a_shared_machine():
    """Auto (every core, with the passive OpenMP wait gankit sets) or one thread: a spinning
    team collapses beside another process (gankit/threads.py, docs/benchmarks.md)."""
    for name in preset_names():
        assert load_preset(name).train.threads in (0, 1), name
    assert load_preset("mlp-mnist").train.threads == 0          # the default: auto


def wait_policy_in_a_fresh_interpreter(code: str, **env) -> list[str]:
    import os
    import subprocess
    import sys
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code + "\nimport os, gankit.threads as t\n"
                          "print(os.environ.get('OMP_WAIT_POLICY'), t.auto_threads())"],
                         env={**clean, **env}, check=True, capture_output=True, text=True)
    return out.stdout.split()


def test_import_gankit_before_torch_sets_a_passive_wait_and_uses_every_core():
    import os
    cores = str(len(os.sched_getaffinity(0)))
    assert wait_policy_in_a_fresh_interpreter("import gankit, torch") == ["PASSIVE", cores]
    # torch first: libgomp has read its setting already, so gankit leaves it and takes one thread
    assert wait_policy_in_a_fresh_interpreter("import torch, gankit") == ["None", "1"]
    # the user's own setting wins; a passive one the user set counts wherever torch came first
    assert wait_policy_in_a_fresh_interpreter("import gankit", OMP_WAIT_POLICY="active") == \
        ["active", "1"]
    assert wait_policy_in_a_fresh_interpreter("import torch, gankit", OMP_WAIT_POLICY="passive",
                                              OMP_NUM_THREADS="3") == ["passive", "3"]


def test_auto_threads_share_the_cores_among_torchrun_processes(monkeypatch):
    import os
    from gankit.threads import auto_threads
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    assert auto_threads() == 8
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    assert auto_threads() == 2
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "16")
    assert auto_threads() == 1


def test_overrides_are_typed():
    cfg = apply_overrides(load_preset("dcgan-mnist"),
                          ["train.steps=7", "optim.lr_g=1e-3", "model.upsample=resize",
                           "data.download=true", "loss.g_loss=minimax", "train.steps=1e3"])
    assert cfg.train.steps == 1000 and isinstance(cfg.train.steps, int)
    assert cfg.optim.lr_g == 1e-3 and cfg.model.upsample == "resize"
    assert cfg.data.download is True and cfg.loss.g_loss == "minimax"


@pytest.mark.parametrize("item, match", [
    ("train.stepz=5", "unknown config key 'train.stepz'"),
    ("nosection.x=1", "unknown config key"),
    ("train.steps=many", "train.steps must be int"),
    ("train.steps=2.5", "train.steps must be int"),
    ("data.download=maybe", "data.download must be bool"),
    ("train.steps", "key=value"),
])
def test_bad_overrides(item, match):
    with pytest.raises(GankitError, match=match):
        apply_overrides(load_preset("dcgan-mnist"), [item])


def test_unknown_preset():
    with pytest.raises(GankitError, match="unknown preset 'nope'"):
        load_preset("nope")


def test_validate_ranges():
    cfg = apply_overrides(load_preset("dcgan-mnist"), ["train.batch_size=0"])
    with pytest.raises(GankitError, match="batch_size"):
        validate(cfg)


def test_config_round_trips_through_dict():
    cfg = load_preset("toy-ring")
    assert from_dict(cfg.to_dict()) == cfg


def test_the_thread_governor_gives_a_core_to_a_busy_neighbour_and_takes_it_back(monkeypatch):
    """Fed samples of (wall s, machine busy s, own CPU s): a neighbour that keeps a core busy
    costs one thread; when it stops, the thread comes back; its own CPU time never counts."""
    import torch
    from gankit.threads import ThreadGovernor
    before = torch.get_num_threads()
    samples = iter([(0.0, 0.0, 0.0),
                    (1.0, 2.0, 1.9),     # only this process busy (both cores): keep 2
                    (2.0, 3.0, 2.9),     # itself on one core, nobody else: keep 2
                    (3.0, 5.0, 3.9),     # a neighbour took a core (1.0 s of 1 s): 1
                    (4.0, 7.0, 4.9),     # still there: 1
                    (5.0, 8.0, 5.9)])    # gone: 2 again
    monkeypatch.setattr(ThreadGovernor, "_sample", lambda self: next(samples))
    try:
        g = ThreadGovernor(most=2, every_s=0.0)
        g.enabled = True
        seen = [g.tick() for _ in range(5)]
        assert seen == [2, 2, 1, 1, 2]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_thread_governor_leaves_one_thread_alone():
    from gankit.threads import ThreadGovernor
    g = ThreadGovernor(most=1)
    assert not g.enabled and g.tick() == 1
