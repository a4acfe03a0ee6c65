"""Hand-built sample stores with known texts, answers and verdicts (no model), for the analysis tests."""

from __future__ import annotations

from pathlib import Path

from rlvr.evaluate.store import SampleStore


def build_store(
    path: Path, problems: list[dict], samples: dict[str, list[tuple]], label: str, **meta
) -> Path:
    """`samples[pid]` lists (text, extracted, correct) per sample, in sample order; every problem the same n."""
    n = len(next(iter(samples.values())))
    store = SampleStore.create_or_resume(
        path, {"n": n, "label": label, "temperature": 1.0, "grader": "math", **meta}, problems
    )
    records = [
        {
            "problem": pid,
            "sample": i,
            "text": text,
            "extracted": extracted,
            "verdict": "correct" if correct else "wrong",
            "correct": correct,
            "tokens": 5,
            "finish_reason": "stop",
        }
        for pid, rows in samples.items()
        for i, (text, extracted, correct) in enumerate(rows)
    ]
    store.append(records)
    store.write_results()
    store.close()
    return path
