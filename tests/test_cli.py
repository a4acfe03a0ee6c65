import subprocess
import sys


def test_help_lists_subcommands():
    out = subprocess.run([sys.executable, "-m", "rlvr.cli", "--help"], capture_output=True, text=True, check=True)
    for name in ("eval", "compare", "regrade", "perplexity", "train"):
        assert name in out.stdout


def test_no_subcommand_is_an_error():
    done = subprocess.run([sys.executable, "-m", "rlvr.cli"], capture_output=True, text=True)
    assert done.returncode == 1


def test_demo_runs_one_experiment_at_a_time(capsys):
    from cli_helpers import one_line_error

    err = one_line_error(capsys, "demo", "--model", "smollm2", "--seeds", "0,1", "--out", "/nonexistent/x")
    assert "--ablation, --seeds and --model are separate runs" in err
