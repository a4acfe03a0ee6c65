"""Which (answer, gold) pairs the store's grader could accept, known without asking it, and which answers it reads
as a value. Shared by the chance floor and answer classes, which ask the grader only about the pairs this leaves.

A pair is skipped only where the grader surely rejects it: two plain numbers (`3`, `03`, `-1/2`, `\\frac12`) far
enough apart for any tolerance of the grader; and, for the math grader, pairs in which no form of the answer
could match a form of the gold in its verifier, which is asked once per distinct form what it reads there
(`2\\sqrt{3}` is the number 3.4641..., never within tolerance of gold 3; `::::` is text that only the same text
matches). `candidates` finds the pairs left through indexes (same text, plain values, numbers' magnitudes, shared
text), so the work grows with the pairs that could be equal, not with answers times golds.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from rlvr.evaluate.answer_values import plain_value, surely_different


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
# (grader timeout, form) -> what the verifier reads there; None: nothing it could match (parsed as nothing, an
# error, or past the grader's time limit, where grading the pair fails the same way)
_READINGS: dict[tuple[float, str], Reading | None] = {}
_MAX_READINGS = 500_000


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
        if len(_READINGS) > _MAX_READINGS:  # a long-lived process (the probe's): start afresh
            _READINGS.clear()
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

    def candidates(self, answers: list[str], golds: list) -> list[tuple[int, int]]:
        """Every (i, j) for which may_accept(answers[i], golds[j]), found through indexes rather than by trying
        all pairs: the same text; two plain numbers within the grader's reach; numbers of similar magnitude;
        shared text; and every pair with a side whose reading is neither (an expression, a set, an infinity)."""
        self.read(answers, golds)
        mine = [self._profile(self._text(a)) for a in answers]
        theirs = [None if t is None else self._profile(t) for t in map(self._gold, golds)]
        found: set[tuple[int, int]] = set()
        live = [j for j, t in enumerate(theirs) if t is not None]
        by_loose, by_string, wide = defaultdict(list), defaultdict(list), []
        for j in live:
            by_loose[theirs[j].text.loose].append(j)
            for text in theirs[j].strings:
                by_string[text].append(j)
            if theirs[j].wide:
                wide.append(j)
        plain = sorted((theirs[j].text.plain, j) for j in live if theirs[j].text.plain is not None)
        sizes = sorted((size, j) for j in live for size in theirs[j].sizes)
        for i, m in enumerate(mine):
            found.update((i, j) for j in by_loose[m.text.loose])
            found.update((i, j) for text in m.strings for j in by_string[text])
            if m.text.plain is not None:
                found.update((i, j) for _, j in _plain_window(plain, m.text.plain))
            if m.wide:
                found.update((i, j) for j in live if theirs[j].readable)
            elif m.readable:
                found.update((i, j) for j in wide)
                found.update((i, j) for size in m.sizes for _, j in _size_window(sizes, size))
        return sorted(pair for pair in found if self.may_accept(answers[pair[0]], golds[pair[1]]))

    def _profile(self, text: _Text) -> _Profile:
        if not self.math:  # everything but plain numbers is compared with everything
            return _Profile(text, frozenset(), (), text.plain is None, True)
        readings = self.readings(text.text) if text.plain is None or self._read_plain(text.text) else []
        sizes = tuple(abs(v) for r in readings for v in r.numbers)
        wide = any(r.formula and not r.numbers for r in readings) or any(s != s or s == _INF for s in sizes)
        strings = frozenset(x for r in readings for x in r.strings)
        readable = any(r.formula for r in readings) or text.plain is not None
        return _Profile(text, strings, sizes, wide, readable)

    def _read_plain(self, text: str) -> bool:
        return all((self.grader.timeout, form) in _READINGS for form in _forms(text))


_INF = float("inf")


class _Profile(NamedTuple):
    """What the indexes of `candidates` need of one text."""

    text: _Text
    strings: frozenset[str]
    sizes: tuple[float, ...]  # magnitudes of the numbers of its formulas
    wide: bool  # a formula without numbers, or an infinite one: compared with every readable text
    readable: bool  # a formula (or a plain number): what a `wide` text is compared with


def _plain_window(values: list[tuple[Fraction, int]], value: Fraction) -> list[tuple[Fraction, int]]:
    """The entries of sorted `values` not surely different from `value` (a window a little wider; checked after)."""
    reach = max(_ABSOLUTE_REACH, abs(value) * _RELATIVE_REACH)
    lo = bisect.bisect_left(values, (value - reach, -1))
    hi = bisect.bisect_right(values, (value + reach, 1 << 62))
    return values[lo:hi]


def _size_window(sizes: list[tuple[float, int]], size: float) -> list[tuple[float, int]]:
    """The entries of sorted `sizes` whose numbers could be within the grader's tolerance of one of magnitude
    `size`: |x - y| <= t max(|x|, |y|) needs |y| in [|x| (1 - t), |x| / (1 - t)] (widened; checked after)."""
    lo = bisect.bisect_left(sizes, (size * (1 - _SIZE_REACH), -1))
    hi = bisect.bisect_right(sizes, (size / (1 - _SIZE_REACH), 1 << 62))
    return sizes[lo:hi]


# Windows wider than any tolerance they stand for (the exact test runs after): surely_different's margins, and
# the grader's relative tolerance with _SLACK, each doubled.
_ABSOLUTE_REACH = Fraction(2, 100_000)
_RELATIVE_REACH = Fraction(2, 10_000) * 2
_SIZE_REACH = 4e-5


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
