"""A generated arithmetic task and a tiny model for it: what recipes/tiny/ train on, offline.

python -m rlvr.train.tiny_task OUT_DIR  ->  OUT_DIR/model, OUT_DIR/train.jsonl, OUT_DIR/probe.jsonl

A recipe with `model.tiny_task: true` (recipes/tiny/) builds it in the model path's parent when the model is
missing, so `rlvr train recipes/tiny/grpo.yaml` runs from a fresh checkout.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path


def make_problems(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        a, b = rng.randint(0, 20), rng.randint(0, 20)
        rows.append(
            {
                "id": f"{seed}-{i}",
                "problem": f"What is {a} + {b}?",
                "answer": str(a + b),
                "completion": f" {a} + {b} = {a + b}. The answer is \\boxed{{{a + b}}}.",
            }
        )
    return rows


def write_task(out_dir: str | Path, train: int = 64, probe: int = 16) -> Path:
    from rlvr.tiny import save_tiny_model

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_rows, probe_rows = make_problems(train, seed=1), make_problems(probe, seed=2)
    for name, rows in (("train.jsonl", train_rows), ("probe.jsonl", probe_rows)):
        (out / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    corpus = [f"Question: {r['problem']}\nAnswer:{r['completion']}" for r in make_problems(500, seed=3)]
    save_tiny_model(out / "model", corpus, vocab_size=400, hidden_size=32, layers=2, heads=4)
    return out


TASK_FILES = ("train.jsonl", "probe.jsonl", "model")  # "model" last: its presence says the task is whole


def build_when_missing(model_path: str | Path) -> bool:
    """Write the tiny task around `model_path` when it is DIR/model and missing; whatever of it exists
    already is kept. Built aside and moved in, under a lock, so a kill or a second rank never leaves half a
    model. True when it built."""
    import fcntl
    import os
    import shutil

    model = Path(model_path)
    out = model.parent
    if model.name != "model" or (model / "config.json").exists():
        return False  # another model (e.g. model.path overridden to a Hub id), or the task is there
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".tiny_task.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (model / "config.json").exists():  # another rank built it meanwhile
            return False
        if model.exists() and any(model.iterdir()):
            return False  # someone else's files: check_paths names what is wrong with them
        print(
            f"rlvr: building the tiny model and task in {out} (python -m rlvr.train.tiny_task {out})",
            flush=True,
        )
        partial = out / ".tiny_task.partial"
        shutil.rmtree(partial, ignore_errors=True)
        write_task(partial)
        for name in TASK_FILES:
            if not (out / name).exists() or name == "model":
                if name == "model" and model.exists():
                    model.rmdir()  # empty, checked above
                os.replace(partial / name, out / name)
        shutil.rmtree(partial, ignore_errors=True)
    return True


if __name__ == "__main__":
    print(write_task(sys.argv[1] if len(sys.argv) > 1 else "runs/tiny"))
