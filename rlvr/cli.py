"""The `rlvr` command. Each subcommand lives in its own module and is imported only when it runs."""

from __future__ import annotations

import argparse
import errno
import importlib
import shlex
import sys

# name -> (module with `add_arguments(parser)` and `run(args)`, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "eval": ("rlvr.evaluate.cli_eval", "sample a model n times per problem, grade, store, compute pass@k"),
    "compare": (
        "rlvr.evaluate.cli_compare",
        "pass@k curves with CIs, coverage, dSE, crossover; write a report",
    ),
    "regrade": (
        "rlvr.evaluate.cli_regrade",
        "grade a sample store again with another grader, without re-sampling",
    ),
    "perplexity": ("rlvr.evaluate.cli_perplexity", "perplexity of one model on another model's answers"),
    "contamination": (
        "rlvr.evaluate.cli_contamination",
        "prefix-completion probe: which problems a model completes from their first 60 percent (likely seen)",
    ),
    "train": (
        "rlvr.train.cli_train",
        "train from a YAML recipe (GRPO, RLOO, PPO, presets, SFT) with dotted overrides",
    ),
    "convert": ("rlvr.cli_convert", "a GGUF model as a safetensors directory with its pad and eos fixed"),
    "fetch": (
        "rlvr.cli_fetch",
        "download models and registry datasets into the local caches, for offline runs",
    ),
    "demo": (
        "rlvr.demo.cli_demo",
        "the whole story offline on a laptop CPU: base, GRPO, probe, distillation, perplexity, report",
    ),
    "sweep": (
        "rlvr.train.cli_sweep",
        "ablation grids over recipe keys, run locally, with accelerate or on SLURM",
    ),
    "probe": (
        "rlvr.train.cli_probe",
        "the boundary probe detached from training: evaluate checkpoints as they appear",
    ),
}


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser; `parser.subcommands` maps each name to its own parser, so that a sub-command's
    error shows that sub-command's usage."""
    from rlvr import __version__

    parser = argparse.ArgumentParser(
        prog="rlvr",
        description="Train LLMs with RL from verifiable rewards and measure the reasoning boundary (pass@k).",
    )
    parser.add_argument("--version", action="version", version=f"rlvr {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.subcommands = {}
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(_module=module_name)
        parser.subcommands[name] = command
        if name == chosen:  # only the chosen subcommand pays for its imports
            importlib.import_module(module_name).add_arguments(command)
    return parser


def subcommand_parser(name: str) -> argparse.ArgumentParser:
    """`rlvr NAME`'s parser with all its arguments, built without running anything (the docs' command checks)."""
    return build_parser(name).subcommands[name]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv[0] if argv else None)
    args, unknown = parser.parse_known_args(argv)
    if not args.command:
        if unknown:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        parser.print_help()
        return 1
    if unknown:  # argparse would name them under the top-level usage, which lists no sub-command's flags
        parser.subcommands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    module = importlib.import_module(args._module)
    try:
        result = module.run(args)
    except KeyboardInterrupt:
        # Ctrl-C: what was finished is kept (each sub-command stores as it goes); say so and how to go on
        command = shlex.join(["rlvr", *argv])
        try:
            said = module.interrupted(args, command) if hasattr(module, "interrupted") else None
        except Exception:  # a store too damaged to count: the general line still says how to go on
            said = None
        print(
            f"rlvr {args.command}: interrupted; {said or f'what was finished is kept; rerun `{command}` to go on'}",
            file=sys.stderr,
        )
        return 130
    except (ValueError, FileNotFoundError, KeyError) as exc:  # RecipeError is a ValueError
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"rlvr {args.command}: error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno not in _USER_ERRNOS:
            raise
        hint = (
            "free some space"
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
            else "choose a writable location"
        )
        print(
            f"rlvr {args.command}: error: cannot write {exc.filename or 'its output'}: {exc.strerror}; {hint} "
            f"(a rerun resumes what was done)",
            file=sys.stderr,
        )
        return 2
    return int(result or 0)


# Errors of the machine or of a path the user chose, not bugs: a full disk (or a file-size limit), a read-only --out.
_USER_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EFBIG,
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOTDIR,
    errno.EISDIR,
}


if __name__ == "__main__":
    sys.exit(main())
