"""Answers as the grader reads them: plain numbers' exact values, the store's grader, and whether the grader
accepts an answer for a gold (asked in one batched call). Which pairs need asking at all: answer_reader.py.
"""

from __future__ import annotations

import inspect
import re
import sys
from fractions import Fraction

_PLAIN_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_RATIO_RE = re.compile(r"([+-]?\d+)\s*/\s*(\d+)")
_FRAC_RE = re.compile(r"([+-]?)\\[dt]?frac\s*(?:\{\s*(\d+)\s*\}|(\d))\s*(?:\{\s*(\d+)\s*\}|(\d))")
# Two plain numbers this far apart are different answers to every grader here (the math verifier asks a
# relative 1e-5 and math-verify rounds to 6 decimal places): both margins must be exceeded to skip a pair.
_RELATIVE_GAP = Fraction(1, 10_000)
_ABSOLUTE_GAP = Fraction(1, 100_000)


def plain_value(text: str | None) -> Fraction | None:
    """The exact value of an answer written as a plain number (`3`, `03`, `3.0`, `-1/2`, `\\frac12`,
    `\\dfrac{1}{2}`, `$0.50$`); None for anything else."""
    if text is None:
        return None
    s = str(text).strip().strip("$").strip()
    try:
        if _PLAIN_RE.fullmatch(s):
            return Fraction(s)
        ratio = _RATIO_RE.fullmatch(s)
        if ratio and int(ratio.group(2)):
            return Fraction(int(ratio.group(1)), int(ratio.group(2)))
        frac = _FRAC_RE.fullmatch(s)
        if frac:
            top, bottom = int(frac.group(2) or frac.group(3)), int(frac.group(4) or frac.group(5))
            if bottom:
                return Fraction(top, bottom) * (-1 if frac.group(1) == "-" else 1)
    except (ValueError, ZeroDivisionError):
        return None
    return None


def decimal_value(text: str | None) -> Fraction | None:
    """The value of an answer written as a plain integer or decimal (`3`, `03`, `-3.0`); None otherwise (a
    fraction `1/2` holds an operation, which the grader may refuse as a quote of the prompt)."""
    s = "" if text is None else str(text).strip().strip("$").strip()
    return Fraction(s) if _PLAIN_RE.fullmatch(s) else None


def surely_different(a: Fraction | None, b: Fraction | None) -> bool:
    """Both plain numbers, and far enough apart that no grader's tolerance joins them."""
    if a is None or b is None:
        return False
    gap = abs(a - b)
    return gap > _ABSOLUTE_GAP and gap > _RELATIVE_GAP * max(abs(a), abs(b))


def takes_answers(grader) -> bool:
    """Graders that compare an answer with a gold `answer` (math). Code is graded by running tests: a program
    is not a value, so neither the chance floor nor answer support by value is defined for it."""
    return hasattr(grader, "grade") and "answer" in inspect.signature(grader.grade).parameters


def store_grader(meta: dict):
    """The grader a store was graded with (meta.json's `grader`) when it compares answers with golds, else None."""
    from rlvr.rewards import get_reward

    name = meta.get("grader")
    if not name:
        return None
    try:
        grader = get_reward(name)
    except KeyError as exc:  # a user's own grader that does not import here: say so, and go on without it
        print(
            f"rlvr: the store's grader cannot be loaded ({exc}); no chance floor, answers told apart as spelled",
            file=sys.stderr,
        )
        return None
    return grader if takes_answers(grader) else None


def _grade_each_if_refused(grader, completions: list[str], columns: dict[str, list]) -> list:
    """One batched grade call; when the grader refuses the batch (an answer used as a gold that it cannot take,
    such as `nan`), each pair alone, a refused one counting as not accepted."""
    try:
        return grader.grade(completions, **columns)
    except ValueError:
        from rlvr.rewards.verdict import WRONG, Grade

        out = []
        for i, completion in enumerate(completions):
            try:
                out += grader.grade([completion], **{k: [v[i]] for k, v in columns.items()})
            except ValueError:
                out.append(Grade(WRONG, extracted=None))
        return out


def accepted(grader, pairs: list[tuple[str, dict]]) -> list[bool]:
    """Whether the grader accepts answer `a` for problem row `p` (its `answer`, and its `prompt` where the
    grader reads prompts), for each (a, p) of `pairs`, in one batched call. The answer is handed over boxed;
    where the grader does not read back exactly that answer, bare; failing that, it is not accepted."""
    if not pairs:
        return []
    with_prompt = "prompt" in inspect.signature(grader.grade).parameters
    result = [False] * len(pairs)
    todo = list(range(len(pairs)))
    for wrap in (lambda a: f"\\boxed{{{a}}}", lambda a: a):
        if not todo:
            break
        columns: dict[str, list] = {"answer": [pairs[i][1]["answer"] for i in todo]}
        if with_prompt:
            columns["prompt"] = [pairs[i][1].get("prompt") or "" for i in todo]
        grades = _grade_each_if_refused(grader, [wrap(pairs[i][0]) for i in todo], columns)
        retry = []
        for i, grade in zip(todo, grades):
            if grade.extracted is not None and grade.extracted.strip() == pairs[i][0].strip():
                result[i] = grade.correct
            else:
                retry.append(i)
        todo = retry
    return result
