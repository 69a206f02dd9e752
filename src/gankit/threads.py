"""CPU threads that hold up on a shared machine: a passive OpenMP wait, then every core.

torch's CPU kernels run on an OpenMP team whose threads, by default, spin at the end of every
parallel region waiting for the next. gankit's layers are small, so a step is thousands of
short regions: when another process takes one of the cores, the team keeps waiting for its
descheduled member, and on this project's 2-core machine two threads fell from about 850 to
290 images/s (dcgan-course-exact; the MLP GAN from 3,000 to 200). With OMP_WAIT_POLICY=PASSIVE
the waiting threads sleep instead: two threads then train at 500 images/s beside a busy
process (one thread: 530) and at 940 alone (one thread: 550), before channels_last.
`benchmarks/speed.py --shared` measures every preset these ways (docs/benchmarks.md).

libgomp reads the variable once, when torch loads it, so `gankit` sets it (unless the user
set it) before anything imports torch; `auto_threads` uses every core only where the policy
took effect, one thread otherwise.
"""

import os
import sys

if "torch" not in sys.modules:  # gankit imported first: the setting reaches libgomp
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def passive_wait() -> bool:
    """Whether torch's OpenMP threads sleep, not spin, while they wait."""
    return os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"


def auto_threads() -> int:
    """train.threads=0: with a passive wait, OMP_NUM_THREADS if set, else the CPUs this process
    may use shared among torchrun's processes on this machine; with a spinning team, which
    collapses as soon as another process runs, one thread."""
    if not passive_wait():
        return 1
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cpus or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
