"""Sampling that drops each sequence from the batch, and its KV cache, as soon as it ends.

`generate` keeps every row until the longest one ends. On a CPU a decode step costs in proportion to the rows
in it, so a call whose answers average 30 tokens of 64 pays for 64. This loop draws the same tokens (each
row's own seed and step, `seeded_sampling.draw`) and costs only the rows still going. On a GPU a step costs
about the same at 256 or 1,024 rows, so packed `generate` stays there.

What else a step pays in `generate`'s machinery, and what this loop does instead (benchmarks/sample_cpu.py):
- the prompt: the n samples of a problem share it, so it is run once per distinct prompt, alone and unpadded,
  and its keys and values are copied into its rows (the prefill was about half of all the work at n = 8);
  only its last position's logits are computed;
- the cache: one preallocated buffer per layer, written in place at each step (DynamicCache concatenates,
  copying every layer's whole cache at every step); a finished row's slot is refilled by moving one row from
  the end, so pruning copies only the rows that move;
- the mask: left padding needs one, and with a mask transformers' SDPA path repeats every key and value head
  for grouped-query attention (a copy of the cache times the group size, per layer and step); here SDPA gets
  the additive mask with `enable_gqa`, the same attention with no copy.
Architectures outside `_SLOT_MODELS` (or with sliding-window layers) take the DynamicCache loop.
"""

from __future__ import annotations

from collections.abc import Callable

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
# decoder-only families whose attention calls `past_key_values.update(k, v, layer)` and takes a 4D mask as is
_SLOT_MODELS = {"llama", "qwen2", "qwen3"}
_ATTENTION = "rlvr_slots"


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


def uses_slots(model) -> bool:
    """Whether the preallocated-cache loop runs this model: a known family, full attention in every layer."""
    config = model.config.get_text_config()
    if config.model_type not in _SLOT_MODELS or getattr(config, "use_sliding_window", False):
        return False
    return all(
        kind == "full_attention" for kind in getattr(config, "layer_types", None) or ["full_attention"]
    )


def _slot_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """SDPA over the slots' keys with the additive padding mask; grouped-query heads without repeating them.
    Below float32, one query per row takes transformers' eager arithmetic instead: the CPU's SDPA kernel for
    bfloat16 took 8 times as long at 256 rows (docs/benchmarks.md); float32 stays on SDPA, bit for bit."""
    if query.dtype != torch.float32 and query.shape[2] == 1:
        return _eager_one_query(query, key, value, attention_mask, scaling), None
    out = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attention_mask, scale=scaling, enable_gqa=key.shape[1] != query.shape[1]
    )
    return out.transpose(1, 2).contiguous(), None


def _eager_one_query(query, key, value, attention_mask, scaling) -> torch.Tensor:
    """transformers' eager attention (scores in the model's dtype, softmax in float32) for a single query
    position, each key/value head shared by its group of query heads through a view rather than a copy."""
    rows, heads, _, head_dim = query.shape
    groups = query.view(rows, key.shape[1], heads // key.shape[1], head_dim)
    scale = scaling if scaling is not None else head_dim**-0.5
    scores = torch.matmul(groups, key.transpose(-1, -2)) * scale + attention_mask
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(value.dtype)
    return torch.matmul(weights, value).view(rows, heads, 1, head_dim).transpose(1, 2).contiguous()


class SlotCache:
    """Keys and values of every layer in buffers of rows x heads x (prompt + new tokens) x head_dim, prompts
    right-aligned at `prompt_width`; the model writes step t's column `prompt_width + t` of the first `rows`."""

    def __init__(self, model, rows: int, prompt_width: int, new_tokens: int) -> None:
        config = model.config.get_text_config()
        kv_heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        shape = (rows, kv_heads, prompt_width + new_tokens, head_dim)
        dtype, device = model.dtype, model.device
        # empty: pages are committed as columns are written, so memory grows with the longest row rather than
        # rows x (prompt + max tokens) up front; fill zeroes the padding, which attention reads under the mask
        layers = range(config.num_hidden_layers)
        self.keys = [torch.empty(shape, dtype=dtype, device=device) for _ in layers]
        self.values = [torch.empty(shape, dtype=dtype, device=device) for _ in layers]
        # 0 where a row attends, -inf on its left padding
        self.mask = torch.zeros(rows, 1, 1, shape[2], dtype=dtype, device=device)
        self.rows = rows
        self.column = prompt_width

    def fill(self, rows: torch.Tensor, prompt_cache, prompt_width: int) -> None:
        """Copy one prompt's keys and values (a DynamicCache of batch 1) into `rows`, right-aligned."""
        for layer, cached in enumerate(prompt_cache.layers):
            length = cached.keys.shape[2]
            for buffer, part in ((self.keys[layer], cached.keys), (self.values[layer], cached.values)):
                buffer[rows, :, : prompt_width - length] = 0.0
                buffer[rows, :, prompt_width - length : prompt_width] = part
        self.mask[rows, :, :, : prompt_width - length] = float("-inf")

    def move(self, to: torch.Tensor, source: torch.Tensor) -> None:
        """Rows `source` into slots `to`, up to the current column."""
        width = self.column
        for buffer in (*self.keys, *self.values, self.mask):
            buffer[to, :, :, :width] = buffer[source, :, :, :width]

    def update(self, key_states, value_states, layer_idx: int, cache_kwargs=None, **kwargs):
        # cache_kwargs: transformers up to 5.23 passes them by position; 5.24 on by the keyword `kwargs`
        keys, values = self.keys[layer_idx], self.values[layer_idx]
        keys[: self.rows, :, self.column] = key_states[:, :, 0]
        values[: self.rows, :, self.column] = value_states[:, :, 0]
        return keys[: self.rows, :, : self.column + 1], values[: self.rows, :, : self.column + 1]


# a row's end besides its end-of-sequence token: called with the original rows drawn at a step and their new
# tokens, it says which of them end there (stop strings: evaluate/stop_strings.py)
Ends = Callable[[list[int], list[int]], list[bool]]


def _pick(logits: torch.Tensor, seeds: torch.Tensor, step: int, temperature: float, top_p: float, **limits):
    return (
        draw_rows(logits, seeds, step, temperature, top_p, **limits) if temperature > 0 else logits.argmax(-1)
    )


def _going(rows: torch.Tensor, tokens: torch.Tensor, eos: torch.Tensor, ends: Ends | None) -> torch.Tensor:
    """Which rows go on after this step's tokens."""
    going = ~torch.isin(tokens, eos)
    if ends is not None:
        going &= ~torch.tensor(ends(rows.tolist(), tokens.tolist()), dtype=torch.bool, device=tokens.device)
    return going


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
    top_k: int = 0,
    min_p: float = 0.0,
    ends: Ends | None = None,
) -> list[list[int]]:
    """New tokens per row (up to and including its end-of-sequence token, or the token at which `ends` ended
    it), left-padded input as `generate` takes."""
    sample = _sample_slots if uses_slots(model) else _sample_dynamic
    return sample(
        model,
        input_ids,
        attention_mask,
        seeds,
        max_new_tokens,
        eos_ids,
        temperature,
        top_p,
        top_k=top_k,
        min_p=min_p,
        ends=ends,
    )


