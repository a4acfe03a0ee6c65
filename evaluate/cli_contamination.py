"""`rlvr contamination`: arguments come from ContaminationConfig's fields and help."""

from __future__ import annotations

import argparse
import dataclasses
import typing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rlvr.evaluate.contamination import ContaminationConfig

    hints = typing.get_type_hints(ContaminationConfig)
    for f in dataclasses.fields(ContaminationConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = hints[f.name]
        base = next((t for t in typing.get_args(kind) if t is not type(None)), kind)
        if base is bool:
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=f.default, help=f.metadata["help"]
            )
        elif f.default is dataclasses.MISSING:
            parser.add_argument(flag, type=base, required=True, help=f.metadata["help"])
        else:
            parser.add_argument(
                flag,
                type=base,
                default=f.default,
                choices=f.metadata.get("choices"),
                help=f.metadata["help"] + f" (default: {f.default})",
            )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rlvr.evaluate.contamination import RESULT, ContaminationConfig, run_contamination

    cfg = ContaminationConfig(
        **{f.name: getattr(args, f.name) for f in dataclasses.fields(ContaminationConfig)}
    )
    result = run_contamination(cfg)
    print(result["finding"])
    print(f"wrote {Path(cfg.out) / RESULT}")
    return 0
