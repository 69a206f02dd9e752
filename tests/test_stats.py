"""The statistics collector (`gankit.stats`): report from anywhere, read mean, std and count."""
import math

import pytest
import torch

from gankit import stats
from gankit.stats import Collector


def test_mean_std_and_count_over_scalars_batches_and_numbers():
    c = Collector()
    c.report("loss", torch.tensor(1.0))
    c.report("loss", torch.tensor(3.0))
    c.report("score", torch.tensor([0.0, 1.0, 1.0, 0.0]))      # each element one sample
    c.report("sigma", 0.5)                                     # a number stays on the host
    c.report("sigma", 1.5)
    tick = c.read()
    assert tick["loss"] == stats.Stat(2.0, 1.0, 2)
    assert tick["score"].mean == 0.5 and tick["score"].std == 0.5 and tick["score"].count == 4
    assert tick["sigma"].mean == 1.0 and tick["sigma"].std == pytest.approx(0.5)


def test_values_are_detached_and_read_leaves_the_sums_until_reset():
    c = Collector()
    w = torch.ones(3, requires_grad=True)
    c.report("loss", (w * 2).sum())                            # holds no graph
    assert c._pending[0][1].grad_fn is None
    assert c.read()["loss"].mean == 6.0 and c.read()["loss"].count == 1  # a read keeps them
    c.reset()
    assert c.read() == {}


def test_many_reports_are_folded_so_memory_stays_bounded():
    c = Collector()
    for i in range(3 * stats.FOLD_AT + 5):
        c.report("x", torch.tensor(float(i % 2)))
    assert len(c._pending) < stats.FOLD_AT
    tick = c.read()["x"]
    assert tick.count == 3 * stats.FOLD_AT + 5 and tick.mean == pytest.approx(0.5, abs=1e-3)


def test_a_non_finite_value_shows_in_the_mean():
    c = Collector()
    c.report("g_grad", torch.tensor(float("nan")))
    c.report("g_grad", torch.tensor(1.0))
    assert math.isnan(c.read()["g_grad"].mean)


def test_the_reduction_sums_over_processes():
    """`reduce` is World.sum: two processes' identical sums read as one twice as long run."""
    c = Collector()
    c.report("d_loss", torch.tensor([1.0, 2.0]))
    tick = c.read(reduce=lambda t: t * 2)
    assert tick["d_loss"].count == 4 and tick["d_loss"].mean == 1.5


def test_a_training_run_logs_means_and_stds_of_what_the_trainer_reports(tmp_path):
    from gankit.config import apply_overrides, load_preset
    from gankit.rundir import STATS, read_jsonl
    from gankit.training import run
    cfg = apply_overrides(load_preset("dcgan-mnist"), [
        "train.steps=4", "train.log_every=2", "train.batch_size=8", "model.g_hidden=4",
        "model.d_hidden=4", "train.device=cpu", "train.report=false", "loss.r1_every=1"])
    run_dir, _ = run.start(cfg, str(tmp_path / "run"))
    rows = read_jsonl(run_dir / STATS)
    assert [r["step"] for r in rows] == [2, 4]
    for r in rows:  # the old keys (means) stay; each has its std; the penalty reported itself
        assert {"d_loss", "g_loss", "d_fake", "d_grad", "d_fake_std", "r1_penalty"} <= set(r)
        assert 0 <= r["d_acc_fake"] <= 1 and r["d_fake_std"] > 0
