"""mkdocs hook: docs/cli.md is generated at build time from the argparse definitions, so it cannot go stale.

`python docs/hooks/cli_reference.py` prints the page, for a look without building the site.
"""

from __future__ import annotations

import argparse

PAGE = "cli.md"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _option_row(action: argparse.Action) -> str:
    if action.option_strings:
        names = ", ".join(f"`{name}`" for name in action.option_strings)
        metavar = action.metavar or action.dest.upper()
        if action.nargs != 0 and isinstance(metavar, str) and not action.choices:
            names += f" `{metavar}`"
    else:
        names = f"`{action.metavar or action.dest}`"
    help_text = "" if action.help is None else action.help
    if "%(" in help_text:
        help_text = help_text % {**vars(action), "prog": "rlvr"}
    help_text = help_text.replace(" (default: None)", "")
    if action.choices:
        help_text += f" One of: {', '.join(f'`{c}`' for c in action.choices)}."
    default = action.default
    if action.option_strings and action.nargs != 0 and default not in (None, argparse.SUPPRESS):
        if "default" not in help_text:
            help_text += f" Default: `{default}`."
    return f"| {names} | {_cell(help_text)} |"


def render() -> str:
    """The whole reference page: the command's overview, then each subcommand's usage and options."""
    from rlvr.cli import SUBCOMMANDS, subcommand_parser

    lines = [
        "# CLI reference",
        "",
        "Generated from rlvr's argparse definitions when the site is built (`make docs`); "
        "`rlvr COMMAND --help` prints the same.",
        "",
        "| command | what it does |",
        "| --- | --- |",
    ]
    lines += [
        f"| [`rlvr {name}`](#rlvr-{name}) | {_cell(help_text)} |"
        for name, (_, help_text) in SUBCOMMANDS.items()
    ]
    for name in SUBCOMMANDS:
        command = subcommand_parser(name)
        usage = command.format_usage().removeprefix("usage: ").strip()
        lines += ["", f"## rlvr {name}", "", command.description or "", "", "```text", usage, "```", ""]
        rows = [_option_row(a) for a in command._actions if a.help != argparse.SUPPRESS and a.dest != "help"]
        lines += ["| argument | meaning |", "| --- | --- |", *rows]
        if command.epilog:
            lines += ["", command.epilog]
    return "\n".join(lines) + "\n"


def on_files(files, config):  # mkdocs hook
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=render()))
    return files


if __name__ == "__main__":
    print(render())
