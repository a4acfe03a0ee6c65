"""A second `rlvr demo --quick` in a fresh directory: the same base, GRPO and probe samples under the seed."""

from __future__ import annotations

import json


def test_a_second_quick_demo_reproduces_every_sample(demo_out, tmp_path):
    """Deterministic under the seed: pretraining, GRPO and the probe's samples all come out the same."""
    from rlvr.cli import main

    again = tmp_path / "again"
    assert main(["demo", "--quick", "--out", str(again), "--no-progress"]) == 0
    assert _probe_rows(again) == _probe_rows(demo_out)
    assert _step_samples(again) == _step_samples(demo_out)


def _probe_rows(out):
    lines = (out / "rl" / "probe.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "model"} for line in lines]


def _step_samples(out):
    return (out / "rl" / "probe" / "heldout" / "step-4" / "samples.jsonl").read_text()
