"""A generated arithmetic task and a tiny model for it: what recipes/tiny/ train on, offline.

python -m rlvr.train.tiny_task OUT_DIR  ->  OUT_DIR/model, OUT_DIR/train.jsonl, OUT_DIR/probe.jsonl
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


if __name__ == "__main__":
    print(write_task(sys.argv[1] if len(sys.argv) > 1 else "runs/tiny"))
