"""Code grading throughput: programs per second of the sandboxed grader on 500 programs.

A mix of passing, failing and timing-out programs. Baseline: the same programs run one at a time with
plain `subprocess.run` (no isolation), to show the cost of the sandbox and the gain from the pool.
Usage: python benchmarks/verify_code.py [--programs 500]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

CHECK = "def check(candidate):\n    assert candidate(3) == 9\n    assert candidate(-2) == 4\n"
KINDS = {
    "pass": "def square(x):\n    return x * x\n",
    "fail": "def square(x):\n    return x + x\n",
    "timeout": "def square(x):\n    while True:\n        pass\n",
}


def workload(n: int) -> list[str]:
    # one in 50 times out: the rate real RL samples hit the limit is low but never zero
    return [KINDS["timeout"] if i % 50 == 49 else KINDS["pass"] if i % 2 else KINDS["fail"] for i in range(n)]


def baseline(programs: list[str], timeout: float) -> int:
    passed = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "prog.py")
        for program in programs:
            with open(path, "w") as f:
                f.write(f"{program}\n{CHECK}\ncheck(square)\n")
            try:
                passed += (
                    subprocess.run(
                        [sys.executable, "-I", path], capture_output=True, timeout=timeout
                    ).returncode
                    == 0
                )
            except subprocess.TimeoutExpired:
                pass
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--programs", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()

    from rlvr.rewards import CodeReward
    from rlvr.rewards.sandbox import SandboxLimits, isolation_mode

    programs = workload(args.programs)
    grader = CodeReward(limits=SandboxLimits(timeout=args.timeout, cpu_seconds=int(args.timeout) + 1))
    grader.grade(programs[:1], [CHECK], ["square"])

    start = time.perf_counter()
    grades = grader.grade(programs, [CHECK] * len(programs), ["square"] * len(programs))
    ours = args.programs / (time.perf_counter() - start)
    start = time.perf_counter()
    base_passed = baseline(programs, args.timeout)
    base = args.programs / (time.perf_counter() - start)

    print(f"programs: {args.programs}, isolation: {isolation_mode()}, workers: {grader.workers}")
    print(
        f"rlvr CodeReward (sandboxed, pooled): {ours:8.1f} programs/s, passed {sum(g.correct for g in grades)}"
    )
    print(f"plain subprocess loop (no sandbox):  {base:8.1f} programs/s, passed {base_passed}")
    print(f"ratio:                               {ours / base:8.2f}x")


if __name__ == "__main__":
    main()
