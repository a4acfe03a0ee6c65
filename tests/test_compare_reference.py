"""`rlvr compare` on real published per-problem results (MATH-500, n = 128, base vs SimpleRL-Zoo)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parent / "data" / "reference"  # copied from ../shared/reference
BASE = REFERENCE / "math500_qwen2.5-7b-base_n128.csv"
RL = REFERENCE / "math500_simplerl-zoo-qwen2.5-7b_n128.csv"


def _read(path):
    with open(path) as f:
        return {r["problem"]: (int(r["n"]), int(r["correct"])) for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlvr.cli",
            "compare",
            str(BASE),
            str(RL),
            "--labels",
            "base,simplerl",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_writes_every_output(report):
    out, _ = report
    for name in ("report.html", "report.md", "passk.csv", "coverage.json"):
        assert (out / name).stat().st_size > 0
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3


def test_passk_csv_ends_agree_with_closed_forms(report):
    out, _ = report
    base, rl = _read(BASE), _read(RL)
    rows = list(csv.DictReader((out / "passk.csv").open()))
    assert len(rows) == 2 * 128
    got = {(r["label"], int(r["k"])): float(r["pass_at_k"]) for r in rows}
    # pass@1 is the mean success rate; pass@n is the share of problems with any correct sample
    for label, data in (("base", base), ("simplerl", rl)):
        assert got[(label, 1)] == pytest.approx(sum(c / n for n, c in data.values()) / len(data), abs=1e-6)
        assert got[(label, 128)] == pytest.approx(sum(c > 0 for _, c in data.values()) / len(data), abs=1e-6)
    for r in rows:
        assert float(r["ci_low"]) <= float(r["pass_at_k"]) + 1e-9 <= float(r["ci_high"]) + 2e-9


def test_coverage_counts_from_the_raw_files(report):
    out, stdout = report
    base, rl = _read(BASE), _read(RL)
    cov = json.loads((out / "coverage.json").read_text())
    base_only = sorted(p for p in base if base[p][1] > 0 and rl[p][1] == 0)
    rl_only = sorted(p for p in rl if rl[p][1] > 0 and base[p][1] == 0)
    assert sorted(cov["only"]["base"]["ids"]) == base_only
    assert sorted(cov["only"]["simplerl"]["ids"]) == rl_only
    assert cov["neither"]["count"] == sum(base[p][1] == 0 and rl[p][1] == 0 for p in base)
    # the published finding: RL wins pass@1, the base model solves more problems at k = n
    assert f"base alone solves {len(base_only)} problems, simplerl alone {len(rl_only)}" in stdout
    assert "simplerl leads at pass@1" in stdout and "base overtakes at k =" in stdout


def test_bad_counts_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("problem,n,right\n0,4,1\n")
    done = subprocess.run(
        [sys.executable, "-m", "rlvr.cli", "compare", str(bad), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "problem,n,correct" in done.stderr and "missing ['correct']" in done.stderr


def test_wandb_offline_run_holds_the_curves(tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")
    from rlvr.evaluate.counts import load_counts
    from rlvr.evaluate.report import compare
    from rlvr.tracking import log_comparison

    result = compare([load_counts(BASE, "base"), load_counts(RL, "simplerl")], resamples=50)
    run_dir = Path(log_comparison(result, "rlvr-test", tmp_path))
    assert "offline-run" in str(run_dir)
    assert list(run_dir.parent.glob("*.wandb"))
