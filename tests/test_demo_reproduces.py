"""A second `rlvr demo --quick` in a fresh directory, run while another process keeps one core busy: the same
base, GRPO and probe samples under the seed. The thread count is the machine's, never its load's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest


@pytest.mark.timeout(2400)  # two quick demos, one beside a spinner, on a CPU other jobs share
def test_a_second_quick_demo_under_load_reproduces_every_sample(demo_out, tmp_path):
    """Deterministic under the seed whatever else runs: pretraining, GRPO and every probe sample come out the
    same with one core held by a spin loop (bounded to the test's length; killed however the demo ends)."""
    from rlvr.cli import main

    again = tmp_path / "again"
    spinner = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 1800\nwhile time.time() < end: pass"]
    )
    try:
        os.sched_setaffinity(spinner.pid, {max(os.sched_getaffinity(0))})
        time.sleep(0.3)  # the spinner holds its core before the demo picks a thread count
        assert main(["demo", "--quick", "--out", str(again), "--no-progress"]) == 0
        assert spinner.poll() is None, "the spinner ended before the demo did: nothing was kept busy"
    finally:
        spinner.kill()
        spinner.wait()
    assert _probe_rows(again) == _probe_rows(demo_out)
    first, second = _probe_samples(demo_out), _probe_samples(again)
    assert len(first) >= 2 and set(first) == set(second)  # step 0 (the base model) and every later probe
    for store in first:
        assert second[store] == first[store], f"probe samples differ in {store}"


def _probe_rows(out):
    lines = (out / "rl" / "probe.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "model"} for line in lines]


def _probe_samples(out) -> dict[str, list[dict]]:
    """Every probe store's samples, as records in (problem, sample) order (call packing may differ)."""
    stores = {}
    for path in sorted((out / "rl" / "probe").glob("*/step-*/samples*.jsonl")):
        records = [json.loads(line) for line in path.read_text().splitlines()]
        stores[str(path.relative_to(out))] = sorted(records, key=lambda r: (str(r["problem"]), r["sample"]))
    return stores
