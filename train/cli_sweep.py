"""`rlvr sweep SWEEP.yaml [key=value ...] [--launcher local|accelerate|slurm] [--dry-run] [--report]`."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sweep", help="sweep YAML: name, recipe, grid (see recipes/ablations/)")
    parser.add_argument("overrides", nargs="*", help="dotted overrides applied to every run")
    parser.add_argument(
        "--launcher",
        choices=("local", "accelerate", "slurm"),
        default=None,
        help="local: one run after another here; accelerate: the same through accelerate launch; "
        "slurm: one sbatch job per run (default: the sweep file's, else local)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the commands or sbatch scripts; run nothing"
    )
    parser.add_argument("--report", action="store_true", help="only write the comparison of the runs so far")


def run(args: argparse.Namespace) -> int:
    from rlvr.train.sweep import check_trainer_configs, launch, load_sweep
    from rlvr.train.sweep_report import write_sweep_report

    sweep = load_sweep(args.sweep, args.overrides)
    launcher = args.launcher or sweep.launcher
    if not args.report:
        # runs that SLURM places (or a dry run's, which run nowhere) are checked for their nodes, not this login node
        check_trainer_configs(sweep, here=launcher != "slurm" and not args.dry_run)
        launch(sweep, launcher, args.dry_run)
    if args.report or (launcher != "slurm" and not args.dry_run):
        path = write_sweep_report(
            sweep.name, sweep.runs(), sweep.output_dir / "report", sweep.family_function()
        )
        print(f"[sweep] comparison: {path}")
    return 0
