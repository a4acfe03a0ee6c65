"""`rlvr eval`: arguments come from EvalConfig's fields and help."""

from __future__ import annotations

import argparse
import dataclasses


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rlvr.cli_types import add_config_arguments
    from rlvr.evaluate.runner import EvalConfig

    add_config_arguments(parser, EvalConfig)
    from rlvr.evaluate.cli_compare import add_steps_arguments

    add_steps_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from rlvr.evaluate.runner import EvalConfig, run_eval

    cfg = EvalConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(EvalConfig)})
    if getattr(args, "steps_verifier", None):  # a misspelt name fails before anything samples
        from rlvr.rewards.steps import check_steps_verifier_name

        check_steps_verifier_name(args.steps_verifier)
    results = run_eval(cfg)
    if "table" in results:
        print(results["table"])
        print(f"stores and summary.json, summary.md: {cfg.out}")
        return 0
    if results.get("missing"):
        count = sum(results["missing"].values())
        print(
            f"shard {cfg.shard} is complete; {count} samples of other shards are still missing: "
            f"results.json is written by the run that completes the store ({cfg.out})"
        )
        return 0
    print(passk_table(results))
    print(f"store: {cfg.out}")
    if getattr(args, "steps_verifier", None):
        from rlvr.evaluate.cli_regrade import print_step_verified

        print_step_verified(cfg.out, args.steps_verifier, args.judge_model, args.judge_backend)
    return 0


def passk_table(results: dict) -> str:
    """pass@k at the powers of two up to n, each with its 95% bootstrap interval over problems (results.json's
    summary and pass_at_k_ci)."""
    lines = ["k\tpass@k\t95% interval"]
    for key, value in results["summary"].items():
        k = key.split("@")[1]
        low, high = results["pass_at_k_ci"][k]
        lines.append(f"{k}\t{value:.4f}\t[{low:.4f}, {high:.4f}]")
    return "\n".join(lines)


def interrupted(args: argparse.Namespace, command: str) -> str:
    """What a Ctrl-C leaves: the samples stored so far (each batch is fsynced as it is graded) and the command
    that resumes them."""
    from pathlib import Path

    from rlvr.evaluate.store import SampleStore

    out = Path(args.out)
    if not (out / "meta.json").exists():  # before the store was made, or several datasets' stores under --out
        if not out.is_dir():
            return f"nothing was stored yet; `{command}` starts it again"
        return f"the samples stored so far are kept under {out}; `{command}` resumes"
    store = SampleStore.open_existing(out)
    stored = len(store.records())
    total = len(store.problems()) * int(store.meta["n"])
    return f"{stored} of {total} samples are saved in {out}; `{command}` resumes"
