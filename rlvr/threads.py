"""CPU thread counts that follow the cores actually free to this process.

torch starts one intra-op thread per core it sees. When another process keeps a core busy, those threads
wait on each other at every parallel region: on 2 cores with one taken, the demo's pretraining went from
0.1 to 3.8 s/step. The count here is min(affinity, cgroup quota) less the cores other processes keep busy,
sampled briefly from /proc/stat. An explicit OMP_NUM_THREADS or RLVR_NUM_THREADS wins.
"""

from __future__ import annotations

import math
import os
import time


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
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:  # cgroup v1
        quota = int(open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read())
        period = int(open("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def _cpu_times(cpus: set[int]) -> tuple[int, int] | None:
    """(busy, total) jiffies summed over `cpus`, from /proc/stat."""
    try:
        lines = open("/proc/stat").read().splitlines()
    except OSError:
        return None
    busy = total = 0
    for line in lines:
        name, *values = line.split()
        if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
            continue
        numbers = [int(v) for v in values[:8]]
        idle = numbers[3] + numbers[4]  # idle + iowait
        busy += sum(numbers) - idle
        total += sum(numbers)
    return busy, total


def busy_cores(seconds: float = 0.2) -> float:
    """How many of this process's cores other processes keep busy now (this process is idle while it looks)."""
    try:
        cpus = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return 0.0
    before = _cpu_times(cpus)
    time.sleep(seconds)
    after = _cpu_times(cpus)
    if not before or not after or after[1] <= before[1]:
        return 0.0
    return len(cpus) * (after[0] - before[0]) / (after[1] - before[1])


def cpu_threads() -> int:
    """Threads for CPU work: the cores free to this process (at least 1)."""
    for name in ("RLVR_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(name, "").isdigit() and int(os.environ[name]) > 0:
            return int(os.environ[name])
    cores = available_cores()
    return max(1, min(cores, round(cores - busy_cores())))


def use_free_cores() -> int:
    """Set torch's intra-op threads to `cpu_threads()`; returns the count."""
    import torch

    threads = cpu_threads()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
