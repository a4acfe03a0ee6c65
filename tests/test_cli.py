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


def test_a_sub_command_error_shows_that_sub_command_s_usage(capsys):
    """`rlvr eval --k 300` used to print the top-level usage, which lists none of eval's flags."""
    import pytest

    from rlvr.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["eval", "--model", "m", "--out", "o", "--k", "300"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith("usage: rlvr eval ") and "--max-tokens" in err and "COMMAND" not in err, err
    assert err.strip().splitlines()[-1] == "rlvr eval: error: unrecognized arguments: --k 300"


def test_se_k_beyond_the_base_models_n_is_refused(capsys, tmp_path):
    """With n = 64 samples per problem, --se-k 300 used to compute ΔSE at k = 64 without a word."""
    from cli_helpers import one_line_error

    csvs = []
    for name, correct in (("base", (0, 5, 64)), ("rl", (1, 60, 64))):
        path = tmp_path / f"{name}.csv"
        path.write_text("problem,n,correct\n" + "".join(f"p{i},64,{c}\n" for i, c in enumerate(correct)))
        csvs.append(str(path))
    out = str(tmp_path / "report")
    err = one_line_error(capsys, "compare", *csvs, "--se-k", "300", "--resamples", "10", "--out", out)
    assert err == (
        "rlvr compare: error: --se-k 300 is more than the 64 samples per problem of base; "
        "choose --se-k 64 or less (pass@k needs k <= n)"
    )
