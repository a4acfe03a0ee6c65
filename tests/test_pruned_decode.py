"""Finished rows leave the batch on a CPU, and every sample stays what packed `generate` draws."""

from __future__ import annotations

import pytest

from rlvr.evaluate.backends.base import SamplingSettings
from rlvr.evaluate.plan import pack_calls, plan_units, sample_seed


def _calls(n: int = 12):
    prompts = {f"p{i}": f"What is {i} + {i % 3}?" for i in range(4)}
    return pack_calls(plan_units(list(prompts), n), {}, 48, prompts, lambda pid, s: sample_seed(3, pid, s))


@pytest.mark.parametrize("temperature", [0.9, 0.0])
def test_pruned_rows_draw_what_generate_draws_and_cost_only_while_going(tiny_model_dir, temperature):
    from rlvr.evaluate.backends.hf import HFBackend

    settings = SamplingSettings(n=12, temperature=temperature, top_p=0.9, max_tokens=16)
    backend = HFBackend(tiny_model_dir, device="cpu")
    assert backend.prune_finished
    ids = backend.tokenizer("1 2 3 4 5 6 7 8 9 0", add_special_tokens=False)["input_ids"]
    backend.eos_ids = set(ids) | backend.eos_ids  # common tokens end rows at many different steps
    rows_per_step: list[int] = []
    hook = backend.model.register_forward_pre_hook(
        lambda module, args, kwargs: rows_per_step.append(kwargs["input_ids"].shape[0]), with_kwargs=True
    )
    pruned = [
        (g.text, g.tokens, g.finish_reason)
        for _, gens in next(backend.stream(_calls(), settings))
        for g in gens
    ]
    hook.remove()
    backend.model.generation_config.eos_token_id = sorted(backend.eos_ids)
    backend.prune_finished = False
    packed = [
        (g.text, g.tokens, g.finish_reason)
        for _, gens in next(backend.stream(_calls(), settings))
        for g in gens
    ]
    assert pruned == packed
    if temperature == 0:
        return  # greedy rows here all run to the limit
    lengths = [tokens for _, tokens, _ in pruned]
    assert len(set(lengths)) > 3 and any(reason == "stop" for _, _, reason in pruned)
    assert sum(rows_per_step[1:]) == sum(lengths) - len(lengths)  # one row-step per token after the first
    assert sum(rows_per_step[1:]) < len(lengths) * (max(lengths) - 1)


def test_a_generation_config_with_a_penalty_keeps_generate(tiny_model_dir):
    from rlvr.evaluate.backends.hf import HFBackend
    from rlvr.evaluate.pruned_decode import supports

    backend = HFBackend(tiny_model_dir, device="cpu")
    backend.model.generation_config.repetition_penalty = 1.3
    assert not supports(backend.model)
