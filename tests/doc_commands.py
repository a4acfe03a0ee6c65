"""The commands that README.md and docs/*.md show, and a directory laid out as a new user's after `make demo`,
for the tests that run them as shown (test_readme_commands.py, test_docs_commands.py)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bash_commands(text: str) -> list[str]:
    """The commands of every ```bash block, in order: comments dropped, continued lines (\\) joined."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        pending = ""
        for line in block.splitlines():
            line = re.sub(r"(^|\s)#.*$", "", line).rstrip()
            if line.endswith("\\"):
                pending += line[:-1].rstrip() + " "
                continue
            command = " ".join((pending + line).split())
            pending = ""
            if command:
                commands.append(command)
    return commands


def docs_commands() -> list[tuple[str, str]]:
    """(page, command) for every command of the mkdocs site's pages, page by page."""
    return [
        (page.name, command)
        for page in sorted((ROOT / "docs").glob("*.md"))
        for command in bash_commands(page.read_text())
    ]


def user_home(where: Path, demo_out: Path) -> Path:
    """A user's working directory after `make demo`: the demo's output as demo_out, the checkout's recipes and
    launch files, and its virtual environment."""
    home = where / "user"
    home.mkdir()
    for name, target in {
        ".venv": ROOT / ".venv",
        "recipes": ROOT / "recipes",
        "launch": ROOT / "launch",
        "benchmarks": ROOT / "benchmarks",
        "demo_out": demo_out,
    }.items():
        (home / name).symlink_to(target)
    return home


def user_env(path: str = "/usr/bin:/bin") -> dict[str, str]:
    """Offline, no GPU, and a fresh shell's PATH (rlvr is found only where the venv's bin is put first)."""
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "WANDB_MODE": "offline",
        "CUDA_VISIBLE_DEVICES": "",
        "PATH": path,
    }


def run_as_user(command: str, home: Path, env: dict[str, str], setup: list[str] | None = None):
    """One command in its own shell, after the shell's setup lines (a venv's activation)."""
    script = "\n".join([*(setup or []), "set -e", command])
    return subprocess.run(
        ["bash", "-c", script], cwd=home, env=env, capture_output=True, text=True, timeout=600
    )
