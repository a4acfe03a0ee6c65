"""What a recipe still needs downloaded: its Hub model and the registry datasets it trains and probes on.

`rlvr train RECIPE --check` validates a recipe whole; when the machine lacks the model or data it would load,
it says so in one line naming them and the command that fetches them (`rlvr fetch ...`), instead of failing
on the first one or passing a recipe that cannot run here.
"""

from __future__ import annotations

import os

from rlvr.train.recipe import Recipe


def missing_downloads(recipe: Recipe) -> list[tuple[str, str]]:
    """(what, name) for each Hub model or registry dataset the recipe uses that is not in the local caches."""
    from rlvr.data import DATASETS, is_fetched
    from rlvr.model_path import looks_like_hub_id
    from rlvr.models import is_gguf

    missing: list[tuple[str, str]] = []
    model = recipe.model.path
    if model and looks_like_hub_id(model) and not os.path.exists(model) and not is_gguf(model):
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(model, "config.json"), str):
            missing.append(("model", model))
    datasets = [("data", recipe.data.dataset)] if not recipe.data.data_file else []
    if recipe.probe.enabled:
        datasets += [("probe data", name) for name in recipe.probe.datasets]
    for what, name in datasets:
        if name in DATASETS and is_fetched(name) is False and name not in [n for _, n in missing]:
            missing.append((what, name))
    return missing


def missing_line(source: str, missing: list[tuple[str, str]]) -> str:
    """One line: the recipe is valid, these are not here, and the command that fetches them."""
    listed = ", ".join(f"{what} {name}" for what, name in missing)
    names = " ".join(name for _, name in missing)
    return f"{source}: valid, but not cached here: {listed}; fetch them with `rlvr fetch {names}` (needs the network)"
