"""Answers as the grader reads them: which (answer, gold) pairs it could accept, and whether an answer is a value.

Shared by the chance floor and answer support, which both ask the store's own grader, in batches, about
distinct answers only, and skip only the pairs it surely rejects: two plain numbers (`3`, `03`, `-1/2`,
`\\frac12`) far enough apart for any tolerance of the grader; and, for the math grader, pairs in which no form
of the answer could match a form of the gold in its verifier (which is asked once per distinct form what it
reads there: `2\\sqrt{3}` is the number 3.4641..., never within tolerance of gold 3). So the number of pairs
graded grows with the pairs that could be equal, not with problems times answers.
"""

from __future__ import annotations

import inspect
import re
import sys
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

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


@dataclass(frozen=True)
class Reading:
    """What the math verifier reads in one form of an answer: whether a candidate is a formula, its string
    candidates (the verifier compares those as text), and its plain numbers (which the grader's tolerance compares)."""

    formula: bool
    strings: frozenset[str]
    numbers: tuple[complex, ...]


# The grader's relative tolerance, doubled: two numbers this far apart were computed by the same verifier from
# the same text, so the margin only absorbs rounding in this process's comparison.
_SLACK = 2.0
_READINGS: dict[
    tuple[float, str], Reading | None
] = {}  # (grader timeout, form) -> reading; None: never matches


def _close(a: tuple[complex, ...], b: tuple[complex, ...]) -> bool:
    """The grader's own test (`_math_worker._close`), with _SLACK: nan (an infinity minus itself) is never close."""
    from rlvr.rewards._math_worker import RELATIVE_TOLERANCE

    tolerance = _SLACK * RELATIVE_TOLERANCE
    return any(abs(x - y) <= tolerance * max(abs(x), abs(y)) for x in a for y in b)


def _forms(text: str) -> list[str]:
    """Every form of `text` the math verifier may compare: as written, and the normalised forms it tries second
    (with and without `x =`, a decimal comma read as a point)."""
    from rlvr.rewards.math_normalize import _point_for_comma, normalize_answer

    out = [text.strip()]
    for drop_assignment in (True, False):
        form = normalize_answer(text, drop_assignment)
        out += [form, _point_for_comma(form, "0")]
    return list(dict.fromkeys(form for form in out if form.strip()))


class _Text(NamedTuple):
    text: str
    plain: Fraction | None
    loose: str  # equal for any two texts the grader's `same_text` equates (a key to find them fast)


def _loose(text: str) -> str:
    return "".join(text.split()).strip("$.")


class AnswerReader:
    """Which (answer, gold) pairs the store's grader could accept, known without asking it, and which answers it
    reads as a value. For the math grader the verifier is asked once per distinct form of an answer what it
    reads there (in one batch, cached): a pair is then ruled out only where no form of the answer could match
    any form of the gold in the verifier (parsed as nothing, a formula against text only, or numbers that differ
    beyond the grader's tolerance) and the two are not the same text. Everything else goes to the grader; so do
    all pairs of other graders, but two plain numbers far apart (`surely_different`)."""

    def __init__(self, grader) -> None:
        from rlvr.rewards.math_reward import MathReward

        self.grader = grader
        self.math = isinstance(grader, MathReward)
        self._answers: dict[str, _Text] = {}
        self._golds: dict[str, _Text | None] = {}
        self._readings: dict[str, list[Reading]] = {}

    def read(self, answers=(), golds=()) -> None:
        """Ask the verifier, in one batch, what it reads in every form of `answers` and `golds` not read yet.
        Plain numbers are read only where the other side has a non-plain text (two plain numbers are compared
        by value)."""
        if not self.math:
            return
        answers = list(answers)
        golds = [text for text in map(self.gold_text, golds) if text is not None]
        plain_answers = [plain_value(t) is not None for t in answers]
        plain_golds = [plain_value(t) is not None for t in golds]
        texts = [t for t, plain in zip(answers, plain_answers) if not plain or not all(plain_golds)]
        texts += [t for t, plain in zip(golds, plain_golds) if not plain or not all(plain_answers)]
        self._ask(texts)

    def _ask(self, texts) -> None:
        from rlvr.rewards.math_pool import shared_pool

        timeout = self.grader.timeout
        todo = sorted({form for text in texts for form in _forms(text) if (timeout, form) not in _READINGS})
        results = shared_pool(self.grader.workers, timeout).run([(None, form) for form in todo])
        for form, result in zip(todo, results):
            _READINGS[(timeout, form)] = _reading(result)

    def _text(self, text: str) -> _Text:
        if text not in self._answers:
            self._answers[text] = _Text(text.strip(), plain_value(text), _loose(text))
        return self._answers[text]

    def readings(self, text: str) -> list[Reading]:
        """What the verifier reads in each form of `text` (asked now, alone, if not read yet)."""
        if text not in self._readings:
            self._ask([text])
            found = (_READINGS[(self.grader.timeout, form)] for form in _forms(text))
            self._readings[text] = [r for r in found if r is not None]
        return self._readings[text]

    def readable(self, answer: str) -> bool:
        """Whether the grader can read `answer` as a value: a plain number; for the math grader, a form its
        verifier parses into a formula (`\\infty`, `x=2`, `\\{1,2\\}`; not `::::`); for other graders any
        non-empty answer."""
        if not answer.strip():
            return False
        if not self.math or plain_value(answer) is not None:
            return True
        return any(r.formula for r in self.readings(answer))

    def gold_text(self, gold) -> str | None:
        """The gold as the math grader compares it (None where it refuses the gold), else as given."""
        if not self.math:
            return str(gold)
        from rlvr.rewards.math_reward import _gold_text

        try:
            return _gold_text(gold, 0)
        except ValueError:
            return None

    def _gold(self, gold) -> _Text | None:
        key = str(gold)
        if key not in self._golds:
            text = self.gold_text(gold)
            self._golds[key] = None if text is None else self._text(text)
        return self._golds[key]

    def may_accept(self, answer: str, gold) -> bool:
        """False only where the grader surely rejects `answer` for `gold` (see the class)."""
        theirs = self._gold(gold)
        if theirs is None:
            return False
        mine = self._text(answer)
        if mine.plain is not None and theirs.plain is not None or not self.math:
            return not surely_different(mine.plain, theirs.plain)
        from rlvr.rewards.math_normalize import same_text

        if mine.loose == theirs.loose and same_text(theirs.text, mine.text):
            return True
        golds = self.readings(theirs.text)
        return any(_could_match(a, b) for a in self.readings(mine.text) for b in golds)


def _could_match(a: Reading, b: Reading) -> bool:
    """Whether the verifier could find two forms equal: formulas on both sides or a string in common, and, where
    both hold plain numbers, two within the grader's tolerance (its `_close`)."""
    if not (a.formula and b.formula or a.strings & b.strings):
        return False
    return not (a.numbers and b.numbers) or _close(a.numbers, b.numbers)


def _reading(result) -> Reading | None:
    """A worker's answer as a Reading; None for text that parses to nothing, fails or times out (the verifier
    compares nothing there: its comparison fails or times out the same way)."""
    if not isinstance(result, dict):
        return None
    return Reading(
        bool(result["formula"]),
        frozenset(result["strings"]),
        tuple(complex(re_, im) for re_, im in result["numbers"]),
    )


def readable(grader, answers: list[str]) -> dict[str, bool]:
    """answer -> whether the grader can read it as a value (AnswerReader.readable), read in one batch."""
    reader = AnswerReader(grader)
    reader.read([a for a in answers if a.strip() and plain_value(a) is None])
    return {a: reader.readable(a) for a in answers}


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
