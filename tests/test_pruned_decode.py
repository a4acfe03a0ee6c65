"""Finished rows leave the batch on a CPU, and every sample is the sampler's definition computed directly: each
row alone, no cache, the whole sorted vocabulary (`draw(..., head=False)`) at the row's own uniform."""

from __future__ import annotations

import pytest
import torch

from rlvr.evaluate.backends.base import SamplingSettings
from rlvr.evaluate.plan import pack_calls, plan_units, sample_seed
from rlvr.evaluate.seeded_sampling import draw, uniforms


def _calls(n: int = 12):
    prompts = {f"p{i}": f"What is {i} + {i % 3}?" + " 7" * i for i in range(4)}  # prompts of four lengths
    return pack_calls(plan_units(list(prompts), n), {}, 48, prompts, lambda pid, s: sample_seed(3, pid, s))


@torch.no_grad()
def _reference(model, tokenizer, prompt: str, seed: int, settings: SamplingSettings, eos: set[int]):
    """One sample by the definition: the whole sequence through the model at every step, alone and unpadded."""
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    new: list[int] = []
    for step in range(settings.max_tokens):
        logits = model(input_ids=torch.tensor([ids + new]), use_cache=False).logits[:, -1, :].float()
        if settings.temperature > 0:
            u = uniforms(torch.tensor([seed]), step)
            token = int(draw(logits, u, settings.temperature, settings.top_p, head=False)[0])
        else:
            token = int(logits.argmax(-1)[0])
        new.append(token)
        if token in eos:
            break
    return new


def _gqa_llama(tiny_model_dir, tmp_path) -> str:
    """A Llama with grouped-query attention (SmolLM2's family: 3 query heads per key head), the tiny tokenizer."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=48,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=6,
        num_key_value_heads=2,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(1)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(tmp_path / "llama")
    tokenizer.save_pretrained(tmp_path / "llama")
    return str(tmp_path / "llama")


@pytest.mark.parametrize(
    "family,temperature,top_p",
    [("qwen2", 0.9, 0.9), ("qwen2", 0.0, 1.0), ("llama", 0.7, 1.0), ("llama", 1.0, 0.95)],
)
def test_pruned_rows_draw_the_definition_and_cost_only_while_going(
    tiny_model_dir, tmp_path, family, temperature, top_p
):
    from rlvr.evaluate.backends.hf import HFBackend
    from rlvr.evaluate.pruned_decode import uses_slots

    model_dir = tiny_model_dir if family == "qwen2" else _gqa_llama(tiny_model_dir, tmp_path)
    settings = SamplingSettings(n=12, temperature=temperature, top_p=top_p, max_tokens=16)
    backend = HFBackend(model_dir, device="cpu")
    assert backend.prune_finished and uses_slots(backend.model)
    ids = backend.tokenizer("1 2 3 4 5 6 7 8 9 0", add_special_tokens=False)["input_ids"]
    backend.eos_ids = set(ids) | backend.eos_ids  # common tokens end rows at many different steps
    rows_per_step: list[int] = []
    hook = backend.model.register_forward_pre_hook(
        lambda module, args, kwargs: rows_per_step.append(kwargs["input_ids"].shape[0]), with_kwargs=True
    )
    calls = _calls()
    got = [
        (r.prompt, seed, g)
        for r, gens in next(backend.stream(calls, settings))
        for seed, g in zip(r.seeds, gens)
    ]
    hook.remove()
    for prompt, seed, generation in got:
        tokens = _reference(backend.model, backend.tokenizer, prompt, seed, settings, backend.eos_ids)
        stopped = tokens[-1] in backend.eos_ids
        kept = tokens if stopped else tokens[: settings.max_tokens]
        assert generation.text == backend.tokenizer.decode(kept, skip_special_tokens=True), (prompt, seed)
        assert (generation.tokens, generation.finish_reason) == (len(kept), "stop" if stopped else "length")
    prompts = len({prompt for prompt, _, _ in got})
    assert rows_per_step[:prompts] == [1] * prompts  # each distinct prompt once, alone
    if temperature == 0:
        return  # greedy rows of one prompt are all alike
    lengths = [g.tokens for _, _, g in got]
    assert len(set(lengths)) > 3 and any(g.finish_reason == "stop" for _, _, g in got)
    decode = rows_per_step[prompts:]
    assert sum(decode) == sum(lengths) - len(lengths)  # one row-step per token after the first
    assert sum(decode) < len(lengths) * (max(lengths) - 1)


def test_other_families_take_the_dynamic_cache_loop_and_draw_the_definition(tiny_model_dir):
    from rlvr.evaluate.backends.hf import HFBackend
    from rlvr.evaluate.pruned_decode import _sample_dynamic

    backend = HFBackend(tiny_model_dir, device="cpu")
    settings = SamplingSettings(n=6, temperature=0.8, top_p=0.95, max_tokens=12)
    prompt = "What is 3 + 4?"  # one prompt: no padding, so the batch computes what each row alone would
    batch = backend.tokenizer([prompt] * 6, return_tensors="pt", add_special_tokens=False)
    seeds = [sample_seed(5, "x", i) for i in range(6)]
    got = _sample_dynamic(
        backend.model, batch["input_ids"], batch["attention_mask"], seeds, 12, backend.eos_ids, 0.8, 0.95
    )
    assert got == [
        _reference(backend.model, backend.tokenizer, prompt, s, settings, backend.eos_ids) for s in seeds
    ]


def test_a_generation_config_with_a_penalty_keeps_generate(tiny_model_dir):
    from rlvr.evaluate.backends.hf import HFBackend
    from rlvr.evaluate.pruned_decode import supports

    backend = HFBackend(tiny_model_dir, device="cpu")
    backend.model.generation_config.repetition_penalty = 1.3
    assert not supports(backend.model)
