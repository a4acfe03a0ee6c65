"""Sampling that drops each sequence from the batch, and its KV cache, as soon as it ends.

`generate` keeps every row until the longest one ends. On a CPU a decode step costs in proportion to the rows
in it, so a call whose answers average 30 tokens of 64 pays for 64. This loop draws the same tokens (each
row's own seed and step, `seeded_sampling.draw`) and costs only the rows still going. On a GPU a step costs
about the same at 256 or 1,024 rows, so packed `generate` stays there.
"""

from __future__ import annotations

import torch

from rlvr.evaluate.seeded_sampling import draw_rows

# generation_config fields that would add a logits processor to `generate`: with any of them set the loop would
# sample from another distribution, so the backend uses `generate` instead.
_PROCESSOR_FIELDS = {
    "repetition_penalty": 1.0,
    "no_repeat_ngram_size": None,
    "bad_words_ids": None,
    "min_length": 0,
    "min_new_tokens": None,
    "forced_bos_token_id": None,
    "forced_eos_token_id": None,
    "suppress_tokens": None,
    "begin_suppress_tokens": None,
    "sequence_bias": None,
    "exponential_decay_length_penalty": None,
    "renormalize_logits": False,
    "encoder_repetition_penalty": 1.0,
    "encoder_no_repeat_ngram_size": None,
}


def supports(model) -> bool:
    """Whether this loop samples what `generate` would: a decoder-only model that takes position ids, with no
    extra logits processors."""
    import inspect

    config = model.generation_config
    if getattr(model.config, "is_encoder_decoder", False):
        return False
    if "position_ids" not in inspect.signature(model.forward).parameters:
        return False
    return all(
        getattr(config, name, default) in (default, None) for name, default in _PROCESSOR_FIELDS.items()
    )


@torch.no_grad()
def sample_pruned(
    model,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    seeds: list[int],
    max_new_tokens: int,
    eos_ids: set[int],
    temperature: float,
    top_p: float,
) -> list[list[int]]:
    """New tokens per row (up to and including its end-of-sequence token), left-padded input as `generate` takes."""
    from transformers import DynamicCache

    rows = input_ids.shape[0]
    device = input_ids.device
    alive = torch.arange(rows, device=device)  # the original row of each row still in the batch
    row_seeds = torch.tensor(seeds, dtype=torch.int64, device=device)
    eos = torch.tensor(sorted(eos_ids), device=device)
    outputs: list[list[int]] = [[] for _ in range(rows)]
    positions = attention_mask.long().cumsum(-1) - 1
    positions.masked_fill_(attention_mask == 0, 1)  # as generate does for left padding
    cache = DynamicCache(config=model.config)  # as generate builds it (sliding-window layers included)
    logits = (
        model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=positions,
            past_key_values=cache,
            use_cache=True,
        )
        .logits[:, -1, :]
        .float()
    )
    next_position = positions[:, -1] + 1
    for step in range(max_new_tokens):
        if temperature > 0:
            tokens = draw_rows(logits, row_seeds[alive], step, temperature, top_p)
        else:
            tokens = logits.argmax(-1)
        for row, token in zip(alive.tolist(), tokens.tolist()):
            outputs[row].append(token)
        going = ~torch.isin(tokens, eos)
        if step == max_new_tokens - 1 or not going.any():
            break
        if not going.all():
            keep = going.nonzero().squeeze(1)
            alive, tokens, attention_mask, next_position = (
                alive[keep],
                tokens[keep],
                attention_mask[keep],
                next_position[keep],
            )
            cache.batch_select_indices(keep)
        attention_mask = torch.cat([attention_mask, attention_mask.new_ones(len(alive), 1)], dim=1)
        logits = (
            model(
                input_ids=tokens[:, None],
                attention_mask=attention_mask,
                position_ids=next_position[:, None],
                past_key_values=cache,
                use_cache=True,
            )
            .logits[:, -1, :]
            .float()
        )
        next_position = next_position + 1
    return outputs
