"""A pool of verifier processes with a hard limit per answer.

math-verify times out with signal.alarm, which fails off the main thread and can't interrupt C code
(9^{9^{9^9}}), so each comparison runs in a worker process that is killed and replaced when it overruns.
The limit counts the CPU time the worker spends on the answer (from /proc), not the wall clock: on a machine
that other jobs keep busy a worker gets a fraction of a core, and a wall-clock limit would turn the same
answer into a timeout there and a verdict here. A wall-clock backstop (BACKSTOP x the limit) still ends a
worker that waits without computing; where /proc is missing the limit is wall-clock.
Workers are plain subprocesses (not multiprocessing), so a user's script needs no `__main__` guard and
a parent holding torch threads is never forked. Safe to call from any thread: one batch holds the pool.
"""

from __future__ import annotations

import json
import os
import select
import selectors
import subprocess
import sys
import threading
import time
from collections import deque

_STARTUP_LIMIT = 60.0
BACKSTOP = 10.0  # wall-clock seconds per second of the CPU limit
_POLL = 0.05  # how often busy workers' CPU time is read
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process `pid` so far, from /proc/PID/stat; None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15 of stat)


class _Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rlvr.rewards._math_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.task: int | None = None
        self.deadline = 0.0  # wall-clock backstop
        self.cpu_start: float | None = None
        self.ready = False

    def started(self, wait: float = 0.0) -> bool:
        """Whether math-verify is imported, waiting up to `wait` seconds for the worker's "ready" line."""
        if not self.ready and select.select([self.process.stdout], [], [], wait)[0]:
            if self.process.stdout.readline().strip() != b"ready":
                raise OSError("math verifier worker failed to start")
            self.ready = True
        return self.ready

    def send(self, key: int, gold: str, pred: str) -> None:
        if not self.started(_STARTUP_LIMIT):  # the first answer's clock starts once math-verify is imported
            raise OSError("math verifier worker failed to start")
        self.process.stdin.write((json.dumps([key, gold, pred]) + "\n").encode())
        self.process.stdin.flush()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=5)
        self.process.stdin.close()
        self.process.stdout.close()


class VerifierPool:
    """`run(pairs)` -> one of True, False, "timeout", "error" per (gold, pred) pair."""

    def __init__(self, workers: int | None = None, timeout: float = 5.0) -> None:
        self.size = max(1, workers or os.cpu_count() or 1)
        self.timeout = timeout
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()

    def run(self, pairs: list[tuple[str, str]]) -> list[bool | str]:
        if not pairs:
            return []
        with self._lock:
            return self._run_locked(pairs)

    def start(self) -> None:
        """Spawn the workers now without waiting for them: their imports (sympy, seconds) then overlap the
        caller's own work, such as generating the first call's samples, instead of delaying its grading."""
        with self._lock:
            self._fill()

    def _fill(self) -> None:
        self._workers = [w for w in self._workers if w.process.poll() is None]
        while len(self._workers) < self.size:
            self._workers.append(_Worker())

    def _run_locked(self, pairs: list[tuple[str, str]]) -> list[bool | str]:
        self._fill()
        results: list[bool | str] = ["error"] * len(pairs)
        pending = deque(range(len(pairs)))
        idle = list(self._workers)
        selector = selectors.DefaultSelector()
        failed_starts = 0
        try:
            while pending or selector.get_map():
                while pending and idle:
                    worker, key = idle.pop(_started_first(idle)), pending.popleft()
                    try:
                        worker.send(key, *pairs[key])
                    except (BrokenPipeError, OSError) as exc:
                        failed_starts += 1
                        if failed_starts > 3:
                            raise RuntimeError(f"math verifier workers keep failing to start: {exc}") from exc
                        pending.appendleft(key)
                        idle.append(self._replace(worker))
                        continue
                    worker.task, worker.cpu_start = key, cpu_seconds(worker.process.pid)
                    backstop = BACKSTOP if worker.cpu_start is not None else 1.0
                    worker.deadline = time.monotonic() + self.timeout * backstop
                    selector.register(worker.process.stdout, selectors.EVENT_READ, worker)
                busy = [k.data for k in selector.get_map().values()]
                wait_for = max(0.0, min(w.deadline for w in busy) - time.monotonic())
                if any(w.cpu_start is not None for w in busy):
                    wait_for = min(wait_for, _POLL)
                for event, _ in selector.select(timeout=wait_for):
                    worker = event.data
                    selector.unregister(event.fileobj)
                    line = worker.process.stdout.readline()
                    try:
                        key, result = json.loads(line)
                        results[key] = result
                        idle.append(worker)
                    except (ValueError, TypeError):  # the worker died mid-answer
                        idle.append(self._replace(worker))
                now = time.monotonic()
                for key in list(selector.get_map().values()):
                    worker = key.data
                    if worker.deadline <= now or self._over_cpu(worker):
                        selector.unregister(key.fileobj)
                        results[worker.task] = "timeout"
                        idle.append(self._replace(worker))
        finally:
            selector.close()
        return results

    def _over_cpu(self, worker: _Worker) -> bool:
        if worker.cpu_start is None:
            return False
        used = cpu_seconds(worker.process.pid)
        return used is not None and used - worker.cpu_start > self.timeout

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        fresh = _Worker()
        self._workers = [w for w in self._workers if w is not worker] + [fresh]
        return fresh

    def close(self) -> None:
        with self._lock:
            for worker in self._workers:
                worker.kill()
            self._workers = []


def _started_first(idle: list[_Worker]) -> int:
    """A started worker's index when there is one: a replacement for a killed worker is still importing
    sympy (seconds on a busy machine), and the batch would wait for it while others sit idle."""
    for i, worker in enumerate(idle):
        try:
            if worker.started():
                return i
        except OSError:
            continue  # send() says so and replaces it
    return len(idle) - 1


_SHARED: dict[tuple, VerifierPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(workers: int | None = None, timeout: float = 5.0) -> VerifierPool:
    """One pool per process and setting, so every grader instance reuses warm workers."""
    with _SHARED_LOCK:
        key = (workers, timeout)
        if key not in _SHARED:
            _SHARED[key] = VerifierPool(workers, timeout)
        return _SHARED[key]
