"""A second `rlvr demo --quick` in a fresh directory: the same base, GRPO and probe samples under the seed."""

from __future__ import annotations

import json


def test_a_second_quick_demo_reproduces_every_sample(demo_out, tmp_path):
    """Deterministic under the seed: pretraining, GRPO and the probe's samples all come out the same."""
    from rlvr.cli import main

    again = tmp_path / "again"
    assert main(["demo", "--quick", "--out", str(again), "--no-progress"]) == 0
    probe = lambda out: [
        {k: v for k, v in json.loads(line).items() if k != "model"}  # noqa: E731
        for line in (out / "rl" / "probe.jsonl").read_text().splitlines()
    ]
    assert probe(again) == probe(demo_out)
    texts = lambda out: (out / "rl" / "probe" / "heldout" / "step-4" / "samples.jsonl").read_text()  # noqa: E731
    assert texts(again) == texts(demo_out)
