"""`rlvr demo --controls`: the true reward against the random, format_only and wrong_label controls on the demo's
base model, through `rlvr sweep`, every run probed with the math grader."""

from __future__ import annotations

import json

import pytest


def counts_of(store):
    from rlvr.evaluate.store import SampleStore

    return SampleStore.open_existing(store).counts()


def mean_accuracy(store) -> float:
    """pass@1 of a sample store: the mean per-problem success rate."""
    counts = counts_of(store)
    return float((counts.correct / counts.n).mean())


def test_controls_train_each_reward_at_the_same_budget_and_grade_every_run_with_math(demo_out, tmp_path):
    import shutil

    import yaml

    from rlvr.cli import main

    out = tmp_path / "controls-demo"
    for part in ("data", "base"):  # the demo's task and base model are reused, not rebuilt
        shutil.copytree(demo_out / part, out / part)
    before = (out / "base" / "model.safetensors").stat().st_mtime_ns
    assert main(["demo", "--controls", "--quick", "--out", str(out), "--no-progress"]) == 0
    assert (out / "base" / "model.safetensors").stat().st_mtime_ns == before

    folder = out / "controls"
    arms = ["math", "random", "format_only", "wrong_label"]
    assert yaml.safe_load((folder / "sweep.yaml").read_text())["grid"] == {"rewards": arms}
    trainers = []
    for arm in arms:
        run = folder / f"rewards-{arm}"
        recipe = yaml.safe_load((run / "recipe.yaml").read_text())
        assert recipe["rewards"] == {arm: 1.0}
        trainer = {k: v for k, v in recipe["trainer"].items() if k not in ("output_dir", "run_name")}
        trainers.append(trainer)
        for step in (0, 2):  # whatever the run trained on, its probe graded with the true grader
            assert (
                json.loads((run / "probe" / "heldout" / f"step-{step}" / "meta.json").read_text())["grader"]
                == "math"
            )
    assert all(t == trainers[0] for t in trainers)  # the same steps, rollouts, learning rate
    assert trainers[0]["max_steps"] == 2 and trainers[0]["num_generations"] == 8
    # every arm starts from the same base: the same step-0 samples
    step0 = [counts_of(folder / f"rewards-{arm}" / "probe" / "heldout" / "step-0") for arm in arms]
    assert all((c.correct == step0[0].correct).all() for c in step0)

    summary = json.loads((folder / "summary.json").read_text())
    base = mean_accuracy(folder / "rewards-math" / "probe" / "heldout" / "step-0")
    assert summary["base"]["pass@1"][0] == pytest.approx(base)
    assert [r["reward"] for r in summary["runs"]] == arms
    k = summary["k_max"]
    assert k == 8
    for r in summary["runs"]:
        store = folder / r["run"] / "probe" / "heldout" / "step-2"
        run = mean_accuracy(store)
        assert r["pass@1"][0] == pytest.approx(run)
        assert r["gain_pass@1"][0] == pytest.approx(run - base)
        assert r["gain_pass@1"][1] <= r["gain_pass@1"][0] <= r["gain_pass@1"][2]
        solved = float((counts_of(store).correct > 0).mean())
        assert r[f"pass@{k}"][0] == pytest.approx(solved)  # pass@n: the share solved at all
    table = (folder / "summary.md").read_text()
    for arm in arms:
        assert f"| {arm} |" in table
    assert "gap at pass@8" in table and len(summary["findings"]) == 4
    for name in ("controls_passk.png", "controls_steps.png"):
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
