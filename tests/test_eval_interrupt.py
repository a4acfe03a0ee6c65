"""Ctrl-C in `rlvr eval`: one line saying what is saved and the command that resumes, exit status 130; the rerun
says it is resuming and ends where an uninterrupted run ends."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import time

from store_helpers import N, eval_cmd, same_results


def test_ctrl_c_is_one_line_naming_what_is_saved_and_the_command_that_resumes(
    tiny_model_dir, data_file, full_run, tmp_path
):
    out = tmp_path / "store"
    argv = eval_cmd(tiny_model_dir, data_file, out, "--samples-per-call", "2")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = out / "samples.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if samples.exists() and samples.stat().st_size > 0:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    stored = len(samples.read_text().splitlines())
    assert 0 < stored < 8 * N, "the interrupt should land mid-run"
    command = shlex.join(["rlvr", *argv[3:]])  # argv is python -m rlvr.cli ...
    assert "Traceback" not in err  # above the line only transformers' weight-loading bar
    assert err.strip().splitlines()[-1] == (
        f"rlvr eval: interrupted; {stored} of {8 * N} samples are saved in {out}; `{command}` resumes"
    )
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"resuming: {stored} of {8 * N} samples stored" in done.stderr.splitlines()
    assert same_results(out, full_run)
    results = json.loads((out / "results.json").read_text())
    table = done.stdout.splitlines()[:6]  # the end of a run: pass@k at k = 1, 2, 4, 8, 16 (n = 16), intervals
    assert table[0].split("\t") == ["k", "pass@k", "95% interval"]
    for line, k in zip(table[1:], (1, 2, 4, 8, 16), strict=True):
        low, high = results["pass_at_k_ci"][str(k)]
        assert line == f"{k}\t{results['pass_at_k'][str(k)]:.4f}\t[{low:.4f}, {high:.4f}]"
