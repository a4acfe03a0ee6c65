"""The math grader: one object that is a TRL reward function and the evaluation's grader."""

from __future__ import annotations

import math
import re

from rlvr.rewards.math_equation import claims, is_equation
from rlvr.rewards.math_extract import MODES, extract_answer, extract_gold
from rlvr.rewards.math_guard import joined_thousands, refusal, tidy
from rlvr.rewards.math_normalize import same_text
from rlvr.rewards.math_pool import shared_pool
from rlvr.rewards.math_restate import restates
from rlvr.rewards.verdict import CORRECT, NO_ANSWER, TIMEOUT, WRONG, Grade, completion_text, prompt_text

# Values no verifier can compute in time: numeric power towers of 4+ levels, factorials of 5+ digits.
_TOWER_RE = re.compile(r"\d+\s*\^\s*\{?\s*\d+\s*\^\s*\{?\s*\d+\s*\^")
_HUGE_FACTORIAL_RE = re.compile(r"\d{5,}\s*!")
# Integers that a float holds exactly: math-verify's verdict on two of them is whether their values are equal.
_INTEGER_RE = re.compile(r"[+-]?[0-9]{1,15}")
# The longest answer handed to the verifier (or four times the gold's length, if more): MATH's and GSM8K's
# answers are under 200 characters, the peer suites' under 1,500 (past about 2,000 math-verify parses nothing and its
# bare-text fallback reads one number out of the text); a run of 200,000 boxes is 600,000.
MAX_ANSWER_CHARS = 1_500


def _gold_text(answer, index: int) -> str:
    """The gold answer as a string; a missing one is a data error, never an answer that can match."""
    missing = answer is None or (isinstance(answer, float) and math.isnan(answer))
    text = "" if missing else str(answer).strip()
    if missing or not text or text.lower() in ("none", "nan", "null"):
        raise ValueError(
            f"gold answer #{index} is {answer!r}: every problem needs a non-empty `answer`; "
            "fix or drop that row of the dataset"
        )
    return joined_thousands(extract_gold(text))


def _refusal(prompt: str, pred: str | None, gold: str) -> str:
    """Why `pred` is wrong before any verifier sees it ("" when it is not): far longer than any answer, or a
    restatement of the problem. Only `prompt`s that are given can be restated ("" is none)."""
    if pred is None:
        return ""
    if len(pred) > max(MAX_ANSWER_CHARS, 4 * len(gold)) and not same_text(gold, pred):
        return f"an answer of {len(pred)} characters, longer than any answer is verified ({MAX_ANSWER_CHARS})"
    if why := refusal(pred, gold):
        return why
    return "restates the problem" if prompt and restates(prompt, pred, gold) else ""


MALFORMED = "a malformed equation (a side is empty)"


def _claims(gold: str, pred: str | None, skip: str) -> list[tuple[str, str]] | None:
    """The equalities `pred` asserts, which must hold for it to count ([] when there is nothing to check:
    no answer, a refused one, or a gold that is itself an equation); None when it is malformed."""
    if pred is None or skip or is_equation(gold):
        return []
    return claims(pred)