def _prefill_once_per_prompt(model, input_ids, attention_mask, cache: SlotCache) -> torch.Tensor:
    """Each distinct prompt run alone (no padding), its cache copied into its rows; the rows' last logits."""
    from transformers import DynamicCache

    width = input_ids.shape[1]
    groups: dict[tuple[int, ...], list[int]] = {}
    for row, (ids, mask) in enumerate(zip(input_ids.tolist(), attention_mask.tolist())):
        groups.setdefault(tuple(t for t, m in zip(ids, mask) if m), []).append(row)
    logits = None
    for prompt, rows in groups.items():
        prompt_cache = DynamicCache(config=model.config)
        out = model(
            input_ids=torch.tensor([prompt], device=input_ids.device),
            past_key_values=prompt_cache,
            use_cache=True,
            logits_to_keep=1,
        )
        last = out.logits[:, -1, :].float()
        if logits is None:
            logits = last.new_empty(input_ids.shape[0], last.shape[1])
        index = torch.tensor(rows, device=input_ids.device)
        logits[index] = last
        cache.fill(index, prompt_cache, width)
    return logits


def _sample_slots(
    model,
    input_ids,
    attention_mask,
    seeds,
    max_new_tokens,
    eos_ids,
    temperature,
    top_p,
    top_k: int = 0,
    min_p: float = 0.0,
    ends: Ends | None = None,
) -> list[list[int]]:
    from transformers import AttentionInterface

    AttentionInterface.register(_ATTENTION, _slot_attention)
    rows, width = input_ids.shape
    device = input_ids.device
    cache = SlotCache(model, rows, width, max_new_tokens)
    logits = _prefill_once_per_prompt(model, input_ids, attention_mask, cache)
    slot_row = torch.arange(rows, device=device)  # the original row in each slot
    slot_seed = torch.tensor(seeds, dtype=torch.int64, device=device)
    position = attention_mask.long().sum(-1)  # the next token's position: the prompt's length
    eos = torch.tensor(sorted(eos_ids), device=device)
    outputs: list[list[int]] = [[] for _ in range(rows)]
    config = model.config
    saved = config._attn_implementation
    try:
        for step in range(max_new_tokens):
            tokens = _pick(logits, slot_seed, step, temperature, top_p, top_k=top_k, min_p=min_p)
            for row, token in zip(slot_row.tolist(), tokens.tolist()):
                outputs[row].append(token)
            going = _going(slot_row, tokens, eos, ends)
            if step == max_new_tokens - 1 or not going.any():
                break
            if not going.all():
                count = int(going.sum())
                holes = (~going[:count]).nonzero().squeeze(1)  # finished rows in the slots kept
                movers = going[count:].nonzero().squeeze(1) + count  # going rows past them
                order = torch.arange(count, device=device)
                order[holes] = movers
                cache.move(holes, movers)
                slot_row, slot_seed, tokens, position = (
                    slot_row[order],
                    slot_seed[order],
                    tokens[order],
                    position[order],
                )
                cache.rows = count
            config._attn_implementation = _ATTENTION
            logits = (
                model(
                    input_ids=tokens[:, None],
                    attention_mask=cache.mask[: cache.rows, :, :, : cache.column + 1],
                    position_ids=position[:, None],
                    past_key_values=cache,
                    use_cache=True,
                )
                .logits[:, -1, :]
                .float()
            )
            config._attn_implementation = saved
            cache.column += 1
            position = position + 1
    finally:
        config._attn_implementation = saved
    return outputs


def _sample_dynamic(
    model,
    input_ids,
    attention_mask,
    seeds,
    max_new_tokens,
    eos_ids,
    temperature,
    top_p,
    top_k: int = 0,
    min_p: float = 0.0,
    ends: Ends | None = None,
) -> list[list[int]]:
    """The same draws over a DynamicCache, for architectures the slot cache does not cover."""
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
            logits_to_keep=1,
        )
        .logits[:, -1, :]
        .float()
    )
    next_position = positions[:, -1] + 1
    for step in range(max_new_tokens):
        tokens = _pick(logits, row_seeds[alive], step, temperature, top_p, top_k=top_k, min_p=min_p)
        for row, token in zip(alive.tolist(), tokens.tolist()):
            outputs[row].append(token)
        going = _going(alive, tokens, eos, ends)
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
