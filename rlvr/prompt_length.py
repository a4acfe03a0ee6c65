"""Prompts that cannot fit the model's context are refused before any sampling, by id.

Past the context a model samples garbage silently, and a huge prompt (a 50 MB line) grows the process
until the kernel kills it. A prompt is tokenized only when it could fit: one longer, in characters, than
the room times the longest token in the vocabulary cannot.
"""

from __future__ import annotations

_CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "max_sequence_length")


def context_length(model_path: str) -> int | None:
    """The model's context in tokens, from its config (None when the config does not say)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_path)
    config = getattr(config, "text_config", None) or config
    for key in _CONTEXT_KEYS:
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def _longest_token_chars(tokenizer) -> int:
    return max((len(token) for token in tokenizer.get_vocab()), default=1) or 1


def too_long(prompts: dict[str, str], tokenizer, room: int) -> tuple[dict[str, int | None], int]:
    """(prompt id -> its length in tokens, None when too long to be worth counting, for each over `room`
    tokens; the longest length counted)."""
    longest_token = _longest_token_chars(tokenizer)
    out: dict[str, int | None] = {}
    longest = 0
    for pid, prompt in prompts.items():
        if len(prompt) > room * longest_token:
            out[pid] = None
            continue
        tokens = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        longest = max(longest, tokens)
        if tokens > room:
            out[pid] = tokens
    return out, longest


def check_prompt_lengths(
    prompts: dict[str, str], tokenizer, model_path: str, new_tokens: int, flag: str
) -> int | None:
    """Raise ValueError naming every prompt that leaves fewer than `new_tokens` of the context free. Returns
    the longest prompt in tokens (callers size batches by it), or None when the model's context is unknown
    and nothing was counted."""
    context = context_length(model_path)
    if context is None:
        return None
    room = context - new_tokens
    if room <= 0:
        raise ValueError(
            f"{flag} {new_tokens} leaves no room for a prompt in the model's context of {context} tokens"
        )
    over, longest = too_long(prompts, tokenizer, room)
    if over:
        from rlvr.evaluate.counts import preview

        named = preview([f"{pid} ({n} tokens)" if n else f"{pid} (far longer)" for pid, n in over.items()])
        raise ValueError(
            f"{len(over)} prompt(s) do not fit the model's context of {context} tokens with {flag} {new_tokens} "
            f"(room for {room}): {named}; shorten or drop them, or lower {flag}"
        )
    return longest


AUTO_MAX_TOKENS = 1024  # what `--max-tokens auto` allows when the model's context has room for it


def fit_max_tokens(
    prompts: dict[str, str], tokenizer, model_path: str, asked: int | str, flag: str
) -> tuple[int, int | None]:
    """(new tokens per sample, the longest prompt in tokens or None when uncounted). `auto`: AUTO_MAX_TOKENS, or
    what the model's context leaves after the longest prompt when that is less (a small model's context of 128
    cannot hold a 1024-token answer); a number is checked as given, by check_prompt_lengths."""
    if asked != "auto":
        return int(asked), check_prompt_lengths(prompts, tokenizer, model_path, int(asked), flag)
    context = context_length(model_path)
    if context is None:
        return AUTO_MAX_TOKENS, None
    over, longest = too_long(prompts, tokenizer, context - 1)
    if over:
        from rlvr.evaluate.counts import preview

        named = preview([f"{pid} ({n} tokens)" if n else f"{pid} (far longer)" for pid, n in over.items()])
        raise ValueError(
            f"{len(over)} prompt(s) leave no room for an answer in the model's context of {context} tokens: "
            f"{named}; shorten or drop them"
        )
    return min(AUTO_MAX_TOKENS, context - longest), longest
