import subprocess
import sys


def test_help_lists_subcommands():
    out = subprocess.run(
        [sys.executable, "-m", "rlvr.cli", "--help"], capture_output=True, text=True, check=True
    )
    for name in ("eval", "compare", "regrade", "perplexity", "train"):
        assert name in out.stdout


def test_no_subcommand_is_an_error():
    done = subprocess.run([sys.executable, "-m", "rlvr.cli"], capture_output=True, text=True)
    assert done.returncode == 1


def test_demo_runs_one_experiment_at_a_time(capsys):
    from cli_helpers import one_line_error

    err = one_line_error(capsys, "demo", "--model", "smollm2", "--seeds", "0,1", "--out", "/nonexistent/x")
    assert "--ablation, --seeds and --model are separate runs" in err
    for seeds in ("0,0", ",", "a"):  # ',' ended in an IndexError, '0,0' ran seed 0 twice
        err = one_line_error(capsys, "demo", "--seeds", seeds, "--out", "/nonexistent/x")
        assert f"--seeds takes distinct comma-separated whole numbers, e.g. 0,1,2,3,4; got {seeds!r}" in err


def test_counts_and_intervals_below_their_range_are_one_line_naming_the_flag(capsys, tmp_path):
    """They used to reach numpy or range() and end in a traceback (--resamples 0, --se-k 0, --batch-size 0) or
    a nan (--max-per-problem 0)."""
    import pytest

    from rlvr.cli import main

    out = str(tmp_path / "out")
    cases = [
        (
            ["compare", "a.csv", "--out", out, "--resamples", "0"],
            "argument --resamples: must be at least 1, not 0",
        ),
        (["compare", "a.csv", "--out", out, "--se-k", "-2"], "argument --se-k: must be at least 1, not -2"),
        (
            ["compare", "a.csv", "--out", out, "--resamples", "ten"],
            "argument --resamples: 'ten' is not a whole number",
        ),
        (
            ["perplexity", "--model", "m", "--samples", "s", "--out", out, "--batch-size", "0"],
            "argument --batch-size: must be at least 1",
        ),
        (
            ["perplexity", "--model", "m", "--samples", "s", "--out", out, "--max-per-problem", "0"],
            "argument --max-per-problem: must be at least 1",
        ),
        (["probe", "--watch", out, "--interval", "0"], "argument --interval: must be more than 0 seconds"),
    ]
    for argv, expected in cases:
        with pytest.raises(SystemExit) as exit_:  # argparse's way: usage, then one error line, exit status 2
            main(argv)
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert exit_.value.code == 2 and err.startswith(f"rlvr {argv[0]}: error: ") and expected in err, (
            argv,
            err,
        )


def test_labels_are_one_non_empty_name_per_input(capsys, tmp_path):
    """`--labels a,` used to name the second model '' in every table and figure; `a, b` kept the space."""
    from cli_helpers import one_line_error

    from rlvr.cli_types import label_list

    out = str(tmp_path / "out")
    err = one_line_error(capsys, "compare", "x.csv", "y.csv", "--labels", "a,", "--out", out)
    assert "--labels 'a,' has an empty name" in err
    err = one_line_error(
        capsys, "perplexity", "--model", "m", "--samples", "s1", "s2", "--labels", "base", "--out", out
    )
    assert "--labels names 1 models but 2 --samples stores were given" in err
    assert label_list("base, rl", 2, "inputs") == ["base", "rl"]
    assert label_list(None, 3, "inputs") == [None, None, None]
