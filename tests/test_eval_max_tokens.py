"""`--max-tokens auto` (the default) fits a small model's context: 1024, or what the context leaves after the
longest prompt; meta.json records the number, so the same number given explicitly resumes the store."""

from __future__ import annotations

import json

import pytest
from cli_helpers import one_line_error
from conftest import TINY_CORPUS

from rlvr.cli import main as rlvr

CONTEXT = 128  # as the demo's models


@pytest.fixture(scope="module")
def short_context_model(tmp_path_factory) -> str:
    from rlvr.tiny import save_tiny_model

    out = tmp_path_factory.mktemp("ctx128")
    save_tiny_model(
        out, TINY_CORPUS, vocab_size=400, hidden_size=32, layers=2, heads=4, max_positions=CONTEXT
    )
    return str(out)


def test_auto_max_tokens_is_what_the_context_leaves(short_context_model, data_file, tmp_path, capsys):
    from transformers import AutoTokenizer

    store = tmp_path / "store"
    argv = ["eval", "--model", short_context_model, "--data-file", data_file, "--limit", "3", "--n", "2"]
    argv += ["--samples-per-call", "6", "--no-progress", "--out", str(store)]
    assert rlvr(argv) == 0
    tokenizer = AutoTokenizer.from_pretrained(short_context_model)
    prompts = [json.loads(line)["prompt"] for line in (store / "problems.jsonl").read_text().splitlines()]
    longest = max(len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts)
    assert 0 < CONTEXT - longest < 1024
    assert json.loads((store / "meta.json").read_text())["max_tokens"] == CONTEXT - longest
    assert json.loads((store / "results.json").read_text())["sampling"]["max_tokens"] == CONTEXT - longest
    capsys.readouterr()
    assert rlvr([*argv, "--max-tokens", str(CONTEXT - longest)]) == 0  # the same store: it resumes
    err = one_line_error(capsys, *argv, "--max-tokens", "1024")  # a number given is checked as before
    assert err == (
        f"rlvr eval: error: --max-tokens 1024 leaves no room for a prompt in the model's context of {CONTEXT} tokens"
    )
