"""The chance floor: the pass@k a model reaches by guessing, for each problem, one of the answers it gave to the
other problems.

For problem i the guesses are drawn with replacement from the model's samples of every other problem j != i
(a sample without an extracted answer is a guess that fails); q_i is the share of that pool the store's own
grader accepts against problem i's gold (with its prompt, as in grading), so `\\frac12`, `1/2` and `0.50`
are one guess for gold 0.5. The floor at k is 1 - (1 - q_i)^k per problem, averaged over problems: exact,
no Monte Carlo. A large-k pass@k that does not clear it is what guessing reaches, not evidence of reasoning.

Cheap by construction: the pool is deduplicated into distinct answers, each (distinct answer, problem) pair is
graded once in one batched `grade()` call, and a pair of two plain numbers whose values differ by more than
any tolerance of the grader is known wrong without asking it (the math grader's verifier requires numbers to
agree to a relative 1e-5). Functions take sample records and problems, so the caller decides which records
count (a sequential store's prefixes, say).
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

import numpy as np

from rlvr.evaluate.answer_values import accepted, plain_value, readable, store_grader, surely_different


def guess_probabilities(grader, records: list[dict], problems: list[dict]) -> dict[str, Fraction]:
    """q_i per problem id (exact): the share of the model's samples of the other problems whose answer the
    grader accepts for problem i. `problems` are stored rows (`id`, `answer`, `prompt`); only problems with
    records count, and only those problems' records form the pool."""
    by_id = {str(p["id"]): p for p in problems}
    total: Counter = Counter()
    own: dict[str, Counter] = {}
    n: Counter = Counter()
    for record in records:
        pid = str(record["problem"])
        if pid not in by_id:
            continue
        answer = record.get("extracted")
        answer = str(answer).strip() if answer is not None and str(answer).strip() else None
        n[pid] += 1
        own.setdefault(pid, Counter())[answer] += 1
        total[answer] += 1
    ids = [pid for pid in by_id if n[pid]]
    distinct = [a for a in total if a is not None]
    values = {a: plain_value(a) for a in distinct}
    golds = {pid: plain_value(by_id[pid]["answer"]) for pid in ids}
    gold_texts = {pid: _squeezed(by_id[pid]["answer"]) for pid in ids}
    is_value = readable(grader, distinct)
    pairs = [
        (a, pid)
        for pid in ids
        for a in distinct
        if total[a] > own[pid][a]
        and (is_value[a] or _squeezed(a) == gold_texts[pid])
        and not surely_different(values[a], golds[pid])
    ]
    verdicts = accepted(grader, [(a, by_id[pid]) for a, pid in pairs])
    hits: Counter = Counter()
    for (a, pid), ok in zip(pairs, verdicts):
        if ok:
            hits[pid] += total[a] - own[pid][a]
    pool = sum(n.values())
    return {pid: Fraction(hits[pid], pool - n[pid]) if pool > n[pid] else Fraction(0) for pid in ids}


def floor_matrix(q: list[float] | np.ndarray, k_max: int) -> np.ndarray:
    """(problems x k_max): 1 - (1 - q_i)^k for k = 1..k_max."""
    miss = 1.0 - np.asarray(q, dtype=np.float64)[:, None]
    return 1.0 - np.power(miss, np.arange(1, k_max + 1)[None, :])


def floor_curve(q: dict[str, Fraction], k_max: int) -> np.ndarray:
    """The chance floor for k = 1..k_max: the mean over problems of 1 - (1 - q_i)^k."""
    return floor_matrix([float(v) for v in q.values()], k_max).mean(axis=0)


def store_guess_probabilities(store, records: list[dict] | None = None) -> dict[str, Fraction] | None:
    """q_i of a sample store under its own grader (meta's `grader`); None when that grader takes no gold
    answer (code) or the store names none."""
    grader = store_grader(store.meta)
    if grader is None:
        return None
    return guess_probabilities(grader, store.records() if records is None else records, store.problems())


def _squeezed(text) -> str:
    return "".join(str(text).split()).strip("$")
