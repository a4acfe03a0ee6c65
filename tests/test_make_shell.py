"""`make shell` opens the user's $SHELL with the venv's bin first on PATH, so `rlvr` is found after `make demo`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    shutil.which("make") is None or not (Path(sys.prefix) / "bin" / "rlvr").exists(),
    reason="needs make, and rlvr installed in a venv",
)
def test_make_shell_puts_rlvr_on_path(tmp_path):
    shell = tmp_path / "shell"  # stands in for the user's interactive shell: says which rlvr it finds
    shell.write_text("#!/bin/sh\ncommand -v rlvr\n")
    shell.chmod(0o755)
    env = {**os.environ, "SHELL": str(shell), "PATH": "/usr/bin:/bin"}
    venv = Path(sys.prefix)  # the venv this suite runs in; -o: its install stamp counts as up to date
    done = subprocess.run(
        ["make", "--no-print-directory", f"VENV={venv}", "-o", f"{venv}/.rlvr-installed", "shell"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    said, found = done.stdout.strip().splitlines()
    assert f"source {venv}/bin/activate" in said
    assert found == str(venv / "bin" / "rlvr")
