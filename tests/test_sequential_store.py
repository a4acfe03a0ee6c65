"""`rlvr eval --stop-at-correct`: a sequential store is, sample for sample, a prefix of the uniform store of
the same seed; its stops are the rule walked over the uniform store's samples in index order; kill and
resume, shards and the floor give the same counted samples; compare and regrade read it through the rule.

The problems' success rates are set by a grader of known rates (tests/rate_grader.py): the tiny test model
answers at random, so the math grader would give it too few correct samples to exercise the rule.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from store_helpers import eval_cmd

from rlvr.evaluate.store import SampleStore

TESTS = str(Path(__file__).parent)
RATES = [2, 3, 4, 8, 2, 3, 16, 64]  # problem i is correct with probability about 1/RATES[i]
N_MAX, M = 32, 3


@pytest.fixture(scope="module")
def rate_data(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("rate") / "problems.jsonl"
    rows = [
        {"id": f"p{i}", "problem": f"What is {i} + {i % 3}?", "answer": str(r)} for i, r in enumerate(RATES)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _cmd(model: str, data: str, out: Path, *extra: str) -> list[str]:
    """store_helpers' eval command (seed 7, 12 tokens, 8 per call) at n_max 32 under the rate grader; the last
    --n wins."""
    return eval_cmd(model, data, out, "--n", str(N_MAX), "--reward", "rate_grader:grader", *extra)


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([TESTS, os.environ.get("PYTHONPATH", "")])}


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=_env())
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _by_key(store: Path) -> dict[tuple[str, int], dict]:
    return {(str(r["problem"]), int(r["sample"])): r for r in SampleStore.open_existing(store).records()}


def _walk(flags: list[bool], m: int, n_min: int = 0) -> tuple[int, int]:
    """The rule written out plainly: walk samples in index order to the m-th correct (not before n_min)."""
    c = 0
    for i, ok in enumerate(flags):
        c += ok
        if c >= m and i + 1 >= n_min:
            return i + 1, c
    return len(flags), c


def _counted(store: Path) -> dict[str, tuple[int, int]]:
    counts = SampleStore.open_existing(store).counts()
    return {p: (int(n), int(c)) for p, n, c in zip(counts.problems, counts.n, counts.correct)}


@pytest.fixture(scope="module")
def uniform(tiny_model_dir, rate_data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("uniform") / "store"
    _run(_cmd(tiny_model_dir, rate_data, out))
    return out


@pytest.fixture(scope="module")
def sequential(tiny_model_dir, rate_data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sequential") / "store"
    _run(_cmd(tiny_model_dir, rate_data, out, "--stop-at-correct", str(M)))
    return out


def _expected_stops(uniform: Path, m: int = M, n_min: int = 0) -> dict[str, tuple[int, int]]:
    records = _by_key(uniform)
    return {
        f"p{i}": _walk([records[(f"p{i}", s)]["correct"] for s in range(N_MAX)], m, n_min)
        for i in range(len(RATES))
    }


def test_sequential_store_is_a_prefix_of_the_uniform_store(uniform, sequential):
    full, seq = _by_key(uniform), _by_key(sequential)
    assert seq, "the sequential run stored nothing"
    for key, record in seq.items():
        assert record["text"] == full[key]["text"] and record["correct"] == full[key]["correct"], key
    stops = _expected_stops(uniform)
    assert _counted(sequential) == stops
    for pid, (t, _) in stops.items():  # every counted sample is stored
        assert all((pid, s) in seq for s in range(t))
    assert len(seq) < len(full), "the rule should have saved samples on problems of rate 1/2 .. 1/8"


def test_results_record_the_rule_and_coverage_equals_uniform(uniform, sequential):
    results = json.loads((sequential / "results.json").read_text())
    assert results["schema_version"] == 2
    assert results["sequential"] == {"stop_at_correct": M, "n_max": N_MAX, "min_samples": 0}
    stops = _expected_stops(uniform)
    assert {p: (v["n"], v["correct"]) for p, v in results["problems"].items()} == stops
    assert results["spend"]["samples"] == len(_by_key(sequential))
    assert results["spend"]["uniform_samples"] == N_MAX * len(RATES)
    assert len(results["pass_at_k"]) == N_MAX  # every k up to n_max
    uniform_results = json.loads((uniform / "results.json").read_text())
    assert results["coverage"] == uniform_results["coverage"]
    # pass@n_max is the share of problems with a correct sample in n_max: the same draw in both stores
    assert results["pass_at_k"][str(N_MAX)] == pytest.approx(uniform_results["pass_at_k"][str(N_MAX)])


def test_kill_and_resume_count_the_same_samples(tiny_model_dir, rate_data, sequential, tmp_path):
    out = tmp_path / "store"
    cmd = _cmd(tiny_model_dir, rate_data, out, "--stop-at-correct", str(M))
    rng = random.Random(3)
    for _ in range(2):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
        deadline = time.time() + 300
        samples = out / "samples.jsonl"
        while time.time() < deadline and proc.poll() is None:
            if samples.exists() and samples.read_bytes().count(b"\n") > 8 * (1 + rng.randrange(3)):
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    _run(cmd)
    assert _counted(out) == _counted(sequential)
    resumed, first = _by_key(out), _by_key(sequential)
    for key in set(resumed) & set(first):
        assert resumed[key]["text"] == first[key]["text"]


def test_shards_own_whole_problems_and_merge_to_the_same_stops(
    tiny_model_dir, rate_data, sequential, tmp_path
):
    out = tmp_path / "store"
    for shard in ("0/2", "1/2"):
        _run(_cmd(tiny_model_dir, rate_data, out, "--stop-at-correct", str(M), "--shard", shard))
    assert _counted(out) == _counted(sequential)
    owners = {}
    for file in sorted(out.glob("samples.shard-*.jsonl")):
        for line in file.read_text().splitlines():
            owners.setdefault(json.loads(line)["problem"], set()).add(file.name)
    assert all(len(files) == 1 for files in owners.values())
    assert (out / "results.json").exists()


def test_floor_keeps_sampling_to_min_samples(tiny_model_dir, rate_data, uniform, tmp_path):
    out = tmp_path / "store"
    _run(_cmd(tiny_model_dir, rate_data, out, "--stop-at-correct", "2", "--min-samples", "8"))
    expected = _expected_stops(uniform, m=2, n_min=8)
    assert _counted(out) == expected
    assert all(t >= 8 for t, _ in expected.values())


def test_a_store_resumes_only_under_its_own_rule(tiny_model_dir, rate_data, sequential):
    done = subprocess.run(
        _cmd(tiny_model_dir, rate_data, sequential, "--stop-at-correct", "5"),
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(),
    )
    assert done.returncode != 0
    assert "--stop-at-correct 3" in done.stderr and "choose another --out" in done.stderr


def test_compare_reads_sequential_against_uniform(uniform, sequential, tmp_path):
    from rlvr.evaluate.counts import load_counts
    from rlvr.evaluate.stats import coverage, paired_difference

    seq, uni = load_counts(sequential, "seq"), load_counts(uniform, "uni")
    assert seq.k_limit == N_MAX
    diff = paired_difference(seq, uni)
    assert len(diff.diff) == N_MAX
    # at k = n_max both are the share of problems solved within the same n_max samples
    assert diff.diff[-1] == pytest.approx(0.0)
    assert coverage([seq, uni])["only"] == {"seq": {"count": 0, "ids": []}, "uni": {"count": 0, "ids": []}}
    done = subprocess.run(
        [sys.executable, "-m", "rlvr.cli", "compare", str(uniform), str(sequential), "--labels", "uni,seq"]
        + ["--out", str(tmp_path / "report"), "--resamples", "200"],
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = (tmp_path / "report" / "passk.csv").read_text().splitlines()
    assert len(rows) == 2 * N_MAX + 1  # a row per model and k


def test_cover_at_tau_uses_the_unbiased_rate(sequential):
    from rlvr.evaluate.counts import load_counts

    counts = load_counts(sequential)
    rate = counts.rate
    for t, c, r, still_open in zip(counts.n, counts.correct, rate, counts.open):
        assert not still_open
        expected = (M - 1) / (t - 1) if c == M else c / t
        assert r == pytest.approx(expected)
    assert np.all(rate <= 1)


def test_regrade_recomputes_the_stops_in_index_order(sequential, tmp_path):
    """An easier grader closes problems earlier: the stops are walked again over the stored samples (those
    past the new stop go uncounted). A harder one would need samples never drawn: one line says so."""
    import hashlib

    env = _env()
    out = tmp_path / "easier"
    done = subprocess.run(
        [sys.executable, "-m", "rlvr.cli", "regrade", str(sequential), "--reward", "rate_grader:easier"]
        + ["--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "stops recomputed in index order" in done.stderr
    stored = _by_key(sequential)

    def easier(text: str, r: int) -> bool:
        value = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
        return value % max(1, r // 2) == 0

    expected = {}
    for i, r in enumerate(RATES):
        flags = []
        for s in range(N_MAX):
            if (f"p{i}", s) not in stored:
                break
            flags.append(easier(stored[(f"p{i}", s)]["text"], r))
        expected[f"p{i}"] = _walk(flags, M)
    assert _counted(out) == expected

    done = subprocess.run(
        [sys.executable, "-m", "rlvr.cli", "regrade", str(sequential), "--reward", "rate_grader:harder"]
        + ["--out", str(tmp_path / "harder")],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode != 0
    lines = [line for line in done.stderr.strip().splitlines() if "WARNING" not in line]
    assert len(lines) == 1 and "never drew" in lines[0], done.stderr
