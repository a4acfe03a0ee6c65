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
    if args.check:
        import sys

        from rlvr.train.build import build_config
        from rlvr.train.recipe_downloads import missing_downloads, missing_line

        missing = missing_downloads(recipe)  # said in one line at the end, once all else is checked
        check_paths(recipe, model=not any(what == "model" for what, _ in missing))
        # TRL's checks (e.g. generation_batch_size divisible by num_generations); a recipe written for GPUs
        # checks on a login node, and training it without a GPU stops at the same place in one line
        build_config(recipe, here=False)
        print(json.dumps(dataclasses.asdict(recipe), indent=2, default=str))
        if missing:
            print(missing_line(args.recipe, missing), file=sys.stderr)
        return 0
    check_paths(recipe)
    print(f"trained: {train(recipe)}")
    return 0
