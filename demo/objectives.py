"""`rlvr demo --objectives`: GRPO against pass@k training at the same budget, on the demo's base model and task.

Two `rlvr sweep` files, one report: GRPO (`algorithm: grpo`) and pass@k training (`algorithm: passk`,
`trainer.passk_k` over the grid), every run with the same rollouts per prompt, sequences per step, steps and
learning rate, each probed on the held-out split at step 0 and at every save. The report pairs each run's
final pass@k with the base's (GRPO's step-0 probe) and splits it by family: RL trains on precedence problems
only, so the chain family shows what an objective does to problems it never trains on. The task, base model and
GRPO recipe are the demo's (reused from OUT when there); the runs go to OUT/objectives/<run>, each resumable;
OUT/objectives/summary.json and summary.md hold the numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class ObjectivesScale:
    steps: int
    save_every: int
    probe_n: int
    rollouts: int
    ks: tuple[int, ...]


# k < rollouts: with k = N a group's one k-subset is the whole group, its pass@k 0 or 1, every advantage 0
FULL = ObjectivesScale(steps=80, save_every=20, probe_n=256, rollouts=16, ks=(4, 8))
QUICK = ObjectivesScale(steps=2, save_every=2, probe_n=8, rollouts=16, ks=(4, 8))


def sweep_files(out: Path, recipe_file: Path, scale: ObjectivesScale) -> list[Path]:
    """OUT/objectives/grpo.yaml and passk.yaml: rerun either with `rlvr sweep` directly."""
    from rlvr.demo.ablation import accelerate_file

    folder = out / "objectives"
    folder.mkdir(parents=True, exist_ok=True)
    common = {
        "recipe": str(recipe_file),
        "output_dir": str(folder),
        "overrides": [
            f"trainer.max_steps={scale.steps}",
            f"trainer.save_steps={scale.save_every}",
            f"trainer.num_generations={scale.rollouts}",
            f"probe.n={scale.probe_n}",
            "probe.stop_at_correct=null",  # uniform n, as its published tables were sampled
            "logging.project=rlvr-demo",
        ],
        "families": "rlvr.demo.task:family",
        "accelerate_config": str(accelerate_file(out)),
    }
    grids = {
        "grpo": {"algorithm": ["grpo"]},
        "passk": {"algorithm": ["passk"], "trainer.passk_k": list(scale.ks)},
    }
    paths = []
    for name, grid in grids.items():
        path = folder / f"{name}.yaml"
        path.write_text(
            "# Written by `rlvr demo --objectives`; `rlvr sweep` this file to rerun it.\n"
            + yaml.safe_dump({"name": f"demo-objectives-{name}", **common, "grid": grid}, sort_keys=False)
        )
        paths.append(path)
    return paths


def summarize(runs):
    """(summary, comparison). Per run against the base: pass@1 and pass@k_max with intervals, the paired gains, the crossover,
    two-way coverage and the per-family numbers (the chain family's solved-at-all among them)."""
    from rlvr.demo.run import family_numbers
    from rlvr.train.sweep_report import collect, final_comparison

    logs = collect(runs)
    dataset = next(iter(next(iter(logs.values()))[-1]["metrics"]))
    result = final_comparison(logs, runs, dataset)
    if result is None:
        raise FileNotFoundError("the objectives' probe stores are incomplete; rerun `rlvr demo --objectives`")
    k = result.k_max
    base = result.curves[0]
    families = family_numbers(result.counts)
    rows = []
    for curve, pair in zip(result.curves[1:], result.pairs):
        d = pair.diff
        rows.append(
            {
                "run": curve.label,
                "pass@1": [float(curve.mean[0]), float(curve.low[0]), float(curve.high[0])],
                f"pass@{k}": [float(curve.mean[-1]), float(curve.low[-1]), float(curve.high[-1])],
                "gain_pass@1": [float(d.diff[0]), float(d.low[0]), float(d.high[0])],
                f"gain_pass@{k}": [float(d.diff[-1]), float(d.low[-1]), float(d.high[-1])],
                "crossover_k": pair.cross.k_star,
                "base_only": int(pair.coverage["only"]["base"]["count"]),
                "run_only": int(pair.coverage["only"][curve.label]["count"]),
                "families": {
                    name: {
                        "problems": f["problems"],
                        "base_solved": f["base_solved"],
                        "solved": f[f"{curve.label}_solved"],
                        "base_pass@1": f["base_pass@1"],
                        "pass@1": f[f"{curve.label}_pass@1"],
                        f"base_pass@{f['k']}": f[f"base_pass@{f['k']}"],
                        f"pass@{f['k']}": f[f"{curve.label}_pass@{f['k']}"],
                    }
                    for name, f in families.items()
                },
                "curve": [float(x) for x in curve.mean],
            }
        )
    summary = {
        "k_max": k,
        "problems": len(result.counts[0].problems),
        "base": {
            "pass@1": [float(base.mean[0]), float(base.low[0]), float(base.high[0])],
            f"pass@{k}": [float(base.mean[-1]), float(base.low[-1]), float(base.high[-1])],
            "curve": [float(x) for x in base.mean],
        },
        "runs": rows,
    }
    return summary, result


def _ci(values: list[float], signed: bool = False) -> str:
    fmt = "{:+.1f}" if signed else "{:.1f}"
    mean, low, high = (fmt.format(v * 100) for v in values)
    return f"{mean} [{low}, {high}]"


def markdown(summary: dict, command: str) -> str:
    k = summary["k_max"]
    b = summary["base"]
    lines = [
        "# GRPO against pass@k training",
        "",
        f"Made by `{command}`; {summary['problems']} held-out problems, pass@k at n = {k} samples each.",
        f"base: pass@1 {_ci(b['pass@1'])}%, pass@{k} {_ci(b[f'pass@{k}'])}%.",
        "",
        f"| run | pass@1 [95% CI] | gain at pass@1 (points) | pass@{k} | gain at pass@{k} (points) | "
        "base overtakes at k | base only / run only | chains solved at all (base -> run) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in summary["runs"]:
        chain = r["families"].get("chain")
        chain_text = f"{chain['base_solved']} -> {chain['solved']} of {chain['problems']}" if chain else ""
        cross = r["crossover_k"] if r["crossover_k"] is not None else "never"
        lines.append(
            f"| {r['run']} | {_ci(r['pass@1'])} | {_ci(r['gain_pass@1'], True)} | {_ci(r[f'pass@{k}'])} | "
            f"{_ci(r[f'gain_pass@{k}'], True)} | {cross} | {r['base_only']} / {r['run_only']} | {chain_text} |"
        )
    return "\n".join(lines) + "\n"


def run_objectives(
    out: str | Path, quick: bool, seed: int, launcher: str = "local", progress: bool = True
) -> Path:
    from rlvr.demo import run as demo
    from rlvr.evaluate.plots import passk_figure
    from rlvr.train.sweep import launch, load_sweep
    from rlvr.train.sweep_report import write_sweep_report

    started = demo.start(progress)
    out = Path(out).resolve()
    scale = QUICK if quick else FULL
    recipe_file = demo.task_and_recipe(out, quick, seed, progress, "objectives")
    sweeps = [load_sweep(path, trainer_configs=True) for path in sweep_files(out, recipe_file, scale)]
    runs = [run for sweep in sweeps for run in sweep.runs()]
    print(
        f"[objectives] 2/3 {', '.join(r.name for r in runs)}: {scale.steps} steps each, {scale.rollouts} "
        f"rollouts per prompt, probing pass@1..{scale.probe_n} every {scale.save_every} steps ({launcher} "
        f"launcher) -> {out / 'objectives'}",
        flush=True,
    )
    for sweep in sweeps:
        launch(sweep, launcher)
    print("[objectives] 3/3 report and summary", flush=True)
    folder = out / "objectives"
    family = sweeps[0].family_function()
    path = write_sweep_report("demo-objectives", runs, folder / "report", family)
    summary, result = summarize(runs)
    command = f"rlvr demo --objectives{' --quick' if quick else ''} --seed {seed} --out {out}"
    (folder / "summary.json").write_text(json.dumps({"seed": seed, "command": command, **summary}, indent=2))
    (folder / "summary.md").write_text(markdown(summary, command))
    (folder / "objectives_passk.png").write_bytes(
        passk_figure(result.curves, title="final held-out pass@k: base, GRPO and pass@k training")
    )
    print((folder / "summary.md").read_text(), flush=True)
    return demo.finish("objectives", folder / "report" / "findings.txt", started, path)
