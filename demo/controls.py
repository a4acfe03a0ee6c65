"""`rlvr demo --controls`: GRPO with the true reward against the three control rewards, on the demo's base model
and task.

One `rlvr sweep` over `rewards`: math (the true grader), random (a coin per completion), format_only (a stated
answer, right or wrong) and wrong_label (another problem's answer), every run with the same steps, rollouts,
learning rate and probe. The probe grades every run with math, whatever it trained on. A gain that a control
matches is not evidence that the reward taught anything. The task, base model and GRPO recipe are the demo's
(reused from OUT when there); the runs go to OUT/controls/<run>, each resumable; OUT/controls/summary.{json,md}
hold the table and controls_steps.png, controls_passk.png the figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

ARMS = ("math", "random", "format_only", "wrong_label")
# What a gain under each control would mean: the docs' table says it the same way.
RULES_OUT = {
    "math": "the true reward",
    "random": "gains from any update at all (a reward blind to the text)",
    "format_only": "gains from learning the answer format alone",
    "wrong_label": "gains from format plus confident answering, without the right answer",
}


@dataclass(frozen=True)
class ControlsScale:
    steps: int
    save_every: int
    probe_n: int


# the demo's own GRPO budget: 80 steps of 32 sequences (8 rollouts per prompt), learning rate 1e-4
FULL = ControlsScale(steps=80, save_every=20, probe_n=256)
QUICK = ControlsScale(steps=2, save_every=2, probe_n=8)


def sweep_file(out: Path, recipe_file: Path, scale: ControlsScale) -> Path:
    """OUT/controls/sweep.yaml: rerun or re-report it with `rlvr sweep` directly."""
    from rlvr.demo.ablation import accelerate_file

    folder = out / "controls"
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "name": "demo-controls",
        "recipe": str(recipe_file),
        "output_dir": str(folder),
        "overrides": [
            f"trainer.max_steps={scale.steps}",
            f"trainer.save_steps={scale.save_every}",
            f"probe.n={scale.probe_n}",
            "probe.stop_at_correct=null",  # uniform n, as its published table was sampled
            "logging.project=rlvr-demo",
        ],
        "grid": {"rewards": list(ARMS)},
        "families": "rlvr.demo.task:family",
        "accelerate_config": str(accelerate_file(out)),
    }
    path = folder / "sweep.yaml"
    path.write_text(
        "# Written by `rlvr demo --controls`; `rlvr sweep` this file to rerun or re-report it.\n"
        + yaml.safe_dump(spec, sort_keys=False)
    )
    return path


def arm_of(run_name: str) -> str:
    """'rewards-wrong_label' -> 'wrong_label'."""
    return run_name.removeprefix("rewards-")


def markdown(summary: dict, command: str) -> str:
    from rlvr.demo.objectives import _ci

    k = summary["k_max"]
    b = summary["base"]
    lines = [
        "# The true reward against three controls",
        "",
        f"Made by `{command}`; {summary['problems']} held-out problems, pass@k at n = {k} samples each, every "
        "run graded by the math grader whatever it trained on.",
        f"base: pass@1 {_ci(b['pass@1'])}%, pass@{k} {_ci(b[f'pass@{k}'])}%.",
        "",
        f"| reward | pass@1 [95% CI] | gain at pass@1 (points) | pass@{k} | gap at pass@{k} (points) | "
        "base overtakes at k | base only / run only |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in summary["runs"]:
        cross = r["crossover_k"] if r["crossover_k"] is not None else "never"
        lines.append(
            f"| {r['reward']} | {_ci(r['pass@1'])} | {_ci(r['gain_pass@1'], True)} | {_ci(r[f'pass@{k}'])} | "
            f"{_ci(r[f'gain_pass@{k}'], True)} | {cross} | {r['base_only']} / {r['run_only']} |"
        )
    return "\n".join(lines) + "\n"


def findings(summary: dict) -> list[str]:
    """One sentence per control: does its pass@1 gain clear zero, and how it stands against the true reward's."""
    k = summary["k_max"]
    runs = {r["reward"]: r for r in summary["runs"]}
    true = runs.get("math")
    lines = []
    for name, r in runs.items():
        gain, low, high = (v * 100 for v in r["gain_pass@1"])
        gap = r[f"gain_pass@{k}"][0] * 100
        verdict = (
            "raises pass@1 beyond its 95% interval"
            if low > 0
            else (
                "lowers pass@1 beyond its 95% interval"
                if high < 0
                else "leaves pass@1 within its interval of 0"
            )
        )
        text = f"{name}: {verdict} ({gain:+.1f} points [{low:+.1f}, {high:+.1f}]; pass@{k} {gap:+.1f})"
        if true is not None and name != "math" and true["gain_pass@1"][0] > 0 and gain > 0:
            text += f", {r['gain_pass@1'][0] / true['gain_pass@1'][0] * 100:.0f}% of the true reward's pass@1 gain"
        lines.append(text + ".")
    return lines


