"""Math grading throughput: rlvr's grader against a plain math-verify loop, same input, one process.

200 problems x 256 completions whose final answers repeat the way real samples do (10-30 distinct
answers per problem, a few pathological), each with its prompt as TRL hands it over (rlvr checks that an
answer does not restate it). Baseline: `parse` + `verify` per completion, as most RLVR codebases call
math-verify. Usage: python benchmarks/verify_math.py [--problems 200] [--samples 256]
"""

from __future__ import annotations

import argparse
import random
import time


def make_workload(problems: int, samples: int, seed: int = 0) -> tuple[list[str], list[str], list[str]]:
    rng = random.Random(seed)
    completions, golds, prompts = [], [], []
    for p in range(problems):
        a, b = rng.randint(2, 99), rng.randint(2, 99)
        gold = f"\\frac{{{a}}}{{{b}}}" if p % 3 == 0 else str(a * b)
        prompt = f"Write ${a} \\div {b}$ as a fraction." if p % 3 == 0 else f"Compute ${a} \\times {b}$."
        distinct = rng.randint(10, 30)
        forms = [gold, f"{a}/{b}" if p % 3 == 0 else f"{a * b}.0"]
        forms += [str(a * b + d) for d in range(1, distinct - 1)]
        if p % 50 == 0:
            forms.append("9^{9^{9^{9}}}")  # pathological: the baseline loop would hang on it without limits
        weights = [30, 5] + [1] * (len(forms) - 2)
        for _ in range(samples):
            answer = rng.choices(forms, weights)[0]
            completions.append(f"Step by step ... so the result is \\boxed{{{answer}}}.")
            golds.append(gold)
            prompts.append(prompt)
    return completions, golds, prompts


def baseline(completions: list[str], golds: list[str]) -> list[bool]:
    from math_verify import parse, verify

    out = []
    for completion, gold in zip(completions, golds):
        if "9^{9^{9^{9}}}" in completion:  # the plain loop cannot survive these; count them as wrong, free
            out.append(False)
            continue
        out.append(bool(verify(parse(f"${gold}$"), parse(completion))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--problems", type=int, default=200)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument(
        "--baseline-fraction", type=float, default=0.1, help="share of the input the slow baseline runs on"
    )
    args = parser.parse_args()

    from rlvr.rewards import MathReward

    completions, golds, prompts = make_workload(args.problems, args.samples)
    total = len(completions)
    grader = MathReward(mode="strict")
    grader.grade(completions[:1], golds[:1], prompts[:1])  # start the worker pool outside the timing

    start = time.perf_counter()
    ours = grader.grade(completions, golds, prompts)
    ours_rate = total / (time.perf_counter() - start)

    cut = max(1, int(total * args.baseline_fraction))
    start = time.perf_counter()
    base = baseline(completions[:cut], golds[:cut])
    base_rate = cut / (time.perf_counter() - start)

    agree = sum(o.correct == b for o, b in zip(ours[:cut], base)) / cut
    print(f"completions: {total} ({args.problems} problems x {args.samples})")
    print(f"rlvr MathReward:            {ours_rate:10.0f} completions/s")
    print(f"math-verify parse+verify:   {base_rate:10.0f} completions/s (on the first {cut})")
    print(f"speed-up:                   {ours_rate / base_rate:10.1f}x")
    print(f"verdict agreement:          {agree:10.1%}")


if __name__ == "__main__":
    main()
