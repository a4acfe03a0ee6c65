"""Shaping rewards. Where TRL ships the same reward, rlvr's name is a thin adapter over TRL's function:
`think_format` is TRL's `think_format_reward`, `overlong` TRL's `get_soft_overlong_punishment` (DAPO's,
counted in tokens). `format` (R1's think-then-answer tags) and `boxed_format` have no TRL counterpart."""

from __future__ import annotations

import re

from rlvr.rewards.verdict import completion_text

_THINK_ANSWER_RE = re.compile(r"^\s*<think>.+?</think>\s*<answer>.+?</answer>\s*$", re.DOTALL)


def _as_messages(completions) -> list[list[dict]]:
    """TRL's format rewards read conversational completions; plain strings are wrapped as one message."""
    return [[{"role": "assistant", "content": completion_text(c)}] for c in completions]


def think_format_reward(prompts=None, completions=None, **kwargs) -> list[float]:
    """TRL's `think_format_reward`: 1.0 when the completion starts with one <think>...</think> block."""
    from trl.rewards import think_format_reward as trl_think_format_reward

    return trl_think_format_reward(_as_messages(completions))


def r1_format_reward(prompts=None, completions=None, **kwargs) -> list[float]:
    """1.0 when the completion is exactly <think>...</think><answer>...</answer> (the r1 template's format)."""
    return [1.0 if _THINK_ANSWER_RE.match(completion_text(c)) else 0.0 for c in completions]


def boxed_format_reward(prompts=None, completions=None, **kwargs) -> list[float]:
    """1.0 when the completion states a \\boxed{} answer, else 0.0."""
    return [1.0 if "\\boxed{" in completion_text(c) else 0.0 for c in completions]


class OverlongPenalty:
    """DAPO's soft overlong punishment through TRL's `get_soft_overlong_punishment`: 0 up to
    `max_length - buffer` tokens, then falling linearly to -1 at `max_length`. Counted in tokens, from the
    `completion_ids` TRL's trainers pass to every reward function."""

    def __init__(self, max_length: int = 4096, buffer: int = 1024) -> None:
        from trl.rewards import get_soft_overlong_punishment

        if not 0 < buffer <= max_length:
            raise ValueError(f"overlong penalty needs 0 < buffer ({buffer}) <= max_length ({max_length})")
        self.max_length, self.buffer = max_length, buffer
        self._trl = get_soft_overlong_punishment(max_completion_len=max_length, soft_punish_cache=buffer)
        self.__name__ = "overlong"

    def __call__(self, prompts=None, completions=None, completion_ids=None, **kwargs) -> list[float]:
        if completion_ids is None:
            raise ValueError(
                "the overlong reward counts tokens: call it with completion_ids (TRL's trainers pass them)"
            )
        return self._trl(completion_ids=[list(ids) for ids in completion_ids])