def steps_figure(runs, k: int) -> bytes:
    """Held-out pass@1 (solid) and pass@k (dashed) over GRPO steps, one colour per reward."""
    from rlvr.evaluate.plots import seeds_probe_figure
    from rlvr.train.probe import probe_history

    series = {}
    for run in runs:
        records = probe_history(run.output_dir)
        metrics = [r["metrics"]["heldout"] for r in records]
        series[arm_of(run.name)] = (
            [r["step"] for r in records],
            [m["pass@1"] for m in metrics],
            [m[f"pass@{k}"] for m in metrics],
        )
    return seeds_probe_figure(
        series, k, title=f"held-out pass@1 (solid) and pass@{k} (dashed) per reward, graded by math"
    )


def run_controls(
    out: str | Path, quick: bool, seed: int, launcher: str = "local", progress: bool = True
) -> Path:
    from dataclasses import replace

    from rlvr.demo import run as demo
    from rlvr.demo.objectives import summarize
    from rlvr.evaluate.plots import passk_figure
    from rlvr.train.sweep import launch, load_sweep
    from rlvr.train.sweep_report import write_sweep_report

    started = demo.start(progress)
    out = Path(out).resolve()
    scale = QUICK if quick else FULL
    recipe_file = demo.task_and_recipe(out, quick, seed, progress, "controls")
    sweep = load_sweep(sweep_file(out, recipe_file, scale), trainer_configs=True)
    runs = sweep.runs()
    print(
        f"[controls] 2/3 rewards {', '.join(ARMS)}: {scale.steps} GRPO steps each, probing pass@1..{scale.probe_n} "
        f"with the math grader every {scale.save_every} steps ({launcher} launcher) -> {sweep.output_dir}",
        flush=True,
    )
    launch(sweep, launcher)
    print("[controls] 3/3 report and summary", flush=True)
    folder = sweep.output_dir
    path = write_sweep_report(sweep.name, runs, folder / "report", sweep.family_function())
    summary, result = summarize(runs)
    for row in summary["runs"]:
        row["reward"] = arm_of(row["run"])
        row["rules_out"] = RULES_OUT[row["reward"]]
    summary["findings"] = findings(summary)
    command = f"rlvr demo --controls{' --quick' if quick else ''} --seed {seed} --out {out}"
    (folder / "summary.json").write_text(json.dumps({"seed": seed, "command": command, **summary}, indent=2))
    (folder / "summary.md").write_text(
        markdown(summary, command) + "\n" + "".join(f"- {line}\n" for line in summary["findings"])
    )
    curves = [result.curves[0], *(replace(c, label=arm_of(c.label)) for c in result.curves[1:])]
    (folder / "controls_passk.png").write_bytes(
        passk_figure(curves, title="final held-out pass@k: base and GRPO under each reward")
    )
    (folder / "controls_steps.png").write_bytes(steps_figure(runs, summary["k_max"]))
    print((folder / "summary.md").read_text(), flush=True)
    return demo.finish("controls", folder / "report" / "findings.txt", started, path)
