"""`rlvr eval`: arguments come from EvalConfig's fields and help."""

from __future__ import annotations

import argparse
import dataclasses
import typing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rlvr.evaluate.runner import EvalConfig

    hints = typing.get_type_hints(EvalConfig)
    for f in dataclasses.fields(EvalConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = hints[f.name]
        base = next((t for t in typing.get_args(kind) if t is not type(None)), kind)
        choices = f.metadata.get("choices")
        if choices and f.default is not dataclasses.MISSING:
            parser.add_argument(
                flag,
                type=base,
                default=f.default,
                choices=choices,
                help=f.metadata["help"] + f" (default: {f.default})",
            )
        elif base is bool:
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=f.default, help=f.metadata["help"]
            )
        elif f.default is dataclasses.MISSING:
            parser.add_argument(flag, type=base, required=True, help=f.metadata["help"])
        else:
            parser.add_argument(
                flag, type=base, default=f.default, help=f.metadata["help"] + f" (default: {f.default})"
            )
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
    for key, value in results["summary"].items():
        print(f"{key}\t{value:.4f}")
    print(f"store: {cfg.out}")
    if getattr(args, "steps_verifier", None):
        from rlvr.evaluate.cli_regrade import print_step_verified

        print_step_verified(cfg.out, args.steps_verifier, args.judge_model, args.judge_backend)
    return 0
