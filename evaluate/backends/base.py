"""What a sampling backend returns, and the settings it samples with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplingSettings:
    n: int = 256
    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 1024


def sampling_problems(n: int, temperature: float, top_p: float, max_tokens: int) -> list[tuple[str, str]]:
    """(setting, what is wrong) for each setting outside vLLM's own ranges; checked before a model loads, since
    out of range they would sample something (a negative temperature fell back to greedy) and look like a run."""
    problems = []
    if n < 1:
        problems.append(("n", f"must be at least 1 (samples per problem), not {n}"))
    if max_tokens < 1:
        problems.append(("max_tokens", f"must be at least 1 (new tokens per sample), not {max_tokens}"))
    if not temperature >= 0:
        problems.append(("temperature", f"must be 0 (greedy) or more, not {temperature}"))
    if not 0 < top_p <= 1:
        problems.append(("top_p", f"must be in (0, 1] (1 keeps the whole vocabulary), not {top_p}"))
    return problems


@dataclass
class Generation:
    text: str
    tokens: int
    finish_reason: str  # "stop" (end of sequence) or "length"
