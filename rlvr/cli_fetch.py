"""`rlvr fetch NAME ...`: models and registry datasets into the local caches, so that runs work offline.

A registry name (`rlvr.data.DATASETS`: `math_train`, `omni_math_rule_train`, `math500`, ...) is loaded once and
kept as JSONL under the rlvr cache (`$RLVR_CACHE/data/`); any other `org/name` is a Hub model, downloaded into
the Hugging Face cache. `rlvr train RECIPE --check` names what a recipe still needs in exactly these terms.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "names", nargs="+", help="registry dataset names (see rlvr.data.DATASETS) or Hub model ids (org/name)"
    )


def run(args: argparse.Namespace) -> int:
    from rlvr.data import DATASETS, is_fetched, load_problems, registry_copy
    from rlvr.model_path import looks_like_hub_id

    unknown = [n for n in args.names if n not in DATASETS and not looks_like_hub_id(n)]
    if unknown:
        raise ValueError(
            f"not a registry dataset or a Hub model id: {', '.join(unknown)} "
            f"(datasets: {', '.join(DATASETS)}; models look like org/name)"
        )
    for name in args.names:
        if name in DATASETS:
            problems, _ = load_problems(name)
            where = registry_copy(name) if is_fetched(name) else "the datasets cache"
            print(f"{name}: {len(problems)} problems, kept in {where}")
        else:
            from huggingface_hub import snapshot_download

            print(f"{name}: model in {snapshot_download(name)}")
    return 0
