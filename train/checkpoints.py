"""Which checkpoint a rerun resumes from, and whether a run is already finished.

A kill during `save` leaves a torn checkpoint (weights cut short, no trainer_state.json); resuming from it
fails every time. Such a checkpoint is skipped with a warning (left on disk) and the one before is used.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

FINISHED = "finished.json"
_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
_WEIGHTS = (
    "model.safetensors",
    "adapter_model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
)


def checkpoint_problem(path: Path) -> str | None:
    """Why a checkpoint directory cannot be resumed from, or None when it looks whole."""
    try:
        state = json.loads((path / "trainer_state.json").read_text())
        int(state["global_step"])
    except (OSError, ValueError, KeyError, TypeError):
        return "no readable trainer_state.json"
    weights = [path / name for name in _WEIGHTS if (path / name).exists()]
    if not weights:
        return "no model weights"
    if weights[0].name.endswith(".index.json"):
        try:
            shards = set(json.loads(weights[0].read_text())["weight_map"].values())
        except (OSError, ValueError, KeyError, AttributeError):
            return f"{weights[0].name} is unreadable"
        weights = [path / shard for shard in sorted(shards)]
    for file in weights:
        if file.suffix == ".safetensors" and (problem := _safetensors_problem(file)):
            return problem
    for file in path.glob("*.pt*"):
        if file.suffix in (".pt", ".pth") and not zipfile.is_zipfile(file):
            return f"{file.name} is cut short"
    return None


def _safetensors_problem(file: Path) -> str | None:
    """A safetensors file is whole when its header parses and every tensor's bytes lie inside the file."""
    try:
        size = file.stat().st_size
        with file.open("rb") as f:
            header_size = int.from_bytes(f.read(8), "little")
            if header_size > size:
                return f"{file.name} is cut short"
            header = json.loads(f.read(header_size))
        end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    except (OSError, ValueError, KeyError, TypeError):
        return f"{file.name} is unreadable"
    return f"{file.name} is cut short" if 8 + header_size + end > size else None


def last_good_checkpoint(out: Path, warn=print) -> str | None:
    """The newest checkpoint that is whole; torn ones after it are reported through `warn`."""
    if not out.is_dir():
        return None
    found = sorted(
        ((int(m.group(1)), p) for p in out.iterdir() if p.is_dir() and (m := _CHECKPOINT_RE.match(p.name))),
        reverse=True,
    )
    for _, path in found:
        problem = checkpoint_problem(path)
        if problem is None:
            return str(path)
        warn(
            f"rlvr train: {path.name} is torn ({problem}), probably by a kill during save; it is left on disk "
            f"and skipped, resuming from the checkpoint before it"
        )
    return None


def finished_message(out: Path, max_steps: int, num_train_epochs: float) -> str | None:
    """What to tell the user when this run already trained to the same end, or None."""
    try:
        done = json.loads((out / FINISHED).read_text())
    except (OSError, ValueError):
        return None
    if done.get("max_steps") != max_steps or done.get("num_train_epochs") != num_train_epochs:
        return None
    return (
        f"{out} is finished (step {done.get('global_step')}, model in {out / 'final'}); nothing to train. "
        f"Raise trainer.max_steps to train on, or choose another trainer.output_dir"
    )


def mark_finished(out: Path, global_step: int, max_steps: int, num_train_epochs: float) -> None:
    tmp = out / (FINISHED + ".tmp")
    tmp.write_text(
        json.dumps({"global_step": global_step, "max_steps": max_steps, "num_train_epochs": num_train_epochs})
    )
    tmp.replace(out / FINISHED)
