"""A recipe's values checked against the declared types of the fields they fill, before any model loads.

rlvr's sections give their types as annotations (and `choices` in field metadata); TRL's config classes give
theirs as annotations in source, read with `ast` (see config_fields). A type this module does not know
(an enum of transformers', say) accepts anything: TRL checks it when the config is built.
"""

from __future__ import annotations

import ast
import types
import typing

# A kind: ("any",), ("none",), ("int",), ("float",), ("bool",), ("str",), ("dict",), ("list", kind),
# ("literal", values), ("union", kinds).
Kind = tuple

_NAMES = {
    "int": ("int",),
    "float": ("float",),
    "bool": ("bool",),
    "str": ("str",),
    "dict": ("dict",),
    "None": ("none",),
    "list": ("list", ("any",)),
    "tuple": ("list", ("any",)),
}


def kind_of_source(node: ast.expr) -> Kind:
    """The kind of an annotation as written in source: `int | None`, `Optional[list[str]]`, `Literal[False]`."""
    if isinstance(node, ast.Constant) and node.value is None:
        return ("none",)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a quoted annotation
        try:
            return kind_of_source(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return ("any",)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([kind_of_source(node.left), kind_of_source(node.right)])
    if isinstance(node, ast.Name):
        return _NAMES.get(node.id, ("any",))
    if isinstance(node, ast.Subscript):
        outer = node.value.id if isinstance(node.value, ast.Name) else getattr(node.value, "attr", "")
        inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if outer == "Optional":
            return _union([kind_of_source(inner[0]), ("none",)])
        if outer == "Union":
            return _union([kind_of_source(n) for n in inner])
        if outer in ("list", "List", "Sequence"):
            return ("list", kind_of_source(inner[0]))
        if outer in ("tuple", "Tuple"):
            return ("list", ("any",))
        if outer in ("dict", "Dict", "Mapping"):
            return ("dict",)
        if outer == "Literal" and all(isinstance(n, ast.Constant) for n in inner):
            return ("literal", tuple(n.value for n in inner))
    return ("any",)


def kind_of_hint(hint) -> Kind:
    """The kind of a runtime type hint (rlvr's own dataclasses)."""
    if hint is typing.Any:
        return ("any",)
    if hint is type(None):
        return ("none",)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _union([kind_of_hint(h) for h in typing.get_args(hint)])
    if origin in (list, tuple):
        args = typing.get_args(hint)
        return ("list", kind_of_hint(args[0]) if args and origin is list else ("any",))
    if origin is dict or hint is dict:
        return ("dict",)
    if origin is typing.Literal:
        return ("literal", typing.get_args(hint))
    if isinstance(hint, type) and hint.__name__ in _NAMES:
        return _NAMES[hint.__name__]
    return ("any",)


def _union(kinds: list[Kind]) -> Kind:
    flat: list[Kind] = []
    for kind in kinds:
        flat.extend(kind[1] if kind[0] == "union" else [kind])
    if ("any",) in flat:
        return ("any",)
    return flat[0] if len(flat) == 1 else ("union", tuple(flat))


def describe(kind: Kind) -> str:
    name = kind[0]
    if name == "union":
        return " or ".join(describe(k) for k in kind[1])
    if name == "list":
        return "a list" + ("" if kind[1] == ("any",) else f" of ({describe(kind[1])})")
    if name == "literal":
        return "one of " + ", ".join(repr(v) for v in kind[1])
    return {
        "none": "null",
        "int": "a whole number",
        "float": "a number",
        "bool": "true or false",
        "str": "a string",
        "dict": "a mapping",
        "any": "anything",
    }[name]


_NO = object()


def convert(value, kind: Kind):
    """`value` as `kind` (YAML's '1e-6' string is a float; 2.0 is the int 2), or _NO when it is not one."""
    name = kind[0]
    if name == "any":
        return value
    if name == "none":
        return None if value is None else _NO
    if name == "bool":
        return value if isinstance(value, bool) else _NO
    if name == "int":
        if isinstance(value, bool):
            return _NO
        if isinstance(value, int):
            return value
        return int(value) if isinstance(value, float) and value.is_integer() else _NO
    if name == "float":
        if isinstance(value, bool):
            return _NO
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str):  # YAML 1.1 reads 1e-6 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                return _NO
        return _NO
    if name == "str":
        return value if isinstance(value, str) else _NO
    if name == "dict":
        return value if isinstance(value, dict) else _NO
    if name == "list":
        if not isinstance(value, (list, tuple)):
            return _NO
        items = [convert(v, kind[1]) for v in value]
        return _NO if any(v is _NO for v in items) else items
    if name == "literal":
        return value if any(value == v and type(value) is type(v) for v in kind[1]) else _NO
    for option in kind[1]:  # union: the first that fits, exact types first (1 stays an int in int | float)
        if option[0] != "float":
            converted = convert(value, option)
            if converted is not _NO:
                return converted
    for option in kind[1]:
        if option[0] == "float":
            converted = convert(value, option)
            if converted is not _NO:
                return converted
    return _NO


def check(value, kind: Kind, where: str, declared: str = "", choices: tuple = ()):
    """The value converted to its kind, or a RecipeError naming the key, the value and what is allowed."""
    from rlvr.train.recipe import RecipeError

    converted = convert(value, kind)
    if converted is _NO:
        hint = ""
        if kind[0] == "bool" and isinstance(value, str):
            hint = "; write true or false, unquoted"
        raise RecipeError(
            f"{where}: {value!r} is not {describe(kind)}" + (f" ({declared})" if declared else "") + hint
        )
    if choices and converted not in choices:
        import difflib

        close = difflib.get_close_matches(str(converted), [str(c) for c in choices], n=1, cutoff=0.5)
        raise RecipeError(
            f"{where}: {converted!r} is not one of {', '.join(map(str, choices))}"
            + (f"; did you mean {close[0]!r}?" if close else "")
        )
    return converted
