"""Shared fixtures: a tiny causal LM built offline, once per test session."""

from __future__ import annotations

import os

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
