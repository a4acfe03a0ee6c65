"""A steps verifier for any data: a judge model reads the problem and a solution and says whether every
step is right. The model is asked through a `generate(prompts) -> texts` function (rlvr's own sampling
backends give one: `rlvr.evaluate.step_verified.backend_judge`), greedy, one short answer per prompt.

The prompt (JUDGE_PROMPT) asks for one word after the solution, CORRECT or INCORRECT; the first of the two
words in the reply decides, and a reply with neither is None (cannot tell).
"""

from __future__ import annotations

import re
from collections.abc import Callable

JUDGE_PROMPT = (
    "You check worked solutions step by step. A solution is CORRECT only if every step of its reasoning is "
    "right, not only its final answer.\n\n"
    "Problem:\n{problem}\n\n"
    "Solution:\n{completion}\n\n"
    "Is every step of the solution right? Reply with one word, CORRECT or INCORRECT.\n"
    "Verdict:"
)
_VERDICT_RE = re.compile(r"\b(INCORRECT|CORRECT)\b", re.IGNORECASE)


def judge_prompt(problem: dict, completion: str) -> str:
    text = problem.get("problem") or problem.get("prompt") or ""
    return JUDGE_PROMPT.format(problem=str(text).strip(), completion=completion.strip())


def parse_verdict(reply: str) -> bool | None:
    """CORRECT -> True, INCORRECT -> False (the first of them in the reply), neither -> None."""
    match = _VERDICT_RE.search(reply)
    return None if match is None else match.group(1).upper() == "CORRECT"


class JudgeVerifier:
    """`f(problem, completion)` through a judge model; `many` judges a batch in one generate call."""

    def __init__(self, generate: Callable[[list[str]], list[str]]) -> None:
        self.generate = generate

    def __call__(self, problem: dict, completion: str) -> bool | None:
        return self.many([problem], [completion])[0]

    def many(self, problems: list[dict], completions: list[str]) -> list[bool | None]:
        replies = self.generate([judge_prompt(p, c) for p, c in zip(problems, completions)])
        return [parse_verdict(r) for r in replies]
