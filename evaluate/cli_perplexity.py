"""`rlvr perplexity`: how expected are stored responses to a model (the base on the RL model's answers)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rlvr.cli_types import at_least_one, label_list


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        help="the model that scores (e.g. the base model): a directory, Hub id or GGUF file",
    )
    parser.add_argument(
        "--samples", nargs="+", required=True, help="sample store directories whose responses are scored"
    )
    parser.add_argument("--labels", help="comma-separated names for the stores (default: their labels)")
    parser.add_argument("--out", required=True, help="directory for perplexity.json")
    parser.add_argument("--all", action="store_true", help="score every response, not only the correct ones")
    parser.add_argument(
        "--max-per-problem", type=at_least_one, default=8, help="responses scored per problem and store"
    )
    parser.add_argument("--batch-size", type=at_least_one, default=16)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from rlvr.evaluate.perplexity import store_perplexities
    from rlvr.evaluate.store import SampleStore

    labels = label_list(args.labels, len(args.samples), "--samples stores")
    result: dict = {"model": args.model, "perplexity": {}}
    for path, label in zip(args.samples, labels):
        label = label or SampleStore.open_existing(path).meta.get("label", Path(path).name)
        _, values = store_perplexities(args.model, path, not args.all, args.max_per_problem, args.batch_size)
        result["perplexity"][label] = values
        finite = np.asarray(values)[np.isfinite(values)]
        print(
            f"{label}: {len(values)} responses, median perplexity {np.median(finite) if len(finite) else float('nan'):.3f}"
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "perplexity.json").write_text(json.dumps(result))
    print(f"wrote {out / 'perplexity.json'}")
    return 0
