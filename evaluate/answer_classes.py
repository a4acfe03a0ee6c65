"""Value classes of a problem's answers under the store's grader, for answer support and answer entropy.

The grader's equivalence need not be transitive: for the math grader the interval `(1,2)` equals the set
`\\{1,2\\}` both ways, `\\{1,2\\}` equals `\\{2,1\\}`, `\\{2,1\\}` equals `(2,1)`, yet `(1,2)` and `(2,1)` differ. So
two answers are *joined* when the grader accepts each as the answer with the other as gold (both ways), and
the classes are what the joins connect (a chain of joins is one class: those four answers are one). The result
does not depend on the order answers arrive in. Nothing is joined without the grader: spellings of one
exact plain value (`3`, `3.0`, `03`) or one text up to spaces are only proposed as joins and each confirmed
with the grader; other pairs are asked unless the grader surely rejects them (answer_reader.py), and a pair
already connected is not asked. A problem's correct answers are one class, the gold's; a wrong answer the
grader equates with one of them both ways (`3 + 4 * 2`, refused as a copy of "Compute 3 + 4 * 2", beside a
correct `11`) is in it too: one value, however it was graded.
"""

from __future__ import annotations

import sys
from collections import Counter

from rlvr.evaluate.answer_reader import AnswerReader
from rlvr.evaluate.answer_values import accepted, plain_value

GOLD_CLASS = "= gold"
# Past this many pairs of distinct wrong answers to compare (about 7 ms each on a CPU core), the rest are left
# apart: classes are then at most as coarse as the grader's, answer entropy at least its value, and one line says so.
MAX_COMPARED_PAIRS = 20_000


def value_classes(grader, records: list[dict]) -> dict[tuple[str, str], str | None]:
    """(problem id, extracted answer) -> the label of its value class under `grader`, or None for an answer
    the grader cannot read as a value, over every record given (of every model, so that classes match across
    models). A correct sample's answer is in GOLD_CLASS; `grader` None groups by canonical form."""
    from rlvr.evaluate.answer_support import canonical_answer

    correct: set[tuple[str, str]] = set()
    wrong: dict[str, Counter] = {}
    for record in records:
        answer = answer_text(record.get("extracted"))
        if answer is None:
            continue
        pid = str(record["problem"])
        if record.get("correct"):
            correct.add((pid, answer))
        else:
            wrong.setdefault(pid, Counter())[answer] += 1
    out: dict[tuple[str, str], str | None] = {key: GOLD_CLASS for key in correct}
    if grader is None:
        for pid, answers in wrong.items():
            for a in answers:
                out.setdefault((pid, a), canonical_answer(a))
        return out
    reader = AnswerReader(grader)
    texts = sorted({a for answers in wrong.values() for a in answers} | {a for _, a in correct})
    reader.read(texts, texts)
    nodes: dict[str, list[str]] = {}
    for pid, a in sorted(correct):  # a correct answer is a value: the gold's
        nodes.setdefault(pid, []).append(a)
    for pid, counts in wrong.items():
        # most frequent first: joins found early spare the pairs they connect
        for a in sorted(counts, key=lambda s: (-counts[s], len(s), s)):
            if (pid, a) in out:
                continue  # correct in another sample (another model's grading): the gold's class
            if reader.readable(a):
                nodes.setdefault(pid, []).append(a)
            else:
                out[(pid, a)] = None
    classes = _Classes()
    for pid, answers in nodes.items():
        for a in answers:
            classes.add((pid, a))
            if (pid, a) in correct:
                classes.join((pid, a), (pid, answers[0]))  # the problem's correct answers come first
    rest = _join_spellings(grader, classes, nodes)
    _join_values(grader, reader, classes, rest)
    for key, label in classes.labels(correct).items():
        out[key] = label
    return out


def answer_text(extracted) -> str | None:
    text = None if extracted is None else str(extracted).strip()
    return text or None


