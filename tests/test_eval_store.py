"""`rlvr eval` with the tiny local model: resume after SIGKILL, shards, torn lines, regrade, perplexity."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from store_helpers import N, eval_cmd, same_results, snapshot

from rlvr.evaluate.store import SampleStore


def test_store_layout(full_run):
    meta = json.loads((full_run / "meta.json").read_text())
    assert (
        meta["n"] == N
        and meta["seed"] == 7
        and meta["grader"] == "math"
        and "transformers" in meta["versions"]
    )
    records = SampleStore.open_existing(full_run).records()
    assert len(records) == 8 * N
    assert set(records[0]) >= {
        "problem",
        "sample",
        "text",
        "extracted",
        "verdict",
        "correct",
        "tokens",
        "finish_reason",
    }
    results = json.loads((full_run / "results.json").read_text())
    assert all(v["n"] == N for v in results["problems"].values())
    assert len(results["pass_at_k"]) == N


def test_sigkill_then_rerun_equals_uninterrupted(tiny_model_dir, data_file, full_run, tmp_path):
    out = tmp_path / "store"
    proc = subprocess.Popen(
        eval_cmd(tiny_model_dir, data_file, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    samples = out / "samples.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if samples.exists() and samples.stat().st_size > 0:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = len(samples.read_text().splitlines())
    assert 0 < partial < 8 * N, "the kill should land mid-run"
    with samples.open("a") as f:  # as if the kill tore the last line
        f.write('{"problem": "p7", "sample": 3, "te')
    subprocess.run(eval_cmd(tiny_model_dir, data_file, out), check=True, capture_output=True, timeout=600)
    assert snapshot(out) == snapshot(full_run)
    assert same_results(out, full_run)


def test_two_shards_merge_into_the_unsharded_run(tiny_model_dir, data_file, full_run, tmp_path):
    out = tmp_path / "sharded"
    for shard in ("0/2", "1/2"):
        subprocess.run(
            eval_cmd(tiny_model_dir, data_file, out, "--shard", shard),
            check=True,
            capture_output=True,
            timeout=600,
        )
    assert sorted(p.name for p in out.glob("samples*.jsonl")) == [
        "samples.shard-0-of-2.jsonl",
        "samples.shard-1-of-2.jsonl",
    ]
    assert snapshot(out) == snapshot(full_run)


def test_different_settings_refuse_to_resume(tiny_model_dir, data_file, full_run):
    cmd = eval_cmd(tiny_model_dir, data_file, full_run)
    cmd[cmd.index("--seed") + 1] = "8"
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2
    assert "seed=7" in done.stderr and "another --out" in done.stderr
    cmd = [*eval_cmd(tiny_model_dir, data_file, full_run), "--dtype", "bf16"]  # made under --dtype auto
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2 and "dtype='auto', not 'bf16'" in done.stderr, done.stderr


def test_regrade_strict_never_credits_more(full_run, tmp_path):
    from rlvr.evaluate.cli_regrade import regrade

    strict = regrade(str(full_run), "math_strict", str(tmp_path / "strict"))
    lenient_counts = SampleStore.open_existing(full_run).counts()
    strict_counts = SampleStore.open_existing(strict).counts()
    assert (strict_counts.correct <= lenient_counts.correct).all()
    assert json.loads((strict / "meta.json").read_text())["grader"] == "math_strict"
    assert len(SampleStore.open_existing(strict).records()) == 8 * N


def test_perplexity_matches_a_direct_computation(tiny_model_dir):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr.evaluate.perplexity import response_perplexities

    prompts, responses = ["Question: What is 1 + 2?", "Q"], [" The answer is 3.", " 12 + 30 = 42 and more"]
    got = response_perplexities(tiny_model_dir, prompts, responses, batch_size=2, progress=False)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    for prompt, response, value in zip(prompts, responses, got):
        p = tok(prompt)["input_ids"]
        r = tok(response)["input_ids"]
        ids = torch.tensor([p + r])
        with torch.no_grad():
            logprobs = model(ids).logits[0, :-1].log_softmax(-1)
        nll = -sum(logprobs[len(p) - 1 + i, t].item() for i, t in enumerate(r)) / len(r)
        assert value == pytest.approx(float(torch.tensor(nll).exp()), rel=1e-4)


def test_missing_data_file_names_the_flag(tiny_model_dir, tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlvr.cli",
            "eval",
            "--model",
            tiny_model_dir,
            "--data-file",
            str(tmp_path / "nope.jsonl"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "--data-file" in done.stderr


def test_offline_hub_dataset_error_names_data_file():
    from rlvr.data import load_problems

    env_before = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        with pytest.raises(ValueError, match="--data-file"):
            load_problems("math500")
    finally:
        if env_before is None:
            os.environ.pop("HF_HUB_OFFLINE")
        else:
            os.environ["HF_HUB_OFFLINE"] = env_before


def test_results_schema_records_provenance_intervals_and_coverage(full_run):
    import math
    import subprocess as sp

    import numpy as np

    results = json.loads((full_run / "results.json").read_text())
    assert set(results) == {
        "schema_version",
        "rlvr_version",
        "command",
        "git_commit",
        "model",
        "model_path",
        "model_weights_sha256",
        "dataset",
        "grader",
        "sampling",
        "problems",
        "pass_at_k",
        "pass_at_k_ci",
        "summary",
        "coverage",
        "sequential",
        "spend",
        "chance_floor",
    }
    assert set(results["chance_floor"]) == set(results["pass_at_k"])
    assert results["sequential"] is None  # a uniform store
    assert results["spend"]["samples"] == results["spend"]["uniform_samples"]
    assert results["schema_version"] == 2 and results["command"].startswith("rlvr eval --model ")
    head = sp.run(
        ["git", "-C", str(Path(__file__).parent), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    assert results["git_commit"] == (head.stdout.strip() if head.returncode == 0 else None)
    assert results["sampling"] == {
        "n": N,
        "temperature": 0.6,
        "top_p": 0.95,
        "top_k": 0,  # off
        "min_p": 0.0,
        "stop": [],
        "max_tokens": 12,
        "seed": 7,
        "sample_seeds": "per-sample-v1",
        "stop_at_correct": None,  # uniform n
        "min_samples": None,
    }
    counts = [(v["n"], v["correct"]) for v in results["problems"].values()]
    assert (
        results["coverage"]["solved"] == sum(c > 0 for _, c in counts)
        and results["coverage"]["problems"] == 8
    )
    # an independent bootstrap of the mean unbiased pass@k over problems, from exact binomials
    rng = np.random.default_rng(1)
    for k in (1, 4, 16):
        per_problem = np.array([1 - math.comb(n - c, k) / math.comb(n, k) for n, c in counts])
        assert results["pass_at_k"][str(k)] == pytest.approx(per_problem.mean(), abs=1e-12)
        boot = per_problem[rng.integers(0, len(per_problem), (4000, len(per_problem)))].mean(axis=1)
        low, high = results["pass_at_k_ci"][str(k)]
        assert low <= per_problem.mean() <= high
        assert low == pytest.approx(np.quantile(boot, 0.025), abs=0.05)
        assert high == pytest.approx(np.quantile(boot, 0.975), abs=0.05)


def test_call_size_does_not_change_the_samples(tiny_model_dir, data_file, full_run, tmp_path):
    """Each sample has its own seed: `auto` (256 per call here) draws what 8 per call drew, and a store
    resumes under another call size."""
    out = tmp_path / "auto"
    cmd = eval_cmd(tiny_model_dir, data_file, out, "--limit", "3")
    cmd[cmd.index("--samples-per-call") + 1] = "auto"
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    assert snapshot(out) == [r for r in snapshot(full_run) if r[0] in ("p0", "p1", "p2")]
    samples = out / "samples.jsonl"
    samples.write_text("".join(samples.read_text().splitlines(keepends=True)[:20]))
    cmd[cmd.index("--samples-per-call") + 1] = "5"
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    assert snapshot(out) == [r for r in snapshot(full_run) if r[0] in ("p0", "p1", "p2")]
