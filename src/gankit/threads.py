"""CPU threads that hold up on a shared machine: a passive OpenMP wait, then every core.

torch's CPU kernels run on an OpenMP team whose threads, by default, spin at the end of every
parallel region waiting for the next. gankit's layers are small, so a step is thousands of
short regions: when another process takes one of the cores, the team keeps waiting for its
descheduled member: on this project's 2-core machine two threads of dcgan-course-exact fell
from 1,194 to 371 images/s beside one busy process. With OMP_WAIT_POLICY=PASSIVE the waiting
threads sleep instead: two threads then trained at 1,224 images/s alone and 644 beside the
busy process, where one thread did 688 and 702 (`benchmarks/speed.py --shared`, every preset
in docs/benchmarks.md).

libgomp reads the variable once, when torch loads it, so `gankit` sets it (unless the user
set it) before anything imports torch; `auto_threads` uses every core only where the policy
took effect, one thread otherwise.
"""

import ctypes
import ctypes.util
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


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse rather than hand it back to the system.

    By default glibc serves every block over its mmap threshold with a fresh mmap and unmaps
    it on free, and trims the heap's top whenever 128 kB are free: a training step frees and
    re-allocates the same activations each time, so each step's tensors arrive as new pages,
    each zeroed by the kernel on first touch. With the settings below, 65 steps of
    dcgan-course-exact took 102,000 page faults instead of 450,000, and its steps ran 10 to
    20 % faster on this project's 2-core machine (whole runs: `benchmarks/speed.py --whole`).
    The cost: the process keeps its peak heap until it exits, as PyTorch's caching allocator
    does on a GPU. No library of the field sets this for a CPU run (Intel's guide preloads
    jemalloc or tcmalloc instead, which a pip install cannot do), hence the three mallopt
    calls. Not glibc: nothing to do.
    """
    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3  # glibc's malloc.h
        return all([libc.mallopt(m_mmap_threshold, 32 << 20),  # glibc's largest (32 MB)
                    libc.mallopt(m_trim_threshold, 1 << 30),
                    libc.mallopt(m_top_pad, 64 << 20)])
    except (OSError, AttributeError):  # a libc without mallopt (musl)
        return False
