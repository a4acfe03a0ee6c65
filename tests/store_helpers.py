"""Helpers shared by the sample-store tests (the fixtures live in conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from rlvr.evaluate.store import SampleStore

N = 16


def eval_cmd(model: str, data: str, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "rlvr.cli",
        "eval",
        "--model",
        model,
        "--data-file",
        data,
        "--n",
        str(N),
        "--max-tokens",
        "12",
        "--samples-per-call",
        "8",
        "--seed",
        "7",
        "--no-progress",
        "--out",
        str(out),
        *extra,
    ]


def snapshot(store_dir: Path) -> list[tuple]:
    return [
        (r["problem"], r["sample"], r["text"], r["verdict"])
        for r in SampleStore.open_existing(store_dir).records()
    ]


def same_results(a: Path, b: Path) -> bool:
    """Two results.json files equal in everything but the command line (each names its own --out)."""
    import json

    def read(store: Path) -> dict:
        results = json.loads((store / "results.json").read_text())
        results.pop("command")
        return results

    return read(a) == read(b)
