"""CPU thread counts fixed by the machine, never by its momentary load.

torch splits each parallel reduction and matrix product into one chunk per intra-op thread, so the thread
count decides how floating-point sums are ordered: two runs at different counts train different weights and
draw different samples under the same seed. rlvr therefore sets one count per machine: the cores this
process may use (its affinity mask, capped by a cgroup CPU quota), or RLVR_NUM_THREADS / OMP_NUM_THREADS
when set. What another process does to the machine never enters it.

Speed under load is kept by how the threads wait, which changes nothing but speed: OpenMP's default
spin-waiting made each parallel region wait for the thread that shares its core with a busy process (the
demo's pretraining on a shared 2-core machine with one core taken: 11.6 s/step, against 0.58 with
OMP_WAIT_POLICY=PASSIVE); with the passive policy a thread that is done sleeps and frees its core (`benchmarks/threads_under_load.py` measures both). libgomp reads the policy
when torch loads it, so `quiet_waits()` runs when rlvr is imported; an explicit OMP_WAIT_POLICY wins.
"""

from __future__ import annotations

import math
import os
from pathlib import Path


def quiet_waits() -> None:
    """OMP_WAIT_POLICY=PASSIVE unless the user chose one; effective when it runs before torch is imported."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def available_cores() -> int:
    """Cores this process may run on: its affinity mask, capped by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(cores, math.ceil(quota)) if quota else cores)


def _cgroup_quota() -> float | None:
    try:  # cgroup v2: "max 100000" or "200000 100000"
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:  # cgroup v1
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def cpu_threads() -> int:
    """Threads for CPU work: RLVR_NUM_THREADS or OMP_NUM_THREADS when set, else `available_cores()`."""
    for name in ("RLVR_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(name, "").isdigit() and int(os.environ[name]) > 0:
            return int(os.environ[name])
    return available_cores()


def fix_cpu_threads() -> int:
    """Set torch's intra-op threads to `cpu_threads()` (before any work whose result must reproduce)."""
    import torch

    threads = cpu_threads()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
