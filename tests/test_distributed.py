"""torchrun + DistributedDataParallel on the CPU (gloo), two processes: train, checkpoint, resume."""
import json
import os
import subprocess
import sys

import pytest
import torch.distributed as dist

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="this torch build has no gloo backend")

TINY = ["--set", "train.batch_size=8", "--set", "train.log_every=2", "--set", "train.device=cpu",
        "--set", "train.ckpt_every=2", "--set", "train.sample_every=4", "--set", "train.threads=1",
        "--set", "model.g_hidden=8", "--set", "model.d_hidden=8"]


def torchrun(*args, cwd):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                           "--standalone", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_torchrun_trains_checkpoints_and_resumes(tmp_path):
    out = tmp_path / "run"
    p = torchrun("-m", "gankit", "train", "--set", "train.steps=4", *TINY, "--out", str(out),
                 cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.count("run directory:") == 1  # one process reports, one writes
    world = json.loads((out / "config.json").read_text())["world"]
    assert world == {"size": 2, "batch_per_process": 8, "effective_batch": 16}
    lines = [json.loads(x) for x in (out / "stats.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [2, 4]
    assert lines[-1]["kimg"] == pytest.approx(4 * 16 / 1000)  # images over both processes

    import torch
    state = torch.load(out / "state.pt", weights_only=True)
    assert state["world_size"] == 2 and len(state["ranks"]) == 2
    # each process drew its own batches
    assert not torch.equal(state["ranks"][0]["sampler"]["perm"], state["ranks"][1]["sampler"]["perm"])

    p = torchrun("-m", "gankit", "train", "--resume", str(out), "--set", "train.steps=6",
                 cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    steps = [json.loads(x)["step"] for x in (out / "stats.jsonl").read_text().splitlines()]
    assert steps == [2, 4, 6]
    assert (out / "samples" / "step-000004.png").is_file()

    # A different world size cannot pick up the per-process batch orders: one clear line.
    p = subprocess.run([sys.executable, "-m", "gankit", "train", "--resume", str(out),
                        "--set", "train.steps=8"], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 2
    assert "trained by 2 process(es)" in p.stderr and "Traceback" not in p.stderr


SYNC_CHECK = """
import hashlib, torch
from gankit.config import apply_overrides, load_preset
from gankit.training import loop, run
from gankit.training.distributed import init_world
cfg = apply_overrides(load_preset("dcgan-mnist"), ["train.batch_size=8", "train.device=cpu",
      "model.g_hidden=8", "model.d_hidden=8", "loss.r1_gamma=1", "train.ema_decay=0.9"])
world = init_world("cpu")
r = loop.Training(cfg, ".", cfg.data.load(seed=cfg.train.seed), world=world)
for _ in range(3):
    r.trainer.train_step()
digest = lambda m: hashlib.sha1(b"".join(p.detach().numpy().tobytes() for p in m.parameters())).hexdigest()
with open(f"digest-{world.rank}.txt", "w") as f:
    f.write(" ".join([digest(r.trainer.G), digest(r.trainer.D), digest(r.trainer.G_ema)]))
"""


def test_ddp_keeps_every_process_on_the_same_weights(tmp_path):
    """Different batches and noise on each process, yet G, D and G's EMA stay identical."""
    script = tmp_path / "sync.py"
    script.write_text(SYNC_CHECK)
    p = torchrun(str(script), cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    first, second = ((tmp_path / f"digest-{rank}.txt").read_text() for rank in (0, 1))
    assert len(first.split()) == 3 and first == second
