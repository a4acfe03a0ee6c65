import subprocess
import sys


def test_help_lists_subcommands():
    out = subprocess.run([sys.executable, "-m", "rlvr.cli", "--help"], capture_output=True, text=True, check=True)
    for name in ("eval", "compare", "regrade", "perplexity", "train"):
        assert name in out.stdout


def test_no_subcommand_is_an_error():
    done = subprocess.run([sys.executable, "-m", "rlvr.cli"], capture_output=True, text=True)
    assert done.returncode == 1
