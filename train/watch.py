"""Detached probe: `rlvr probe --watch RUN_DIR` evaluates checkpoints as they appear, on another device.

It reads the run's resolved recipe (RUN_DIR/recipe.yaml), probes step 0 and each complete checkpoint
not yet in probe.jsonl, logs into the trainer's W&B run (RUN_DIR/wandb_run.json) and stops once the run
has written `final` and every checkpoint is probed.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

from rlvr.train.probe import RUN_RECIPE, WANDB_RUN_FILE, probe_point, probed_steps, wandb_payload


def ready_checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """checkpoint-N directories the trainer has finished writing (trainer_state.json comes last)."""
    found = []
    for path in run_dir.glob("checkpoint-*"):
        match = re.fullmatch(r"checkpoint-(\d+)", path.name)
        if match and (path / "trainer_state.json").exists():
            found.append((int(match.group(1)), path))
    return sorted(found)


def _wandb_run(run_dir: Path, recipe):
    info_file = run_dir / WANDB_RUN_FILE
    if recipe.logging.report_to != "wandb":
        return None
    from rlvr.tracking import init_wandb

    info = json.loads(info_file.read_text()) if info_file.exists() else {}
    run = init_wandb(
        recipe.logging.project,
        run_dir,
        name=recipe.logging.name,
        group=recipe.logging.group,
        run_id=info.get("id"),
    )
    run.define_metric("train/global_step")
    run.define_metric("probe/*", step_metric="train/global_step")
    return run


def watch(
    run_dir: str | Path, once: bool = False, interval: float = 30.0, progress: bool = True
) -> list[dict]:
    from rlvr.train.recipe import load_recipe

    run_dir = Path(run_dir)
    recipe_file = run_dir / RUN_RECIPE
    hint = "start training with probe.mode=detached (or any probe setting) so the run writes it"
    if not recipe_file.exists():
        if once:
            raise FileNotFoundError(f"{recipe_file} does not exist; {hint}")
        # said once, so that a mistyped RUN_DIR does not look like a probe with nothing to do yet
        print(
            f"[probe] waiting for {recipe_file} (every {interval:g} s); {hint}", file=sys.stderr, flush=True
        )
        while not recipe_file.exists():
            time.sleep(interval)
    recipe = load_recipe(recipe_file, [f"trainer.output_dir={run_dir}"])
    run = _wandb_run(run_dir, recipe)
    records = []

    def pending() -> list[tuple[int, Path]]:
        todo = [(0, Path(recipe.model.path))] + ready_checkpoints(run_dir)
        return [(step, path) for step, path in todo if step not in probed_steps(run_dir)]

    try:
        while True:
            todo = pending()
            for step, path in todo:
                record = probe_point(recipe, step, path, progress)
                records.append(record)
                if run is not None:
                    run.log(wandb_payload(record))
                print(f"[probe] step {step}: {json.dumps(record['metrics'])}", flush=True)
            if once or ((run_dir / "final").exists() and not pending()):
                return records
            if not todo:
                time.sleep(interval)
    finally:
        if run is not None:
            run.finish()
