"""`rlvr demo --objectives`: GRPO against pass@k training through `rlvr sweep` on the demo's base model, and
the across-seed summary that puts GRPO, the distilled model and the objectives' runs side by side."""

from __future__ import annotations

import json

import pytest


def mean_accuracy(store) -> float:
    """pass@1 of a sample store: the mean per-problem success rate."""
    from rlvr.evaluate.store import SampleStore

    counts = SampleStore.open_existing(store).counts()
    return float((counts.correct / counts.n).mean())


def last_probe(run_dir):
    probe = run_dir / "probe" / "heldout"
    return probe / f"step-{max(int(p.name.split('-')[1]) for p in probe.glob('step-*'))}"


def test_objectives_compare_grpo_and_passk_runs_and_join_the_seed_summary(demo_out, tmp_path):
    import shutil

    import yaml

    from rlvr.cli import main

    out = tmp_path / "seeds"
    seed = out / "seed-0"
    shutil.copytree(demo_out, seed)  # the session's quick demo is seed 0: task, base, GRPO, distilled
    before = (seed / "base" / "model.safetensors").stat().st_mtime_ns
    assert main(["demo", "--seeds", "0", "--objectives", "--quick", "--out", str(out), "--no-progress"]) == 0
    assert (seed / "base" / "model.safetensors").stat().st_mtime_ns == before  # reused, not rebuilt

    folder = seed / "objectives"
    grids = {
        p.stem: yaml.safe_load(p.read_text())["grid"] for p in (folder / "grpo.yaml", folder / "passk.yaml")
    }
    assert grids == {
        "grpo": {"algorithm": ["grpo"]},
        "passk": {"algorithm": ["passk"], "trainer.passk_k": [4, 8]},
    }
    names = ["algorithm-grpo", "algorithm-passk_passk_k-4", "algorithm-passk_passk_k-8"]
    for name in names:  # the same budget: rollouts, sequences per step, steps; only the objective differs
        recipe = yaml.safe_load((folder / name / "recipe.yaml").read_text())
        assert recipe["trainer"]["num_generations"] == 16 and recipe["trainer"]["max_steps"] == 2
        assert recipe["trainer"]["per_device_train_batch_size"] == 32 and recipe["probe"]["n"] == 8
        assert recipe["algorithm"] == ("grpo" if name == "algorithm-grpo" else "passk")
    assert yaml.safe_load((folder / names[2] / "recipe.yaml").read_text())["trainer"]["passk_k"] == 8

    summary = json.loads((folder / "summary.json").read_text())
    base = mean_accuracy(folder / names[0] / "probe" / "heldout" / "step-0")
    assert summary["base"]["pass@1"][0] == pytest.approx(base)
    assert [r["run"] for r in summary["runs"]] == names
    for r in summary["runs"]:
        run = mean_accuracy(last_probe(folder / r["run"]))
        assert r["pass@1"][0] == pytest.approx(run)
        assert r["gain_pass@1"][0] == pytest.approx(run - base)
        assert r["gain_pass@1"][1] <= r["gain_pass@1"][0] <= r["gain_pass@1"][2]
    assert "| algorithm-passk_passk_k-4 |" in (folder / "summary.md").read_text()
    assert (folder / "objectives_passk.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "algorithm-passk_passk_k-8 − base" in (folder / "report" / "findings.txt").read_text()

    seeds = json.loads((out / "summary.json").read_text())
    models = seeds["seeds"][0]["models"]
    assert list(models) == ["rl", "distilled", *names]
    rl_base = mean_accuracy(seed / "rl" / "probe" / "heldout" / "step-0")
    distilled = mean_accuracy(seed / "distill" / "eval" / "heldout")
    assert models["distilled"]["gain_pass@1"][0] == pytest.approx(distilled - rl_base)
    assert models["rl"]["pass@1"] == pytest.approx(mean_accuracy(last_probe(seed / "rl")))
    claims = seeds["across"]["models"]
    for name, m in models.items():
        held = claims[name]["holds"]
        assert held["raises pass@1 beyond its 95% interval"] == int(m["gain_pass@1"][1] > 0)
        assert held["the base overtakes it at some k"] == int(m["crossover_k"] is not None)
    text = (out / "summary.md").read_text()
    assert "rlvr demo --seeds 0 --quick --objectives" in text and "| 0 | distilled |" in text
