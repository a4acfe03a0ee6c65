"""Checks a documented shell command as shown, without running its work: an `rlvr` command (also as
`python -m rlvr.train`, `accelerate launch -m rlvr.train`, `torchrun -m rlvr.train`, or inside a SLURM
script that passes its extra flags on to `rlvr eval`) parses with its sub-command's own parser; a recipe or
sweep it trains loads with its overrides (an unknown key is refused with the closest valid one); the
repository's files it names exist; a `make` target is in the Makefile; a script's flags are in its source."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import shlex
from pathlib import Path

from doc_commands import ROOT

# First words of the paths into the checkout that a command may name (the rest are the user's or its output).
REPO_DIRS = ("recipes", "launch", "benchmarks", "docs", "demo")
# `NAME=value` before a command: its environment.
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# A word in capitals (MODEL, DATASET, M): a placeholder for the user's own thing, whose name is not checked.
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]*$")


class Unchecked(Exception):
    """A command of a kind this module has no check for: the test must list it, with the reason."""


def check(command: str) -> str | None:
    """The first problem with `command` as shown, or None; `Unchecked` for a program it cannot check."""
    for part in _parts(command):
        problem = _missing_repo_file(part) or _check_part(part)
        if problem:
            return problem
    return None


def _parts(command: str) -> list[list[str]]:
    """The simple commands of a line (`a && b`, `a &`), each without its leading environment assignments."""
    parts, current = [], []
    for word in [*shlex.split(command), "&&"]:
        if word in ("&&", "&", ";"):
            while current and ASSIGNMENT.match(current[0]):
                current.pop(0)
            if current:
                parts.append(current)
            current = []
        else:
            current.append(word)
    return parts


def _missing_repo_file(words: list[str]) -> str | None:
    for word in words:
        path = word.split("=", 1)[1] if word.startswith("--") and "=" in word else word
        if path.split("/")[0] in REPO_DIRS and "/" in path and not (ROOT / path).exists():
            return f"{path} is not in the repository"
    return None


def _check_part(words: list[str]) -> str | None:
    program, rest = Path(words[0]).name, words[1:]
    if program == "rlvr":
        return check_rlvr(rest)
    if re.fullmatch(r"python(3(\.\d+)?)?", program):
        return _check_python(rest)
    if program == "accelerate" and rest[:1] == ["launch"]:
        from accelerate.commands.launch import launch_command_parser

        return _check_launcher(launch_command_parser(), rest[1:], "accelerate launch")
    if program == "torchrun":
        from torch.distributed.run import get_args_parser

        return _check_launcher(get_args_parser(), rest, "torchrun")
    if program == "make":
        targets = set(re.findall(r"^([A-Za-z0-9_.-]+):", (ROOT / "Makefile").read_text(), flags=re.M))
        missing = [t for t in rest if not t.startswith("-") and "=" not in t and t not in targets]
        return f"make: no target {missing[0]!r} in the Makefile" if missing else None
    if program == "sbatch":
        return _check_sbatch(rest)
    raise Unchecked(words[0])


def check_rlvr(argv: list[str]) -> str | None:
    """`rlvr ARGV` parses with its sub-command's parser; `train` and `sweep` load what they would train."""
    from rlvr.cli import SUBCOMMANDS, subcommand_parser

    if not argv or argv[0] not in SUBCOMMANDS:
        return f"rlvr has no sub-command {argv[:1]}; it has {', '.join(SUBCOMMANDS)}"
    name = argv[0]
    args, problem = _parse(subcommand_parser(name), argv[1:])
    if problem:
        return problem
    try:
        _check_names(args)
        if name == "train" and not PLACEHOLDER.match(Path(args.recipe).stem):
            from rlvr.train.recipe import load_recipe

            load_recipe(_in_repo(args.recipe), args.overrides)
        elif name == "sweep" and not PLACEHOLDER.match(Path(args.sweep).stem):
            from rlvr.train.sweep import load_sweep

            load_sweep(_in_repo(args.sweep), args.overrides)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        return f"rlvr {name}: {exc.args[0] if isinstance(exc, KeyError) else exc}"
    return None


def _check_names(args) -> None:
    """The names a run would refuse after its models load: datasets, graders, steps verifiers (KeyError)."""
    from rlvr.data import DATASETS
    from rlvr.model_path import looks_like_hub_id
    from rlvr.rewards.registry import check_reward_name
    from rlvr.rewards.steps import check_steps_verifier_name

    datasets = [*(getattr(args, "dataset", None) or "").split(","), *getattr(args, "names", [])]
    for name in filter(None, datasets):
        if not (name in DATASETS or looks_like_hub_id(name) or name.endswith((".jsonl", ".json"))):
            if not PLACEHOLDER.match(name):
                raise KeyError(
                    f"{name!r} is not a registry dataset ({', '.join(DATASETS)}), a file or a Hub id"
                )
    if getattr(args, "reward", None) and ":" not in args.reward:
        check_reward_name(args.reward)
    if getattr(args, "steps_verifier", None) and ":" not in args.steps_verifier:
        check_steps_verifier_name(args.steps_verifier)


def _parse(parser, argv: list[str]):
    """(namespace, None), or (None, argparse's complaint) where it refuses `argv`."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said), contextlib.redirect_stdout(said):
            return parser.parse_args(argv), None
    except SystemExit:
        return None, said.getvalue().strip().splitlines()[-1]


def _in_repo(path: str) -> str:
    return str(ROOT / path) if not Path(path).is_absolute() and (ROOT / path).exists() else path


def _check_python(rest: list[str]) -> str | None:
    if rest[:1] == ["-m"] and len(rest) > 1:
        module = rest[1]
        if module == "rlvr.train":
            return check_rlvr(["train", *rest[2:]])
        if not module.startswith("rlvr."):
            raise Unchecked(f"python -m {module}")
        return None if importlib.util.find_spec(module) else f"no module {module}"
    if rest and rest[0].endswith(".py"):
        source = (ROOT / rest[0]).read_text()
        unknown = [
            w.split("=")[0] for w in rest[1:] if w.startswith("--") and f'"{w.split("=")[0]}"' not in source
        ]
        return f"{rest[0]} has no option {unknown[0]}" if unknown else None
    raise Unchecked(f"python {' '.join(rest[:2])}")


def _check_launcher(parser, argv: list[str], name: str) -> str | None:
    """A launcher's own flags parse, and the module it starts is rlvr's trainer, with its arguments."""
    args, problem = _parse(parser, argv)
    if problem:
        return f"{name}: {problem}"
    if not (args.module and args.training_script == "rlvr.train"):
        raise Unchecked(f"{name} of {args.training_script}")
    return check_rlvr(["train", *args.training_script_args])


def _check_sbatch(argv: list[str]) -> str | None:
    """A script that forwards MODEL DATASET OUT [flags] to `rlvr eval` (launch/slurm/eval_*.sbatch): those
    parse as eval's."""
    script = next((w for w in argv if w.endswith(".sbatch")), None)
    if script is None or not (ROOT / script).exists():
        return f"sbatch: no script in the repository among {argv}"
    text = (ROOT / script).read_text()
    extra = argv[argv.index(script) + 1 :]
    if "MODEL=$1; DATASET=$2; OUT=$3; shift 3" in text and re.search(r'rlvr}" eval .*\n.*"\$@"', text):
        model, dataset, out, *flags = extra
        return check_rlvr(["eval", "--model", model, "--dataset", dataset, "--out", out, *flags])
    raise Unchecked(f"sbatch {script}")
