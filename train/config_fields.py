"""Field names of TRL's config dataclasses read from their source with `ast`, without importing trl.

Importing trl (and through it torch and transformers) takes seconds; a typo in a recipe should fail in
well under that. Anything this reader cannot resolve falls back to importing the class.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

from rlvr.train.recipe_values import Kind, kind_of_hint, kind_of_source

# Where each config class lives; `from transformers import X` goes through a lazy __init__, so the few
# bases we meet are mapped to their defining module directly.
KNOWN_MODULES = {
    "GRPOConfig": "trl.trainer.grpo_config",
    "RLOOConfig": "trl.trainer.rloo_config",
    "SFTConfig": "trl.trainer.sft_config",
    "TrainingArguments": "transformers.training_args",
}
# rlvr's own config classes (subclasses of GRPOConfig), read from the files beside this one.
OWN_CONFIGS = {"PPOConfig": "rlvr.train.ppo", "PassKConfig": "rlvr.train.passk"}


def _module_file(module: str) -> Path | None:
    top, _, rest = module.partition(".")
    spec = importlib.util.find_spec(top)  # locates the package without running it
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)))
    path = base.joinpath(*rest.split(".")) if rest else base
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


@functools.cache
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text())


def _resolve(name: str, tree: ast.Module, module: str) -> tuple[str, str] | None:
    """(module, class) that `name` refers to inside `module`."""
    if name in KNOWN_MODULES:
        return KNOWN_MODULES[name], name
    if any(isinstance(node, ast.ClassDef) and node.name == name for node in tree.body):
        return module, name
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(alias.name == name for alias in node.names):
            if node.level:
                parent = module.rsplit(".", node.level)[0]
                return (f"{parent}.{node.module}" if node.module else parent), name
            return node.module, name
    return None


def fields_from_source(module: str, class_name: str, source: Path | None = None) -> dict[str, ast.expr]:
    """Annotated attributes of the class and of every base class, recursively (the subclass's annotation wins)."""
    path = source or _module_file(module)
    if path is None:
        raise LookupError(f"cannot find {module}")
    tree = _parse(path)
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name), None)
    if cls is None:
        raise LookupError(f"no class {class_name} in {path}")
    fields: dict[str, ast.expr] = {}
    for base in reversed(cls.bases):
        if isinstance(base, ast.Name):
            target = _resolve(base.id, tree, module)
            if target is None:
                raise LookupError(f"cannot resolve base {base.id} of {class_name}")
            fields.update(fields_from_source(*target))
    fields.update(
        {
            n.target.id: n.annotation
            for n in cls.body
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
        }
    )
    return fields


def config_fields(class_name: str, loader) -> dict[str, Kind]:
    """Field names of a config class with the kind of value each takes: from source when possible, else by
    importing it with `loader()`."""
    try:
        if class_name in OWN_CONFIGS:
            module = OWN_CONFIGS[class_name]
            found = fields_from_source(
                module, class_name, Path(__file__).with_name(module.split(".")[-1] + ".py")
            )
        else:
            found = fields_from_source(KNOWN_MODULES[class_name], class_name)
        return {name: kind_of_source(annotation) for name, annotation in found.items()}
    except (LookupError, OSError, SyntaxError, KeyError):
        import dataclasses
        import typing

        cls = loader()
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # noqa: BLE001 - an unresolvable hint only costs the value check
            hints = {}
        return {
            f.name: kind_of_hint(hints[f.name]) if f.name in hints else ("any",)
            for f in dataclasses.fields(cls)
        }
