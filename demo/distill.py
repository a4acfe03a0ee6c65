"""The demo's distillation control: SFT of the same base on a teacher's worked solutions, then the same probe.

The paper's control for "RL narrows the boundary": distillation from a stronger teacher, unlike RLVR, adds
reasoning the base did not have. The teacher here is programmatic: on every family it writes the right
strategy with no slips (products first; subtraction chains left to right, the path the base rarely takes).
It writes solutions for training problems of every family (RL trains on precedence problems only), never for
held-out ones. The budget matches RL's: the same optimizer steps, sequences per step and learning rate.
"""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path


def write_teacher_data(out: Path, problems: int, seed: int, held_out: int) -> Path:
    """data/teacher.jsonl: id, problem, answer and the teacher's worked solution (`completion`)."""
    from rlvr.demo.task import answer, problem_text, solution, split

    train, _ = split(seed, held_out)
    rng = random.Random(seed + 2)
    picked = rng.sample(train, min(problems, len(train)))
    path = out / "data" / "teacher.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(
            json.dumps(
                {
                    "id": e.id,
                    "problem": problem_text(e),
                    "answer": str(answer(e)),
                    "completion": solution(e, "precedence", rng),
                }
            )
            + "\n"
            for e in picked
        )
    )
    return path


def sft_recipe(out: Path, rl_recipe: dict, teacher_file: Path) -> dict:
    """SFT with RL's step count, sequences per step (prompts x rollouts) and learning rate."""
    t = rl_recipe["trainer"]
    return {
        "model": dict(rl_recipe["model"]),
        "data": {
            "data_file": str(teacher_file),
            "template": "plain",
            "chat": "raw",
            "completion_column": "completion",
        },
        "algorithm": "sft",
        "trainer": {
            "output_dir": str(out / "distill"),
            "max_steps": t["max_steps"],
            "save_steps": t["max_steps"],
            "per_device_train_batch_size": t["per_device_train_batch_size"],
            "learning_rate": t["learning_rate"],
            "lr_scheduler_type": t["lr_scheduler_type"],
            "logging_steps": t["logging_steps"],
            "seed": t["seed"],
            "data_seed": t["data_seed"],
            "save_only_model": True,
            "disable_tqdm": t["disable_tqdm"],
            "report_to": t["report_to"],
            "bf16": t["bf16"],
            "gradient_checkpointing": t["gradient_checkpointing"],
        },
        "logging": {**rl_recipe["logging"], "name": "demo-distill"},
    }


def distill_and_evaluate(
    out: Path, rl_raw: dict, teacher_problems: int, seed: int, held_out: int, progress: bool
) -> Path:
    """Train the distilled model (skipped when done) and sample it exactly as the RL probe samples the
    held-out split; returns its sample store."""
    import yaml

    from rlvr.evaluate.runner import run_eval
    from rlvr.train.build import train
    from rlvr.train.probe import eval_config, probe_targets
    from rlvr.train.recipe import validate

    teacher_file = write_teacher_data(out, teacher_problems, seed, held_out)
    raw = sft_recipe(out, rl_raw, teacher_file)
    (out / "distill_recipe.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    if not (out / "distill" / "final").exists():
        train(validate(raw, str(out / "distill_recipe.yaml")))
    rl_recipe = validate(rl_raw, str(out / "recipe.yaml"))
    name, data = next(iter(probe_targets(rl_recipe)))
    store = out / "distill" / "eval" / name
    if (store / "results.json").exists():  # finished: like every demo stage, not redone (nor re-checked)
        return store
    cfg = dataclasses.replace(
        eval_config(rl_recipe, 0, str(out / "distill" / "final"), name, data, progress),
        out=str(store),
        label="distilled",
    )
    run_eval(cfg)
    return store
