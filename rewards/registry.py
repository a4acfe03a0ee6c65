"""Reward names used in recipes -> reward functions (open-r1 style). Add yours with `register_reward`, or
name any function by import path, `my_module:my_reward` (as `trl grpo --reward_funcs` takes them)."""

from __future__ import annotations

import difflib
from collections.abc import Callable

from rlvr.rewards.code_reward import CodeReward
from rlvr.rewards.controls import RandomReward, WrongLabelReward, format_only
from rlvr.rewards.format_reward import (
    OverlongPenalty,
    boxed_format_reward,
    r1_format_reward,
    think_format_reward,
)
from rlvr.rewards.math_reward import MathReward

_REGISTRY: dict[str, Callable[..., Callable]] = {
    "math": lambda **kw: MathReward(mode="lenient", **kw),
    "math_strict": lambda **kw: MathReward(mode="strict", **kw),
    "math_lenient": lambda **kw: MathReward(mode="lenient", **kw),
    "code": lambda **kw: CodeReward(**kw),
    "format": lambda **kw: r1_format_reward,
    "think_format": lambda **kw: think_format_reward,
    "boxed_format": lambda **kw: boxed_format_reward,
    "overlong": lambda **kw: OverlongPenalty(**kw),
    # controls (rewards/controls.py): shaping rewards that pay anything but correctness
    "random": lambda seed=0, probability=0.5, **kw: RandomReward(seed, probability),
    "format_only": lambda **kw: format_only,
    "wrong_label": lambda golds=None, seed=0, **kw: WrongLabelReward(golds, seed),
}
CONTROL_REWARDS = ("random", "format_only", "wrong_label")


BUILT_IN = frozenset(_REGISTRY)  # rlvr's own rewards; anything else is a user's
_BUILT_IN_GRADERS = frozenset({"math", "math_strict", "math_lenient", "code"})


def reward_names() -> list[str]:
    return sorted(_REGISTRY)


def register_reward(name: str, factory: Callable[..., Callable]) -> None:
    """`factory(**kwargs)` returns a TRL reward function `f(prompts, completions, **columns)`."""
    _REGISTRY[name] = factory


def is_import_path(name: str) -> bool:
    """`package.module:function` (or `package.module.function` with a dot before the function)."""
    return ":" in name or ("." in name and name not in _REGISTRY)


def _import_reward(path: str) -> Callable:
    import importlib

    module_name, _, attribute = path.partition(":") if ":" in path else path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise KeyError(
            f"reward {path!r}: cannot import module {module_name!r} ({exc}); is it on PYTHONPATH?"
        ) from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise KeyError(f"reward {path!r}: module {module_name!r} has no function {attribute!r}")
    return function


def check_reward_name(name: str) -> None:
    """Raise KeyError unless `name` is registered or imports as a function (checked before models load)."""
    if is_import_path(name):
        _import_reward(name)
    elif name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(
            f"unknown reward {name!r}.{hint} Known rewards: {', '.join(reward_names())}, "
            f"or a function by import path, module:function"
        )


def get_reward(name: str, **kwargs) -> Callable:
    """The reward function registered as `name`, or imported from `module:function`; graders also expose
    `.grade()` for evaluation."""
    check_reward_name(name)
    if is_import_path(name):
        return _import_reward(name)
    return _REGISTRY[name](**kwargs)


def is_control(name: str) -> bool:
    """A control reward (random, format_only, wrong_label): its run is probed with the task's true grader."""
    return name in CONTROL_REWARDS


def is_grader(reward: Callable) -> bool:
    """Graders hand verdicts to the evaluation; shaping rewards (format, overlong) only give a number."""
    return hasattr(reward, "grade")


def names_grader(name: str) -> bool:
    """Whether the reward `name` is a grader, without building rlvr's own (the code grader needs a sandbox)."""
    if name in BUILT_IN:
        return name in _BUILT_IN_GRADERS
    return is_grader(get_reward(name))


def grader_problem(name: str) -> str | None:
    """Why the reward `name` cannot grade an evaluation (None when it can): the evaluation calls its
    `grade(completions, answer, prompt)` and records its `describe()`."""
    if name in BUILT_IN:
        return None if name in _BUILT_IN_GRADERS else "only shapes training (it gives a number, no verdict)"
    reward = get_reward(name)
    missing = [method for method in ("grade", "describe") if not callable(getattr(reward, method, None))]
    return f"has no {' or '.join(m + '()' for m in missing)}" if missing else None
