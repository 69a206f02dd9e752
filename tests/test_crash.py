"""A training run killed (SIGKILL) at any moment leaves a directory that `--resume` either
finishes, with the weights of a run never interrupted, or refuses in one line; stale
temporary files are cleared and a run killed before its first checkpoint trains again."""

import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from tqdm.auto import tqdm as auto_tqdm
from tqdm.std import tqdm

from gankit import rundir
from gankit.cli import main

TINY = ["--set", "train.steps=6", "--set", "train.batch_size=8", "--set", "model.g_hidden=4",
        "--set", "model.d_hidden=4", "--set", "train.n_samples=4", "--set", "train.device=cpu",
        "--set", "train.report=false", "--set", "train.log_every=1", "--set",
        "train.sample_every=3", "--set", "train.ckpt_every=1", "--set", "train.threads=1"]


def _train(argv):  # the child: gankit train, silent
    # tqdm's default write lock is a process-shared semaphore, inherited through fork: a child
    # SIGKILLed while holding it would leave the parent's next progress bar waiting forever.
    for bar_class in (tqdm, auto_tqdm):  # gankit's bars are both kinds
        bar_class.set_lock(threading.RLock())
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os._exit(main(argv))


def train_process(out: Path):
    """`gankit train` in a forked child: the parent's imports are shared, so a start costs
    milliseconds instead of the seconds of a fresh interpreter, and 20+ kills stay cheap."""
    p = multiprocessing.get_context("fork").Process(target=_train, args=(["train", "--out", str(out),
                                                                          *TINY],))
    p.start()
    return p


def final_state(run_dir: Path) -> dict:
    return torch.load(run_dir / "state.pt", weights_only=True)["trainer"]


def same_weights(a: dict, b: dict) -> bool:
    return all(torch.equal(a[net][k], b[net][k]) for net in ("G", "D") for k in a[net])


def steps_logged(run_dir: Path) -> list:
    return [r["step"] for r in rundir.read_jsonl(run_dir / rundir.STATS)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("crash") / "ref"
    start = time.perf_counter()
    p = train_process(out)
    p.join()
    assert p.exitcode == 0
    return out, time.perf_counter() - start


def resume_or_refuse(run_dir: Path, capsys) -> bool:
    """True if --resume finished the run; False if it refused it in one line."""
    code = main(["train", "--resume", str(run_dir)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    if code == 2:
        assert len(err) == 1 and "Traceback" not in err[0], err
        assert not run_dir.exists() or not (run_dir / "state.pt").exists(), err
        return False
    assert code == 0, err
    return True


def test_sigkill_at_random_moments_resumes_to_the_same_weights(reference, tmp_path, capsys):
    ref, seconds = reference
    ref_state, ref_steps = final_state(ref), steps_logged(ref)
    rng = random.Random(17)
    finished = refused = 0
    for i in range(24):
        run_dir = tmp_path / f"run{i}"
        p = train_process(run_dir)
        time.sleep(rng.uniform(0, seconds))
        p.kill()  # SIGKILL: no handler, no cleanup
        p.join()
        if resume_or_refuse(run_dir, capsys):
            finished += 1
            assert same_weights(final_state(run_dir), ref_state), f"kill {i}"
            assert steps_logged(run_dir) == ref_steps, f"kill {i}"
            assert not list(run_dir.rglob(".*.tmp"))
        else:
            refused += 1
    assert finished >= 12, (finished, refused)  # most kills land after the directory exists


def test_a_killed_python_m_gankit_train_resumes(reference, tmp_path, capsys):
    """The same through a fresh interpreter, once: what a user's Ctrl-\\ or OOM kill does."""
    ref, _ = reference
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "gankit", "train", "--out", str(run_dir), *TINY],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (run_dir / "state.pt").exists() and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    assert resume_or_refuse(run_dir, capsys)
    assert same_weights(final_state(run_dir), final_state(ref))


def test_stale_temporaries_go_and_a_run_without_a_checkpoint_trains_again(reference, tmp_path,
                                                                          capsys):
    ref, _ = reference
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / rundir.CONFIG).write_bytes((ref / rundir.CONFIG).read_bytes())
    (run_dir / ".state.pt.1a2b3c4d.tmp").write_bytes(b"half a state")
    (run_dir / "samples").mkdir()
    (run_dir / "samples" / ".step-000003.png.00ff00ff.tmp").write_bytes(b"half a picture")
    (run_dir / rundir.STATS).write_text('{"step": 1, "d_loss": 1.0}\n{"step": 2, "d_lo')
    assert main(["train", "--resume", str(run_dir)]) == 0
    err = capsys.readouterr().err
    assert "stopped before its first checkpoint" in err and "from step 0" in err
    assert not list(run_dir.rglob(".*.tmp"))
    assert same_weights(final_state(run_dir), final_state(ref))
    assert steps_logged(run_dir) == steps_logged(ref)


def test_an_empty_or_missing_directory_is_refused_in_one_line(tmp_path, capsys):
    for d in (tmp_path / "never-made", tmp_path):
        assert not resume_or_refuse(d, capsys)


def test_a_snapshot_without_its_state_is_refused_not_retrained(reference, tmp_path, capsys):
    """A finished run whose state.pt is gone keeps its generator: --resume will not train
    over it from step 0."""
    ref, _ = reference
    run_dir = shutil.copytree(ref, tmp_path / "run")
    (run_dir / "state.pt").unlink()
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    assert main(["train", "--resume", str(run_dir)]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and "generator snapshot but no state.pt" in line
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before
