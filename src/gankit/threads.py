"""CPU threads that hold up on a shared machine: a brief spin, then sleep; every core while
no other process wants one, one fewer for each that does.

torch's CPU kernels run on an OpenMP team whose threads, by default, spin for 300,000 turns
at the end of every parallel region waiting for the next. gankit's layers are small, so a
step is thousands of short regions. Alone, the spin pays: a woken thread costs more than the
region. Beside another process it ruins the step: the team keeps waiting for its descheduled
member (two threads of dcgan-course-exact fell from 1,194 to 371 images/s beside one busy
process on this project's 2-core machine). Measured there (ms per step of dcgan-course-exact,
alone / beside a busy process): a passive wait (no spin) 136-145 / 204-216; a 30,000-turn
spin 109-118 / 420-508; 100,000 turns - / 784-976; libgomp's default (300,000) 102-119 alone.

So gankit takes both halves: GOMP_SPINCOUNT=30000 with OMP_WAIT_POLICY=PASSIVE (spin that
long, then sleep), and `ThreadGovernor` watches the other processes' CPU time while training
and gives up one thread per core they take (one thread has no team to wait for), taking it
back when they stop. libgomp reads both variables once, when torch loads it, so `gankit`
sets them (unless the user set them) before anything imports torch; `auto_threads` uses
every core only where they took effect, one thread otherwise.
"""

import ctypes
import ctypes.util
import os
import sys

import time

if "torch" not in sys.modules:  # gankit imported first: the settings reach libgomp
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("GOMP_SPINCOUNT", "30000")


def passive_wait() -> bool:
    """Whether torch's OpenMP threads sleep, after a brief spin at most, while they wait."""
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


class ThreadGovernor:
    """torch's thread count while training on a CPU: `most` while the machine is free, one
    fewer for each core that other processes keep busy, never under one.

    `tick()` is cheap (a clock read); once a second it reads the machine's busy time
    (/proc/stat) and this process's own (os.times) and sets the count from what the others
    used in that second. Where /proc/stat is missing it does nothing.
    """

    STAT = "/proc/stat"

    def __init__(self, most: int, every_s: float = 1.0):
        self.most, self.every_s = most, every_s
        self.threads = most
        self.enabled = most > 1 and os.path.exists(self.STAT)
        self.hz = os.sysconf("SC_CLK_TCK") if self.enabled else 100
        self._last = self._sample() if self.enabled else None

    def _sample(self) -> tuple[float, float, float]:
        """(wall s, every process's busy CPU s, this process's CPU s)."""
        with open(self.STAT) as f:
            cpu = [int(v) for v in f.readline().split()[1:]]
        busy = sum(cpu) - cpu[3] - (cpu[4] if len(cpu) > 4 else 0)  # all but idle and iowait
        mine = os.times()
        return time.monotonic(), busy / self.hz, mine.user + mine.system

    def others(self, before, now) -> float:
        """Cores the other processes kept busy between two samples."""
        wall = now[0] - before[0]
        return max(0.0, (now[1] - before[1]) - (now[2] - before[2])) / wall if wall > 0 else 0.0

    def tick(self) -> int:
        """The thread count to use now (changed in torch when it changes)."""
        if not self.enabled or time.monotonic() - self._last[0] < self.every_s:
            return self.threads
        now = self._sample()
        taken = self.others(self._last, now)
        self._last = now
        # A core 40 % busy counts as taken: a team thread waiting for a descheduled member
        # costs more than the thread given up.
        want = max(1, self.most - int(taken + 0.6))
        if want != self.threads:
            import torch  # here: gankit.threads is imported before torch, on purpose
            torch.set_num_threads(want)
            self.threads = want
        return self.threads