class _Classes:
    """Union-find over (problem, answer); a class's label is its shortest answer (then the first in order)."""

    def __init__(self) -> None:
        self.parent: dict[tuple[str, str], tuple[str, str]] = {}

    def add(self, key: tuple[str, str]) -> None:
        self.parent.setdefault(key, key)

    def find(self, key: tuple[str, str]) -> tuple[str, str]:
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def join(self, a: tuple[str, str], b: tuple[str, str]) -> None:
        self.parent[self.find(a)] = self.find(b)

    def labels(self, gold: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """key -> its class's label: GOLD_CLASS for a class holding a key of `gold`."""
        members: dict[tuple[str, str], list[str]] = {}
        for key in self.parent:
            members.setdefault(self.find(key), []).append(key[1])
        label = {root: min(answers, key=lambda s: (len(s), s)) for root, answers in members.items()}
        label.update({self.find(key): GOLD_CLASS for key in gold if key in self.parent})
        return {key: label[self.find(key)] for key in self.parent}


def both_ways(grader, pairs: list[tuple[str, str]]) -> list[bool]:
    """Whether the grader accepts a with b as gold and b with a as gold, for each (a, b) (no prompt: the question is
    whether two answers are one value, not whether either restates a problem); two batched calls."""
    first = accepted(grader, [(a, {"answer": b}) for a, b in pairs])
    again = [i for i, ok in enumerate(first) if ok]
    second = accepted(grader, [(pairs[i][1], {"answer": pairs[i][0]}) for i in again])
    out = [False] * len(pairs)
    for i, ok in zip(again, second):
        out[i] = ok
    return out


def _join_spellings(grader, classes: _Classes, nodes: dict[str, list[str]]) -> dict[str, list[str]]:
    """Join the spellings of one exact plain value, or of one text up to spaces, with the first of them once the
    grader confirms it both ways; pid -> the answers left to compare (one per joined group, and the unconfirmed)."""
    proposed: list[tuple[str, str, str]] = []
    rest: dict[str, list[str]] = {}
    for pid, answers in nodes.items():
        first: dict[object, str] = {}
        for a in answers:
            value = plain_value(a)
            key = ("value", value) if value is not None else ("text", "".join(a.split()))
            if key in first:
                proposed.append((pid, a, first[key]))
            else:
                first[key] = a
                rest.setdefault(pid, []).append(a)
    for (pid, a, b), ok in zip(proposed, both_ways(grader, [(a, b) for _, a, b in proposed])):
        if ok:
            classes.join((pid, a), (pid, b))
        else:
            rest[pid].append(a)
    return rest


def _join_values(grader, reader: AnswerReader, classes: _Classes, nodes: dict[str, list[str]]) -> None:
    """Ask the grader about every pair of a problem's answers that it could equate both ways and that is not
    connected yet, in rounds (the pairs of each problem's first answer with pairs left, then the next), joining
    those it accepts both ways; at most MAX_COMPARED_PAIRS pairs in all."""
    pending: dict[str, dict[int, list[int]]] = {}
    for pid, answers in nodes.items():
        ways = set(reader.candidates(answers, answers))
        pairs = [(i, j) for i, j in ways if i < j and (j, i) in ways]
        for i, j in sorted(pairs):
            pending.setdefault(pid, {}).setdefault(i, []).append(j)
    asked = dropped = 0
    left = sum(len(js) for by_first in pending.values() for js in by_first.values())
    while pending and asked < MAX_COMPARED_PAIRS:
        batch: list[tuple[str, str, str]] = []
        for pid in list(pending):
            i = min(pending[pid])
            a = nodes[pid][i]
            for j in pending[pid].pop(i):
                b = nodes[pid][j]
                if classes.find((pid, a)) != classes.find((pid, b)):
                    batch.append((pid, a, b))
            if not pending[pid]:
                del pending[pid]
        dropped += max(0, len(batch) - (MAX_COMPARED_PAIRS - asked))
        batch = batch[: MAX_COMPARED_PAIRS - asked]
        asked += len(batch)
        for (pid, a, b), ok in zip(batch, both_ways(grader, [(a, b) for _, a, b in batch])):
            if ok:
                classes.join((pid, a), (pid, b))
    unasked = dropped + sum(
        1
        for pid, by_first in pending.items()
        for i, js in by_first.items()
        for j in js
        if classes.find((pid, nodes[pid][i])) != classes.find((pid, nodes[pid][j]))
    )
    if unasked:
        print(
            f"rlvr: answer classes from {asked:,} of {left:,} pairs of distinct answers (MAX_COMPARED_PAIRS); "
            f"{unasked:,} pairs left apart, so classes may be finer than the grader's and answer entropy higher",
            file=sys.stderr,
        )