class MathReward:
    """Reward 1.0 when the completion's final answer equals the `answer` column, else 0.0; an answer copied
    from its prompt (`\\boxed{3 + 4 * 2}` for "Compute 3 + 4 * 2") is wrong however it evaluates.

    Identical (gold, answer) pairs are verified once per grader (the cache lives as long as it does),
    and distinct ones in parallel worker processes with a hard time limit each.
    """

    def __init__(self, mode: str = "lenient", timeout: float = 5.0, workers: int | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown math grading mode {mode!r}; use one of {MODES}")
        self.mode = mode
        self.timeout = timeout
        self.workers = workers
        self.__name__ = "math" if mode == "lenient" else f"math_{mode}"
        self._cache: dict[tuple[str, str], str] = {}

    def describe(self) -> dict:
        return {"grader": "math", "mode": self.mode, "timeout": self.timeout}

    def start(self) -> None:
        """Start the verifier workers in the background, before the first answers arrive."""
        shared_pool(self.workers, self.timeout).start()

    def grade(self, completions: list, answer: list, prompt: list | None = None) -> list[Grade]:
        """`prompt` (each completion's prompt, a string or a conversation): without it nothing counts as
        restating the problem."""
        if len(completions) != len(answer) or (prompt is not None and len(prompt) != len(answer)):
            lengths = f"{len(completions)} completions but {len(answer)} answers"
            raise ValueError(lengths + ("" if prompt is None else f" and {len(prompt)} prompts"))
        golds = [_gold_text(a, i) for i, a in enumerate(answer)]  # extract_gold caches repeats
        extracted = [extract_answer(completion_text(c), self.mode) for c in completions]
        extracted = [None if pred is None else tidy(pred) or None for pred in extracted]
        prompts = [""] * len(golds) if prompt is None else [prompt_text(p) for p in prompt]
        refused = [_refusal(p, pred, gold) for gold, pred, p in zip(golds, extracted, prompts)]
        asserted = [_claims(gold, pred, skip) for gold, pred, skip in zip(golds, extracted, refused)]
        refused = [skip or ("" if pairs is not None else MALFORMED) for skip, pairs in zip(refused, asserted)]
        todo: dict[tuple[str, str], None] = {}
        for gold, pred, skip, pairs in zip(golds, extracted, refused, asserted):
            if pred is None or skip:
                continue
            for pair in [(gold, pred), *pairs]:
                if pair not in self._cache:
                    verdict = self._fast_verdict(*pair)
                    if verdict is None:
                        todo[pair] = None
                    else:
                        self._cache[pair] = verdict
        if todo:
            pairs = list(todo)
            outcomes = shared_pool(self.workers, self.timeout).run(pairs)
            for pair, outcome in zip(pairs, outcomes):
                # a hang is cached for its (gold, answer) pair only: the same answer may be quick against
                # another gold (the hanging part of `((...7...)) = 7` is its claim, not the answer 7)
                self._cache[pair] = {True: CORRECT, False: WRONG}.get(outcome, outcome)  # type: ignore[arg-type]
        return [
            self._grade(gold, pred, skip, claimed)
            for gold, pred, skip, claimed in zip(golds, extracted, refused, asserted)
        ]

    def _grade(self, gold: str, pred: str | None, skip: str, claimed: list[tuple[str, str]] | None) -> Grade:
        if pred is None:
            return Grade(NO_ANSWER, None)
        if skip:
            return Grade(WRONG, pred, skip)
        verdict = self._cache[(gold, pred)]
        if verdict == CORRECT:
            false = [f"{a} = {b}" for a, b in claimed or [] if self._cache[(a, b)] != CORRECT]
            if false:
                return Grade(WRONG, pred, f"an equation that does not hold: {false[0]}")
        return Grade(verdict, pred)

    def _fast_verdict(self, gold: str, pred: str) -> str | None:
        """Settle cases without a worker: the same canonical string; two plain integers (most wrong answers
        to GSM8K- and MATH-style problems); an answer whose
        value is astronomically expensive (verdict `timeout`, counted wrong)."""
        if same_text(gold, pred):
            return CORRECT
        if _INTEGER_RE.fullmatch(gold.strip()) and _INTEGER_RE.fullmatch(pred.strip()):
            return CORRECT if int(gold) == int(pred) else WRONG
        if _TOWER_RE.search(pred) or _HUGE_FACTORIAL_RE.search(pred):
            return TIMEOUT
        return None

    def __call__(self, prompts=None, completions=None, answer=None, **kwargs) -> list[float]:
        if answer is None:
            raise KeyError("the math reward needs an `answer` column in the dataset")
        return [g.reward for g in self.grade(completions, answer, prompts)]
