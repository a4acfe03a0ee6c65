"""Shaping rewards: the think/answer format (R1-style) and a penalty for overlong completions."""

from __future__ import annotations

import re

from rlvr.rewards.verdict import completion_text

_THINK_ANSWER_RE = re.compile(r"^\s*<think>.+?</think>\s*<answer>.+?</answer>\s*$", re.DOTALL)


def think_format_reward(prompts=None, completions=None, **kwargs) -> list[float]:
    """1.0 when the completion is exactly <think>...</think><answer>...</answer>, else 0.0."""
    return [1.0 if _THINK_ANSWER_RE.match(completion_text(c)) else 0.0 for c in completions]


def boxed_format_reward(prompts=None, completions=None, **kwargs) -> list[float]:
    """1.0 when the completion states a \\boxed{} answer, else 0.0."""
    return [1.0 if "\\boxed{" in completion_text(c) else 0.0 for c in completions]


class OverlongPenalty:
    """DAPO's soft overlong punishment: 0 up to `max_length - buffer` chars, falling linearly to -1.

    Lengths are counted in characters so the reward needs no tokenizer; pass `tokenizer` to count tokens.
    """

    def __init__(self, max_length: int = 4096, buffer: int = 1024, tokenizer=None) -> None:
        if not 0 < buffer <= max_length:
            raise ValueError(f"overlong penalty needs 0 < buffer ({buffer}) <= max_length ({max_length})")
        self.max_length, self.buffer, self.tokenizer = max_length, buffer, tokenizer
        self.__name__ = "overlong"

    def _length(self, text: str) -> int:
        return len(self.tokenizer(text)["input_ids"]) if self.tokenizer is not None else len(text)

    def __call__(self, prompts=None, completions=None, **kwargs) -> list[float]:
        start = self.max_length - self.buffer
        out = []
        for c in completions:
            length = self._length(completion_text(c))
            out.append(0.0 if length <= start else max(-1.0, (start - length) / self.buffer))
        return out
