"""The probe inside training: rank 0 evaluates at step 0 and at every save while the other ranks wait."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

from transformers import TrainerCallback

from rlvr.train.probe import (
    WANDB_RUN_FILE,
    probe_line,
    probe_point,
    probed_steps,
    save_run_recipe,
    wandb_payload,
)
from rlvr.train.recipe import Recipe


def _barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


@contextmanager
def outside_zero3():
    """Rank 0 probes alone, so its model must be a plain one. Under ZeRO-3 transformers sees the trainer's
    DeepSpeed config through a module-level weak reference: `from_pretrained` would enter `zero.Init` (which
    broadcasts to ranks that sit at the probe's barrier) and `generate` would sync every step with them
    (`synced_gpus`). Hiding that reference while the probe runs loads and samples an ordinary model."""
    try:
        from transformers.integrations import deepspeed as hf_deepspeed
    except ImportError:
        yield
        return
    held = hf_deepspeed._hf_deepspeed_config_weak_ref
    hf_deepspeed.unset_hf_deepspeed_config()
    try:
        yield
    finally:
        hf_deepspeed._hf_deepspeed_config_weak_ref = held


def log_to_wandb(record: dict) -> None:
    """Into the trainer's W&B run when one is active (rank 0 only ever gets here)."""
    try:
        import wandb
    except ImportError:
        return
    if wandb.run is not None:
        wandb.log(wandb_payload(record))


class BoundaryProbeCallback(TrainerCallback):
    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self.saves = 0

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            save_run_recipe(self.recipe)
            self._remember_wandb_run()
        if state.global_step == 0:
            self._probe(state, 0, self.recipe.model.path, not args.disable_tqdm)

    def on_save(self, args, state, control, **kwargs):
        self.saves += 1
        if self.saves % max(self.recipe.probe.every, 1) == 0:
            self._probe(
                state,
                state.global_step,
                Path(args.output_dir) / f"checkpoint-{state.global_step}",
                not args.disable_tqdm,
            )

    def _probe(self, state, step: int, model_path, progress: bool = True) -> None:
        """`progress` follows the trainer's own bars (TrainingArguments.disable_tqdm)."""
        if self.recipe.probe.mode != "inprocess":
            return  # detached: `rlvr probe --watch RUN_DIR` does it on another device
        if state.is_world_process_zero and step not in probed_steps(self.recipe.output_dir):
            with outside_zero3():
                record = probe_point(self.recipe, step, model_path, progress)
            log_to_wandb(record)
            first = next(iter(record["metrics"].values()))
            print(f"[probe] step {step}: {probe_line(first)}", flush=True)
        _barrier()

    def _remember_wandb_run(self) -> None:
        try:
            import wandb
        except ImportError:
            return
        if wandb.run is not None:
            info = {"id": wandb.run.id, "project": wandb.run.project}
            (self.recipe.output_dir / WANDB_RUN_FILE).write_text(json.dumps(info))
