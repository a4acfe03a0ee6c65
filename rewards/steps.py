"""Steps verifiers: `f(problem, completion) -> bool | None` judges a sample's reasoning, not only its answer.

`problem` is the stored problem row (`id`, `prompt`, `problem`, `answer`, ...); `completion` the sample's text.
True: every step is right; False: a step is wrong; None: the verifier cannot tell. A sample counts toward
step-verified pass@k only when its answer is correct and its steps are judged True. Register yours with
`register_steps_verifier`, or name one by import path, `my_module:my_verifier`.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable

StepsVerifier = Callable[[dict, str], "bool | None"]


def _arithmetic(**kw) -> StepsVerifier:
    from rlvr.rewards.steps_arithmetic import verify_arithmetic_steps

    return verify_arithmetic_steps


def _judge(**kw) -> StepsVerifier:
    from rlvr.rewards.steps_judge import JudgeVerifier

    if "generate" not in kw:
        raise KeyError(
            "steps verifier 'judge' needs a judge model: pass --judge-model MODEL (any model rlvr can sample)"
        )
    return JudgeVerifier(**kw)


_REGISTRY: dict[str, Callable[..., StepsVerifier]] = {"arithmetic": _arithmetic, "judge": _judge}


def steps_verifier_names() -> list[str]:
    return sorted(_REGISTRY)


def register_steps_verifier(name: str, factory: Callable[..., StepsVerifier]) -> None:
    """`factory(**kwargs)` returns `f(problem, completion) -> bool | None`."""
    _REGISTRY[name] = factory


def check_steps_verifier_name(name: str) -> None:
    """Raise KeyError unless `name` is registered or imports as a function (checked before models load)."""
    if ":" in name:
        _import(name)
    elif name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(
            f"unknown steps verifier {name!r}.{hint} Known: {', '.join(steps_verifier_names())}, "
            "or a function by import path, module:function"
        )


def _import(path: str) -> StepsVerifier:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise KeyError(f"steps verifier {path!r}: cannot import {module_name!r} ({exc})") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise KeyError(f"steps verifier {path!r}: module {module_name!r} has no function {attribute!r}")
    return function


def get_steps_verifier(name: str, **kwargs) -> StepsVerifier:
    """The verifier registered as `name` (its factory gets `kwargs`), or imported from `module:function`."""
    check_steps_verifier_name(name)
    return _import(name) if ":" in name else _REGISTRY[name](**kwargs)
