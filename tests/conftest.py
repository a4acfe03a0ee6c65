"""Shared fixtures: a tiny causal LM built offline, once per test session."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TINY_CORPUS = [
    f"Question: What is {a} + {b}? Let's think step by step. {a} + {b} = {a + b}. The answer is \\boxed{{{a + b}}}."
    for a in range(40)
    for b in range(0, 40, 3)
] + ["def add(a, b):\n    return a + b\n", "print(int(input()) * 2)\n"]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> str:
    """A saved Qwen2-architecture model (~0.1M parameters) with a byte-level BPE tokenizer and chat template."""
    from rlvr.tiny import save_tiny_model

    out = tmp_path_factory.mktemp("tiny-model")
    save_tiny_model(out, TINY_CORPUS, vocab_size=400, hidden_size=32, layers=2, heads=4)
    return str(out)


@pytest.fixture(scope="session")
def data_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("data") / "problems.jsonl"
    rows = [{"id": f"p{i}", "problem": f"What is {i} + {i % 3}?", "answer": str(i + i % 3)} for i in range(8)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture(scope="session")
def full_run(tiny_model_dir, data_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("full") / "store"
    from store_helpers import eval_cmd

    subprocess.run(eval_cmd(tiny_model_dir, data_file, out), check=True, capture_output=True, timeout=600)
    return out


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory) -> Path:
    """One `rlvr demo --quick` per test process, read by the test_demo*.py files (split so that pytest-xdist
    can run them side by side: each of their extra demos takes a minute or more)."""
    from rlvr.cli import main

    out = tmp_path_factory.mktemp("demo") / "out"
    assert main(["demo", "--quick", "--out", str(out), "--no-progress"]) == 0
    return out
