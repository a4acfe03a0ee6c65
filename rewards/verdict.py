"""What a grader says about one sample: the reward, and why, for the sample store."""

from __future__ import annotations

from dataclasses import dataclass, field

CORRECT = "correct"
WRONG = "wrong"
NO_ANSWER = "no_answer"
TIMEOUT = "timeout"
ERROR = "error"

VERDICTS = (CORRECT, WRONG, NO_ANSWER, TIMEOUT, ERROR)


@dataclass
class Grade:
    """One graded sample. `verdict` is one of VERDICTS; `detail` says more (which test failed, ...)."""

    verdict: str
    extracted: str | None = None
    detail: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def correct(self) -> bool:
        return self.verdict == CORRECT

    @property
    def reward(self) -> float:
        return 1.0 if self.correct else 0.0


def completion_text(completion) -> str:
    """TRL hands plain strings or conversations (lists of {role, content}); graders read the text."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content", ""))
    if isinstance(completion, (list, tuple)):
        parts = [
            m.get("content", "")
            for m in completion
            if isinstance(m, dict) and m.get("role", "assistant") == "assistant"
        ]
        return "".join(str(p) for p in parts)
    return "" if completion is None else str(completion)


def prompt_text(prompt) -> str:
    """The text a prompt shows the model: a string, or every message's content of a conversation."""
    if isinstance(prompt, (list, tuple)):
        return "\n".join(str(m.get("content", "")) for m in prompt if isinstance(m, dict))
    return "" if prompt is None else str(prompt)
