"""`rlvr demo --ablation`: the KL x rollouts sweep on the demo's base model, through accelerate launch."""

from __future__ import annotations


def test_ablation_sweeps_kl_and_rollouts_on_the_demo_base_and_reports_each_run(
    demo_out, tmp_path, monkeypatch
):
    import shutil

    import yaml

    from rlvr.cli import main
    from rlvr.evaluate.store import SampleStore

    out = tmp_path / "ablation-demo"
    for part in ("data", "base"):  # the demo's task and base model are reused, not rebuilt
        shutil.copytree(demo_out / part, out / part)
    before = (out / "base" / "model.safetensors").stat().st_mtime_ns
    # through accelerate launch (the local launcher is tested by test_sweep), from a directory with no launch/ configs
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            ["demo", "--ablation", "--quick", "--launcher", "accelerate", "--out", str(out), "--no-progress"]
        )
        == 0
    )
    assert (out / "base" / "model.safetensors").stat().st_mtime_ns == before
    sweep = yaml.safe_load((out / "ablation" / "sweep.yaml").read_text())
    assert sweep["grid"] == {"trainer.beta": [0.0, 1.0], "trainer.num_generations": [2, 16]}
    runs = sorted(p for p in (out / "ablation").iterdir() if (p / "probe.jsonl").exists())
    assert [p.name for p in runs] == sorted(
        f"beta-{b}_num_generations-{g}" for b in (0.0, 1.0) for g in (2, 16)
    )
    findings = (out / "ablation" / "report" / "findings.txt").read_text()
    html = (out / "ablation" / "report" / "sweep.html").read_text()
    assert "final pass@k by problem family" in html and "Coverage at n" in html
    for run in runs:
        assert f"{run.name} − base" in findings
        recipe = yaml.safe_load((run / "recipe.yaml").read_text())
        assert recipe["logging"]["group"] == "demo-ablation" and recipe["probe"]["n"] == 8
        last = max(int(p.name.split("-")[1]) for p in (run / "probe" / "heldout").glob("step-*"))
        counts = SampleStore.open_existing(run / "probe" / "heldout" / f"step-{last}").counts()
        pass1 = float((counts.correct / counts.n).mean()) * 100
        assert f"{run.name}: pass@1 {pass1:.1f}%" in findings
