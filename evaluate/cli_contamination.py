"""`rlvr contamination`: arguments come from ContaminationConfig's fields and help."""

from __future__ import annotations

import argparse
import dataclasses


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rlvr.cli_types import add_config_arguments
    from rlvr.evaluate.contamination import ContaminationConfig

    add_config_arguments(parser, ContaminationConfig)


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
