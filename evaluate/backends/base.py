"""What a sampling backend returns, and the settings it samples with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplingSettings:
    n: int = 256
    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 1024
    top_k: int = 0  # 0: every token
    min_p: float = 0.0  # 0: off
    # a sample ends at the first of these in its text, which is cut before it (evaluate/stop_strings.py)
    stop: tuple[str, ...] = ()


def extra_sampling(settings: SamplingSettings, explicit: bool = False) -> dict:
    """vLLM's top_k, min_p and stop, those that are set: off, they are left to the engine's own default, so a
    plain OpenAI server that knows no top_k is sent none. `explicit` sends top_k and min_p off too, top_k as -1
    (off to vLLM, SGLang and llama.cpp alike; SGLang and older vLLM refuse 0): vLLM's server fills one left out
    from the model's generation_config.json (Qwen2.5's top_k 20), which would sample other than the store says.
    The stop strings are cut from the text (vLLM's default, include_stop_str_in_output=False), as the hf backend
    cuts them."""
    extra: dict = {}
    if settings.top_k > 0 or explicit:
        extra["top_k"] = settings.top_k if settings.top_k > 0 else -1
    if settings.min_p > 0 or explicit:
        extra["min_p"] = settings.min_p
    if settings.stop:
        extra["stop"] = list(settings.stop)
    return extra


# an evaluation setting's range (vLLM's own for sampling) and what a value outside it is told
_RANGES = {
    "n": (lambda v: v >= 1, "must be at least 1 (samples per problem)"),
    "max_tokens": (lambda v: v >= 1, "must be at least 1 (new tokens per sample)"),
    "temperature": (lambda v: v >= 0, "must be 0 (greedy) or more"),
    "top_p": (lambda v: 0 < v <= 1, "must be in (0, 1] (1 keeps the whole vocabulary)"),
    "top_k": (lambda v: v >= 0, "must be 0 (every token) or more"),
    "min_p": (lambda v: 0 <= v < 1, "must be in [0, 1) (0 turns it off)"),
    "stop": (lambda v: all(isinstance(s, str) and s for s in v), "must be non-empty strings"),
    "limit": (lambda v: v is None or v >= 1, "must be at least 1 (leave it out for every problem)"),
}


def setting_problems(**settings) -> list[tuple[str, str]]:
    """(setting, what is wrong) for each setting given that is out of range (a nan too); checked before a model
    loads, since out of range they would sample something (a negative temperature fell back to greedy, a limit of
    -3 dropped the last 3 problems) and look like a run."""
    return [
        (key, f"{_RANGES[key][1]}, not {value}")
        for key, value in settings.items()
        if not _RANGES[key][0](value)
    ]


@dataclass
class Generation:
    text: str
    tokens: int
    finish_reason: str  # "stop" (end of sequence or a stop string) or "length"
