"""argparse types for counts and durations: a flag out of range is one line naming it, not a traceback later."""

from __future__ import annotations

import argparse


def at_least_one(text: str) -> int:
    """A whole number >= 1 (resamples, batch sizes, samples per problem, k)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def auto_or_at_least_one(text: str) -> int | str:
    """`auto`, or a whole number >= 1 (--max-tokens)."""
    return text if text == "auto" else at_least_one(text)


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def label_list(text: str | None, count: int, inputs: str) -> list[str | None]:
    """`--labels a,b`: one non-empty name per input, spaces after commas allowed; None for each when the flag is
    absent (each input then keeps its own name)."""
    if not text:
        return [None] * count
    labels = [label.strip() for label in text.split(",")]
    if not all(labels):
        raise ValueError(
            f"--labels {text!r} has an empty name; give each of the {inputs} one, e.g. --labels base,rl"
        )
    if len(labels) != count:
        raise ValueError(f"--labels names {len(labels)} models but {count} {inputs} were given")
    return labels


def add_config_arguments(parser, config_cls) -> None:
    """One flag per field of a config dataclass (TRL's HfArgumentParser in small): --field-name, its type (or a
    parser of this module named by `metadata["type"]`), its default, choices and help; bools as --x/--no-x;
    lists as a repeatable flag."""
    import argparse
    import dataclasses
    import typing

    hints = typing.get_type_hints(config_cls)
    for f in dataclasses.fields(config_cls):
        flag = "--" + f.name.replace("_", "-")
        kind = hints[f.name]
        base = next((t for t in typing.get_args(kind) if t is not type(None)), kind)
        if "type" in f.metadata:  # a parser of this module, named (e.g. `auto` or a whole number)
            base = globals()[f.metadata["type"]]
        choices = f.metadata.get("choices")
        named = {"metavar": f.metadata["metavar"]} if "metavar" in f.metadata else {}
        if typing.get_origin(kind) is list:  # repeatable: --stop a --stop b
            parser.add_argument(
                flag, action="append", type=base, default=[], help=f.metadata["help"], **named
            )
        elif choices and f.default is not dataclasses.MISSING:
            parser.add_argument(
                flag,
                type=base,
                default=f.default,
                choices=choices,
                help=f.metadata["help"] + f" (default: {f.default})",
            )
        elif base is bool:
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=f.default, help=f.metadata["help"]
            )
        elif f.default is dataclasses.MISSING:
            parser.add_argument(flag, type=base, required=True, help=f.metadata["help"])
        else:
            parser.add_argument(
                flag,
                type=base,
                default=f.default,
                help=f.metadata["help"] + f" (default: {f.default})",
                **named,
            )
