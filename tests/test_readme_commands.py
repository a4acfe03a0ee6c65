"""Every command in README.md's bash blocks that needs neither a GPU nor the Hub runs as shown and exits 0, run as
a new user runs them after `make demo`: in a directory holding the demo's output (a quick demo's: the same
layout, smaller), the repository's recipes and its virtual environment, one shell per command.

A README line is either run or listed in SKIPPED with the reason, so a new command cannot go untested unseen."""

from __future__ import annotations

import re

import pytest
from doc_commands import ROOT, bash_commands, run_as_user, user_env, user_home

SKIPPED = {
    "make demo": "the full demo (about 7 minutes); the commands run in a quick demo's output instead",
    "make demo-real": "the real-model demo: about 25 minutes",
    "make test": "the test suite this test is part of",
    "make docs": "mkdocs and its extras; CI's `make docs-check` builds the site",
    "python3 -m venv .venv && . .venv/bin/activate": "creates an environment; the test runs in the installed one",
    "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu": "downloads torch",
    'pip install -c constraints.txt -e ".[dev]"': "installs from the package index",
    'pip install -e ".[vllm]"': "installs vLLM, for GPU machines",
    "rlvr eval --model Qwen/Qwen2.5-7B --dataset math500 --n 256 --out runs/eval/qwen": "a 7B model and a "
    "benchmark from the Hub, on a GPU",
    "rlvr eval --model Qwen/Qwen2.5-7B --dataset math500 --n 256 --out runs/eval/served --backend openai "
    "--base-url http://node1:8000,http://node2:8000": "OpenAI-compatible servers serving a 7B model on other hosts",
    "accelerate launch --config_file launch/accelerate/multi_gpu.yaml -m rlvr.train RECIPE.yaml": "several GPUs; "
    "RECIPE.yaml stands for the user's recipe",
    "rlvr probe --watch RUN_DIR": "watches a training run until stopped; RUN_DIR stands for the user's run",
    "rlvr sweep recipes/ablations/kl.yaml --launcher slurm": "needs a SLURM cluster and GPUs",
}
# Lines that set up the shell (activate a venv): run, and run again before each later command.
SESSION = re.compile(r"^(\.|source) ")


def readme_commands() -> list[str]:
    return bash_commands((ROOT / "README.md").read_text())


def test_every_skipped_line_is_in_the_readme():
    assert not set(SKIPPED) - set(readme_commands()), "SKIPPED lists lines the README no longer has"


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a dozen commands, each a fresh process that loads torch
def test_readme_commands_run_on_the_demos_models(demo_out, tmp_path):
    """Each command's exit status, in the order the README shows them (later ones read earlier ones' output)."""
    home = user_home(tmp_path, demo_out)
    env = user_env()  # a fresh shell: rlvr is found only once the README's line activates the venv
    session: list[str] = []
    ran = []
    for command in readme_commands():
        if command in SKIPPED:
            continue
        done = run_as_user(command, home, env, session)
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        ran.append(command)
        if SESSION.match(command):
            session.append(command)
    assert any(c.startswith("rlvr eval") for c in ran) and any(c.startswith("rlvr compare") for c in ran)
    assert (home / "reports" / "base-vs-rl" / "report.html").exists()
