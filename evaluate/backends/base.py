"""What a sampling backend returns, and the settings it samples with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplingSettings:
    n: int = 256
    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 1024


# an evaluation setting's range (vLLM's own for sampling) and what a value outside it is told
_RANGES = {
    "n": (lambda v: v >= 1, "must be at least 1 (samples per problem)"),
    "max_tokens": (lambda v: v >= 1, "must be at least 1 (new tokens per sample)"),
    "temperature": (lambda v: v >= 0, "must be 0 (greedy) or more"),
    "top_p": (lambda v: 0 < v <= 1, "must be in (0, 1] (1 keeps the whole vocabulary)"),
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
    finish_reason: str  # "stop" (end of sequence) or "length"
