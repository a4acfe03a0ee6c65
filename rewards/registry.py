"""Reward names used in recipes -> reward functions (open-r1 style). Add yours with `register_reward`."""

from __future__ import annotations

import difflib
from collections.abc import Callable

from rlvr.rewards.code_reward import CodeReward
from rlvr.rewards.format_reward import OverlongPenalty, boxed_format_reward, think_format_reward
from rlvr.rewards.math_reward import MathReward

_REGISTRY: dict[str, Callable[..., Callable]] = {
    "math": lambda **kw: MathReward(mode="lenient", **kw),
    "math_strict": lambda **kw: MathReward(mode="strict", **kw),
    "math_lenient": lambda **kw: MathReward(mode="lenient", **kw),
    "code": lambda **kw: CodeReward(**kw),
    "format": lambda **kw: think_format_reward,
    "think_format": lambda **kw: think_format_reward,
    "boxed_format": lambda **kw: boxed_format_reward,
    "overlong": lambda **kw: OverlongPenalty(**kw),
}


def reward_names() -> list[str]:
    return sorted(_REGISTRY)


def register_reward(name: str, factory: Callable[..., Callable]) -> None:
    """`factory(**kwargs)` returns a TRL reward function `f(prompts, completions, **columns)`."""
    _REGISTRY[name] = factory


def get_reward(name: str, **kwargs) -> Callable:
    """The reward function registered as `name`; graders also expose `.grade()` for evaluation."""
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown reward {name!r}.{hint} Known rewards: {', '.join(reward_names())}")
    return _REGISTRY[name](**kwargs)


def is_grader(reward: Callable) -> bool:
    """Graders hand verdicts to the evaluation; shaping rewards (format, overlong) only give a number."""
    return hasattr(reward, "grade")
