"""`rlvr probe --watch RUN_DIR`: the boundary probe detached from training."""

from __future__ import annotations

import argparse

from rlvr.cli_types import positive_seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--watch", required=True, metavar="RUN_DIR", help="a training run's output_dir")
    parser.add_argument("--once", action="store_true", help="probe what is there now, then exit")
    parser.add_argument(
        "--interval", type=positive_seconds, default=30.0, help="seconds between looks for new checkpoints"
    )
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="hide progress bars")


def run(args: argparse.Namespace) -> int:
    from rlvr.train.watch import watch

    records = watch(args.watch, once=args.once, interval=args.interval, progress=args.progress)
    print(f"probed {len(records)} checkpoint(s); log: {args.watch}/probe.jsonl")
    return 0
