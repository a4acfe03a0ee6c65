"""What a sampling backend returns, and the settings it samples with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplingSettings:
    n: int = 256
    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 1024


@dataclass
class Generation:
    text: str
    tokens: int
    finish_reason: str  # "stop" (end of sequence) or "length"
