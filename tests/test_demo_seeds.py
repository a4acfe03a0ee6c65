"""`rlvr demo --seeds`: each seed's run and the summary of where the paper's claims hold across seeds."""

from __future__ import annotations

import json

import pytest


def test_seeds_summary_reads_each_seed_and_counts_where_claims_hold(demo_out, tmp_path):
    """Two quick seeds (seed 0 is the session's quick demo, copied): the summary's numbers against each seed's stores."""
    import shutil

    from rlvr.cli import main
    from rlvr.evaluate.store import SampleStore

    out = tmp_path / "seeds"
    shutil.copytree(demo_out, out / "seed-0")
    assert main(["demo", "--seeds", "0,1", "--quick", "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    rows = summary["seeds"]
    assert [r["seed"] for r in rows] == [0, 1]
    for r in rows:
        probe = out / f"seed-{r['seed']}" / "rl" / "probe" / "heldout"
        last = max(int(p.name.split("-")[1]) for p in probe.glob("step-*"))
        mean_accuracy = []
        for store in (probe / "step-0", probe / f"step-{last}"):
            counts = SampleStore.open_existing(store).counts()
            # pass@1 is the mean success rate: c/n, or under the probe's sequential rule its unbiased estimate
            mean_accuracy.append(float(counts.rate.mean()))
        assert r["base_pass@1"] == pytest.approx(mean_accuracy[0]) and r["rl_pass@1"] == pytest.approx(
            mean_accuracy[1]
        )
        assert r["gain_pass@1"] == pytest.approx(mean_accuracy[1] - mean_accuracy[0])
        assert r["gain_low"] <= r["gain_pass@1"] <= r["gain_high"]
    holds = summary["across"]["holds"]
    assert holds["RL raises pass@1 beyond its 95% interval"] == sum(r["gain_low"] > 0 for r in rows)
    assert summary["across"]["gain_pass@1"]["min"] == min(r["gain_pass@1"] for r in rows)
    text = (out / "summary.md").read_text()
    assert "rlvr demo --seeds 0,1 --quick" in text and "| 1 |" in text and "of 2" in text
    for name in ("passk_seeds.png", "probe_seeds.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
