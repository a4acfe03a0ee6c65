"""`rlvr train RECIPE.yaml [key=value ...]` (also `accelerate launch -m rlvr.train RECIPE.yaml`)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", help="YAML recipe (see recipes/)")
    parser.add_argument(
        "overrides", nargs="*", help="dotted overrides, e.g. trainer.learning_rate=1e-6 algorithm=rloo"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="validate the recipe, build its TRL config (TRL's own checks) and print it; train nothing",
    )


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from rlvr.train.build import train
    from rlvr.train.recipe import check_paths, load_recipe

    recipe = load_recipe(args.recipe, args.overrides)
    check_paths(recipe)
    if args.check:
        from rlvr.train.build import build_config

        build_config(recipe)  # TRL's checks, e.g. generation_batch_size divisible by num_generations
        print(json.dumps(dataclasses.asdict(recipe), indent=2, default=str))
        return 0
    print(f"trained: {train(recipe)}")
    return 0
