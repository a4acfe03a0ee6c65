"""`rlvr demo --ablation`: the paper's KL and rollout ablations on the demo's base model and task.

A 2 x 2 grid through `rlvr sweep` itself: KL coefficient (0 against one large enough to hold the policy near
the base) x rollouts per prompt (few against many, with the same sequences per step, so every run costs the
same). Each run probes the held-out split at step 0 and at every save; the sweep report compares every run's
final pass@k with the base's, per family. The task, base model and GRPO recipe are the demo's (stages 1-2
are reused from OUT when there); the runs go to OUT/ablation/<run>, each resumable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class AblationScale:
    grpo_steps: int
    save_every: int
    probe_n: int
    betas: tuple[float, float]
    rollouts: tuple[int, int]


# beta 1.0 lets a token's log-ratio to the base settle near |advantage| / beta, about 1 nat: enough to hold back
# the demo's RL, which moves the precedence strategy from about half the samples to most of them.
FULL = AblationScale(grpo_steps=80, save_every=20, probe_n=256, betas=(0.0, 1.0), rollouts=(2, 16))
QUICK = AblationScale(grpo_steps=2, save_every=2, probe_n=8, betas=(0.0, 1.0), rollouts=(2, 16))


def accelerate_file(out: Path) -> Path:
    """One process, no mixed precision (the demo trains in float32), on the CPU unless a GPU is present:
    written beside the sweep so `--launcher accelerate` works from any directory."""
    import torch

    path = out / "ablation" / "accelerate.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(
            {
                "compute_environment": "LOCAL_MACHINE",
                "distributed_type": "NO",
                "num_machines": 1,
                "num_processes": 1,
                "machine_rank": 0,
                "mixed_precision": "no",
                "use_cpu": not torch.cuda.is_available(),
            },
            sort_keys=False,
        )
    )
    return path


def sweep_file(out: Path, recipe_file: Path, scale: AblationScale) -> Path:
    """OUT/ablation/sweep.yaml: rerun or re-report it with `rlvr sweep` directly."""
    spec = {
        "name": "demo-ablation",
        "recipe": str(recipe_file),
        "output_dir": str(out / "ablation"),
        "overrides": [
            f"trainer.max_steps={scale.grpo_steps}",
            f"trainer.save_steps={scale.save_every}",
            f"probe.n={scale.probe_n}",
            "probe.stop_at_correct=null",  # uniform n, as its published tables were sampled
            "logging.project=rlvr-demo",
        ],
        "grid": {"trainer.beta": list(scale.betas), "trainer.num_generations": list(scale.rollouts)},
        "families": "rlvr.demo.task:family",
        "accelerate_config": str(accelerate_file(out)),
    }
    path = out / "ablation" / "sweep.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by `rlvr demo --ablation`; `rlvr sweep` this file to rerun or re-report it.\n"
        + yaml.safe_dump(spec, sort_keys=False)
    )
    return path


def run_ablation(
    out: str | Path, quick: bool, seed: int, launcher: str = "local", progress: bool = True
) -> Path:
    from rlvr.demo import run as demo
    from rlvr.train.sweep import launch, load_sweep
    from rlvr.train.sweep_report import write_sweep_report

    started = demo.start(progress)
    out = Path(out).resolve()
    scale = QUICK if quick else FULL
    recipe_file = demo.task_and_recipe(out, quick, seed, progress, "ablation")
    sweep = load_sweep(sweep_file(out, recipe_file, scale))
    grid = " x ".join(f"{key.split('.')[-1]} {values}" for key, values in sweep.grid.items())
    print(
        f"[ablation] 2/3 sweep {grid}: {len(sweep.runs())} GRPO runs of {scale.grpo_steps} steps, probing "
        f"pass@1..{scale.probe_n} every {scale.save_every} steps ({launcher} launcher) -> {sweep.output_dir}",
        flush=True,
    )
    launch(sweep, launcher)
    print("[ablation] 3/3 sweep report", flush=True)
    path = write_sweep_report(sweep.name, sweep.runs(), sweep.output_dir / "report", sweep.family_function())
    return demo.finish("ablation", sweep.output_dir / "report" / "findings.txt", started, path)
