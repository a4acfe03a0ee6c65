"""How many sequences one generate call holds (`--samples-per-call auto`).

A decode step costs about the same for 256 sequences as for 1,024 on a GPU (the weights are read once per
step either way), so the lever is how many sequences share a step: as many as the free memory holds for
their KV cache at prompt + max_tokens, with a margin, and a halving retry if that still runs out. On a CPU
the cost grows with the batch, and 256 keeps both cores busy without a long wait per call.
"""

from __future__ import annotations

CPU_SAMPLES_PER_CALL = 256
MAX_SAMPLES_PER_CALL = 8192
VLLM_SAMPLES_PER_CHUNK = 8192  # requests kept queued in vLLM; its scheduler batches them
MEMORY_MARGIN = 0.8  # of the free memory; the rest absorbs allocator fragmentation and cache growth
SAMPLER_ROWS = 512  # seeded_sampling draws this many rows at a time


def _text_config(config):
    return config.get_text_config() if hasattr(config, "get_text_config") else config


def kv_bytes_per_token(config, dtype_bytes: int) -> int:
    """Keys and values of every layer for one token (grouped-query attention stores num_key_value_heads)."""
    text = _text_config(config)
    heads = text.num_attention_heads
    kv_heads = getattr(text, "num_key_value_heads", None) or heads
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // heads
    return 2 * text.num_hidden_layers * kv_heads * head_dim * dtype_bytes


def bytes_per_sequence(config, dtype_bytes: int, prompt_tokens: int, max_tokens: int) -> int:
    """Peak bytes one sequence adds to a call: its KV cache at full length, its share of the prefill
    activations, and its logits (the model's, their float32 copy, and the sampler's output)."""
    text = _text_config(config)
    kv_per_token = kv_bytes_per_token(config, dtype_bytes)
    intermediate = getattr(text, "intermediate_size", None) or 4 * text.hidden_size
    prefill = prompt_tokens * (2 * intermediate + 4 * text.hidden_size) * dtype_bytes
    logits = text.vocab_size * (dtype_bytes + 4 + 4)
    return kv_per_token * (prompt_tokens + max_tokens) + prefill + logits


def fit_samples_per_call(free_bytes: int, per_sequence: int, vocab_size: int) -> int:
    """Sequences that fit in MEMORY_MARGIN of `free_bytes`, after the sampler's fixed working set."""
    sampler = SAMPLER_ROWS * vocab_size * 24  # probabilities, sorted copy, int64 order, cdf
    budget = free_bytes * MEMORY_MARGIN - sampler
    return max(1, min(MAX_SAMPLES_PER_CALL, int(budget // per_sequence)))


def parse_samples_per_call(value: str | int) -> int | None:
    """None for auto, else a positive count; anything else is refused with the choices."""
    if isinstance(value, int) or str(value).isdigit():
        if int(value) >= 1:
            return int(value)
    elif str(value) == "auto":
        return None
    raise ValueError(f"--samples-per-call takes auto or a positive count of sequences, not {value!r}")
