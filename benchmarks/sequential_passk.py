"""Sequential pass@k against uniform n: the same boundary from a fraction of the samples.

Both sides in one process, on the full demo's base model and its 48 held-out problems (built into
demo_out/ by `make demo`, or here when missing: pretraining takes a few minutes), with the demo probe's
sampling settings and seed:
- uniform: `rlvr eval --n N` (the named baseline: what every framework does);
- sequential: `rlvr eval --n N --stop-at-correct M --min-samples F` (its samples are a prefix of the uniform
  store's; the floor F keeps pass@1's interval within a few percent of uniform's).
Printed: samples, tokens and wall time of each; the largest difference between the two pass@k curves; the 95%
bootstrap interval's half-width at k = 1, 16 and N for each; and last the samples ratio, uniform over
sequential. The two runs alternate in order over --reps (fresh stores each time); times are medians.
Usage: python benchmarks/sequential_passk.py [--n 256] [--m 8] [--min-samples 32] [--reps 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path


def demo_base(out: Path) -> tuple[Path, Path]:
    """(base model directory, held-out problems) of the full demo, built when missing."""
    from rlvr.demo.run import FULL, base_model, write_data

    _, held = write_data(out, FULL, 0)
    return base_model(out, FULL, 0, progress=True), held


def eval_once(model: Path, data: Path, out: Path, n: int, m: int | None, n_min: int | None) -> float:
    from rlvr.evaluate.runner import EvalConfig, run_eval

    cfg = EvalConfig(
        model=str(model),
        out=str(out),
        data_file=str(data),
        template="plain",
        chat="raw",
        n=n,
        stop_at_correct=m,
        min_samples=n_min if m else None,
        temperature=1.0,
        top_p=1.0,
        max_tokens=40,
        seed=0,
        backend="hf",
        progress=False,
    )
    started = time.perf_counter()
    run_eval(cfg)
    return time.perf_counter() - started


def summary(store: Path) -> dict:
    from rlvr.evaluate.counts import load_counts
    from rlvr.evaluate.stats import bootstrap_curve

    results = json.loads((store / "results.json").read_text())
    curve = bootstrap_curve(load_counts(store), resamples=1000, seed=0)
    return {"spend": results["spend"], "curve": curve}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="uniform n, and n_max of the rule")
    parser.add_argument("--m", type=int, default=8, help="--stop-at-correct")
    parser.add_argument(
        "--min-samples",
        type=int,
        default=32,
        help="--min-samples: the floor that keeps pass@1's interval tight",
    )
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--demo-out", default="demo_out", help="where the full demo's base model lives")
    parser.add_argument("--keep", help="keep the stores in this directory (default: a temporary one)")
    args = parser.parse_args()

    from rlvr.threads import fix_cpu_threads

    fix_cpu_threads()
    model, held = demo_base(Path(args.demo_out))
    times: dict[str, list[float]] = {"uniform": [], "sequential": []}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        for rep in range(args.reps):
            order = ["uniform", "sequential"] if rep % 2 == 0 else ["sequential", "uniform"]
            for side in order:
                store = Path(tmp) / f"{side}-{rep}"
                m = None if side == "uniform" else args.m
                times[side].append(eval_once(model, held, store, args.n, m, args.min_samples))
        uniform, sequential = summary(Path(tmp) / "uniform-0"), summary(Path(tmp) / "sequential-0")

    k_top = args.n
    print(
        f"model: the full demo's base ({model}); {held}: 48 held-out problems; n = {args.n}; "
        f"--stop-at-correct {args.m} --min-samples {args.min_samples}"
    )
    print(
        f"{'':>12} {'samples':>9} {'tokens':>9} {'wall s':>8} "
        + " ".join(f"{'±@' + str(k):>7}" for k in (1, 16, k_top))
    )
    for name, side in (("uniform", uniform), ("sequential", sequential)):
        curve = side["curve"]
        halves = [(curve.high[k - 1] - curve.low[k - 1]) / 2 * 100 for k in (1, 16, k_top)]
        print(
            f"{name:>12} {side['spend']['samples']:>9,} {side['spend']['tokens']:>9,} "
            f"{statistics.median(times[name]):>8.1f} " + " ".join(f"{h:>7.2f}" for h in halves)
        )
    gap = abs(uniform["curve"].mean - sequential["curve"].mean)
    worst = int(gap.argmax()) + 1
    print(f"largest |uniform - sequential| pass@k: {gap.max() * 100:.2f} points at k = {worst}")
    print(f"tokens ratio: {uniform['spend']['tokens'] / sequential['spend']['tokens']:.2f}x")
    print(
        f"wall time ratio: {statistics.median(times['uniform']) / statistics.median(times['sequential']):.2f}x"
    )
    print(
        f"samples ratio, uniform over --stop-at-correct {args.m}: {uniform['spend']['samples'] / sequential['spend']['samples']:.2f}x"
    )


if __name__ == "__main__":
    main()
