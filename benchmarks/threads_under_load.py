"""The demo's pretraining step time with one core kept busy by another process.

Ours: torch's threads set by `rlvr.threads.use_free_cores()` (the cores other processes leave free).
Baseline: torch's default, one thread per core whatever else runs. Same model, data and steps, in one
process; the busy process is a plain Python spin loop pinned to the last core.
Usage: python benchmarks/threads_under_load.py [--steps 15]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def step_time(steps: int, threads: int) -> float:
    import torch

    from rlvr.demo.pretrain import pretrain
    from rlvr.demo.task import all_expressions, corpus

    torch.set_num_threads(threads)
    os.environ["RLVR_NUM_THREADS"] = str(threads)  # pretrain's own use_free_cores() keeps this count
    pairs = corpus(all_expressions(), 2000, 1)
    seconds = []
    for count in (1, steps + 1):  # the difference leaves out building the tokenizer and model
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            pretrain(tmp, pairs, count, progress=False)
            seconds.append(time.perf_counter() - start)
    return (seconds[1] - seconds[0]) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=15)
    args = parser.parse_args()
    import torch

    from rlvr.threads import available_cores, cpu_threads

    cores = available_cores()
    if cores < 2:
        print(f"only {cores} core available: nothing to share; skipped")
        return
    default_threads = torch.get_num_threads()
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        os.sched_setaffinity(spinner.pid, {max(os.sched_getaffinity(0))})
        time.sleep(0.5)
        chosen = cpu_threads()
        ours = step_time(args.steps, chosen)
        base = step_time(args.steps, default_threads)
    finally:
        spinner.kill()
        spinner.wait()
    idle = step_time(args.steps, default_threads)
    idle_one = step_time(args.steps, 1)
    print(f"cores: {cores}, one kept busy by a spin loop")
    print(f"rlvr (free cores: {chosen} thread(s)):     {ours:7.3f} s/step")
    print(f"torch default ({default_threads} threads):          {base:7.3f} s/step")
    print(f"ratio (default / rlvr):              {base / ours:7.2f}x")
    print(
        f"for reference, no busy core ({default_threads} threads): {idle:7.3f} s/step, (1 thread): {idle_one:7.3f} s/step"
    )


if __name__ == "__main__":
    main()
