"""The demo's pretraining step time with one core kept busy by another process, at rlvr's fixed thread count.

Ours: torch's threads fixed at the cores this process may use (`rlvr.threads.cpu_threads()`, never the load)
with OMP_WAIT_POLICY=PASSIVE, as `import rlvr` sets it. Baseline: the same thread count with OpenMP's default
spin-waiting. For reference: one thread. Each configuration runs in a fresh process (libgomp reads the wait
policy when torch loads it), with and without a plain Python spin loop pinned to the last core.
Usage: python benchmarks/threads_under_load.py [--steps 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

CHILD = r"""
import os, sys, tempfile, time
threads, steps = int(sys.argv[1]), int(sys.argv[2])
import torch
from rlvr.demo.pretrain import pretrain
from rlvr.demo.task import all_expressions, corpus
pairs = corpus(all_expressions(), 2000, 1)
def run(count):
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        pretrain(tmp, pairs, count, progress=False)
        return time.perf_counter() - start
run(2)  # imports and first-call costs
print((run(steps + 3) - run(3)) / steps)
"""


def step_time(threads: int, steps: int, policy: str | None, busy: bool) -> float:
    env = {**os.environ, "RLVR_NUM_THREADS": str(threads)}
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    else:  # `import rlvr` would set PASSIVE; the baseline keeps OpenMP's default by naming it
        env["OMP_WAIT_POLICY"] = "ACTIVE"
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        if spinner:
            os.sched_setaffinity(spinner.pid, {max(os.sched_getaffinity(0))})
            time.sleep(0.5)
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(threads), str(steps)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        if spinner:
            spinner.kill()
            spinner.wait()
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    from rlvr.threads import cpu_threads

    threads = cpu_threads()
    if threads < 2:
        print(f"only {threads} core available: nothing to share; skipped")
        return
    rows = {}
    for busy in (True, False):
        for name, count, policy in (
            ("rlvr (PASSIVE)", threads, "PASSIVE"),
            ("spin-wait (ACTIVE)", threads, None),
            ("one thread", 1, "PASSIVE"),
        ):
            rows[(name, busy)] = step_time(count, args.steps, policy, busy)
    print(f"{threads} threads (the cores this process may use); s/step of the demo's pretraining")
    print(f"{'':22} {'one core busy':>14} {'idle':>8}")
    for name in ("rlvr (PASSIVE)", "spin-wait (ACTIVE)", "one thread"):
        print(f"{name:22} {rows[(name, True)]:14.3f} {rows[(name, False)]:8.3f}")
    ratio = rows[("spin-wait (ACTIVE)", True)] / rows[("rlvr (PASSIVE)", True)]
    print(f"ratio under load (spin-wait / rlvr): {ratio:.2f}x")


if __name__ == "__main__":
    main()
