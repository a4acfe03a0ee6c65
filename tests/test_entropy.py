"""The policy's token entropy against a direct computation, one prefix at a time, on a tiny model."""

from __future__ import annotations

import json
import math

import pytest
import torch
from store_build import build_store

from rlvr.evaluate.entropy import store_entropy, token_entropies

PROMPTS = ["Question: What is 3 + 4?", "Question: What is 12 + 6? Let's think"]
RESPONSES = [" 3 + 4 = 7. The answer is \\boxed{7}.", " step by step."]


def direct(model, tokenizer, prompt: str, response: str, stop: bool, temperature: float) -> list[float]:
    """Entropy of softmax(logits / T) at each drawing position, from a forward pass over each prefix alone."""
    p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    r = tokenizer(response, add_special_tokens=False)["input_ids"]
    out = []
    for t in range(len(r) + (1 if stop else 0)):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([p + r[:t]])).logits[0, -1].double() / temperature
        probs = torch.softmax(logits, -1)
        out.append(float(-(probs * probs.log()).sum()))
    return out


@pytest.mark.parametrize("temperature,batch_size", [(1.0, 2), (0.7, 2), (1.0, 1)])
def test_token_entropies_equal_the_direct_computation(tiny_model_dir, temperature, batch_size):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    stopped = [True, False]
    batched = token_entropies(
        model, tokenizer, PROMPTS, RESPONSES, stopped, temperature, batch_size=batch_size
    )
    for got, prompt, response, stop in zip(batched, PROMPTS, RESPONSES, stopped):
        want = direct(model, tokenizer, prompt, response, stop, temperature)
        assert len(got) == len(want) and got == pytest.approx(want, abs=1e-4)


def test_store_entropy_is_the_token_weighted_mean(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    problems = [{"id": str(i), "prompt": p, "problem": p, "answer": "7"} for i, p in enumerate(PROMPTS)]
    samples = {str(i): [(r, None, False)] for i, r in enumerate(RESPONSES)}
    store = build_store(tmp_path / "store", problems, samples, "m")
    result = store_entropy(tiny_model_dir, store)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    every = [v for p, r in zip(PROMPTS, RESPONSES) for v in direct(model, tokenizer, p, r, True, 1.0)]
    assert result["tokens"] == len(every) and math.isclose(
        result["mean_token_entropy"], sum(every) / len(every), abs_tol=1e-4
    )
    assert json.loads((store / "entropy.json").read_text())["samples"] == 2


def test_store_entropy_scores_in_the_dtype_the_samples_were_drawn_in(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # the tiny model is near uniform, where bfloat16 hardly moves an entropy; sharper logits tell the two apart
    sharp = tmp_path / "sharp"
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    with torch.no_grad():
        model.get_output_embeddings().weight.mul_(10.0)
    model.save_pretrained(sharp)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.save_pretrained(sharp)
    problems = [{"id": str(i), "prompt": p, "problem": p, "answer": "7"} for i, p in enumerate(PROMPTS)]
    samples = {str(i): [(r, None, False)] for i, r in enumerate(RESPONSES)}
    store = build_store(tmp_path / "store", problems, samples, "m", sampled_dtype="bfloat16")
    result = store_entropy(sharp, store)
    means = {}
    for dtype in (torch.bfloat16, torch.float32):
        model = AutoModelForCausalLM.from_pretrained(sharp, dtype=dtype).eval()
        values = token_entropies(model, tokenizer, PROMPTS, RESPONSES, [True, True], 1.0)
        means[dtype] = sum(v for row in values for v in row) / sum(len(row) for row in values)
    assert result["dtype"] == "bfloat16" and abs(means[torch.bfloat16] - means[torch.float32]) > 1e-4
    assert math.isclose(result["mean_token_entropy"], means[torch.bfloat16], rel_tol=1e-9)


def test_an_empty_prompt_and_a_model_that_returns_every_position_score_the_same(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    prompts, responses = ["", PROMPTS[1]], [RESPONSES[0], RESPONSES[1]]
    got = token_entropies(model, tokenizer, prompts, responses, [True, True], batch_size=2)
    # nothing predicts an empty prompt's first response token: its entropies start at the second
    r = tokenizer(RESPONSES[0], add_special_tokens=False)["input_ids"]
    want = direct(model, tokenizer, tokenizer.decode(r[:1]), tokenizer.decode(r[1:]), True, 1.0)
    assert got[0] == pytest.approx(want, abs=1e-4)
    assert got[1] == pytest.approx(direct(model, tokenizer, PROMPTS[1], RESPONSES[1], True, 1.0), abs=1e-4)

    class EveryPosition(torch.nn.Module):  # takes logits_to_keep and ignores it, as some architectures do
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, logits_to_keep=None, **kwargs):
            return self.inner(**kwargs)

    assert (
        token_entropies(EveryPosition(model), tokenizer, prompts, responses, [True, True], batch_size=2)
        == got
    )
