"""The chance floor: the pass@k a model reaches by guessing, for each problem, one of the answers it gave to the
other problems.

For problem i the guesses are drawn with replacement from the model's samples of every other problem j != i
(a sample without an extracted answer is a guess that fails); q_i is the share of that pool the store's own
grader accepts against problem i's gold (with its prompt, as in grading), so `\\frac12`, `1/2` and `0.50`
are one guess for gold 0.5. The floor at k is 1 - (1 - q_i)^k per problem, averaged over problems: exact,
no Monte Carlo. A large-k pass@k that does not clear it is what guessing reaches, not evidence of reasoning.

Cheap by construction: the pool is deduplicated into distinct answers (plain decimals into distinct values),
each (distinct answer, problem) pair is graded once in one batched `grade()` call, and a pair the grader surely
rejects is never asked (answer_reader.py: two plain numbers far apart, and for the math grader an
answer whose every form differs from the gold's in its verifier's reading, such as `2\\sqrt{3}` for gold 3
or garbage `::::` for any gold it is not spelled as). Functions take sample records and problems, so the
caller decides which records count (a sequential store's prefixes, say).
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from rlvr.evaluate.answer_reader import AnswerReader
from rlvr.evaluate.answer_values import accepted, decimal_value, store_grader

# Past this many (distinct answer, problem) pairs to grade (about 7 ms each on a CPU core), the floor is
# computed from the most frequent answers' pairs and said to be a lower bound: results.json must not wait hours.
MAX_GRADED_PAIRS = 20_000


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
    # a plain decimal's verdict depends on its value alone (`3`, `03`, `3.0`): one spelling per value is asked
    members: dict[str, list[str]] = {}
    by_value: dict[Fraction, str] = {}
    for a in (a for a in total if a is not None):
        value = decimal_value(a)
        members.setdefault(a if value is None else by_value.setdefault(value, a), []).append(a)
    weight = {a: sum(total[m] for m in members[a]) for a in members}
    pairs = _pairs_to_grade(grader, members, weight, total, own, [by_id[pid]["answer"] for pid in ids], ids)
    # the most frequent answers' pairs come first; past the budget, the rest are taken as misses
    if len(pairs) > MAX_GRADED_PAIRS:
        pairs = pairs[:MAX_GRADED_PAIRS]
        share = sum(weight[a] for a in {a for a, _ in pairs}) / max(1, sum(total.values()))
        print(
            f"rlvr: chance floor from the {MAX_GRADED_PAIRS:,} (answer, problem) pairs of the most frequent answers "
            f"({share:.0%} of the answers), more pairs left ungraded: a lower bound; the grader takes about 7 ms a pair",
            file=sys.stderr,
        )
    verdicts = accepted(grader, [(a, by_id[pid]) for a, pid in pairs])
    hits: Counter = Counter()
    for (a, pid), ok in zip(pairs, verdicts):
        if ok:
            hits[pid] += sum(total[m] - own[pid][m] for m in members[a])
    pool = sum(n.values())
    return {pid: Fraction(hits[pid], pool - n[pid]) if pool > n[pid] else Fraction(0) for pid in ids}


def _pairs_to_grade(grader, members, weight, total, own, golds, ids) -> list[tuple[str, str]]:
    """(answer, problem id) pairs that the grader could accept and that a guess from another problem reaches,
    the most frequent answers' first; read in chunks of answers, stopping past MAX_GRADED_PAIRS, so that many
    distinct expressions across many problems never hold all their pairs in memory."""
    reader = AnswerReader(grader)
    answers = sorted(members, key=lambda a: -weight[a])
    pairs: list[tuple[str, str]] = []
    for start in range(0, len(answers), _CHUNK):
        chunk = answers[start : start + _CHUNK]
        pairs += [
            (chunk[i], ids[j])
            for i, j in reader.candidates(chunk, golds)
            if sum(total[m] - own[ids[j]][m] for m in members[chunk[i]])  # guessed from another problem
        ]
        if len(pairs) > MAX_GRADED_PAIRS:
            break
    return pairs


_CHUNK = 2_000


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
    # under a sequential rule, the answers it counts (samples drawn past a stop are left out)
    return guess_probabilities(grader, store.counted_records(records), store.problems())


@dataclass
class FloorCheck:
    """A model's chance floor beside its pass@k: `floor` (k = 1..k_max), and pass@k - floor with a paired 95%
    bootstrap interval over problems (the same problems resampled for both)."""

    label: str
    floor: np.ndarray
    margin: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def clears(self, k: int) -> bool:
        """The rule `compare` reports by: pass@k clears the floor when the interval's low end is above 0."""
        return bool(self.low[k - 1] > 0)


def floor_check(
    counts, q: dict[str, Fraction], k_max: int, resamples: int = 1000, seed: int = 0
) -> FloorCheck:
    """pass@k - floor per k for a Counts (problems in its order; a problem without q has floor 0)."""
    from rlvr.evaluate.stats import _resample_weights

    floors = floor_matrix([float(q.get(p, 0)) for p in counts.problems], k_max)
    delta = counts.matrix(k_max) - floors  # the rule's estimator for a sequential store
    boot = _resample_weights(len(delta), resamples, seed) @ delta / len(delta)
    return FloorCheck(
        counts.label,
        floors.mean(axis=0),
        delta.mean(axis=0),
        np.quantile(boot, 0.025, axis=0),
        np.quantile(boot, 0.975, axis=0),
    )


def floor_finding(check: FloorCheck) -> str:
    """One sentence: whether the model's pass@k at its largest k clears its chance floor."""
    k = len(check.floor)
    numbers = (
        f"pass@{k} − floor = {check.margin[-1] * 100:+.1f} points [{check.low[-1] * 100:+.1f}, "
        f"{check.high[-1] * 100:+.1f}] (floor {check.floor[-1] * 100:.1f}%)"
    )
    if check.clears(k):
        return f"{check.label} clears its chance floor at k = {k}: {numbers}."
    cleared = [j for j in range(1, k + 1) if check.clears(j)]
    tail = f" (the interval last clears it at k = {cleared[-1]})" if cleared else ""
    return (
        f"{check.label} does not clear its chance floor at k = {k}: {numbers}, so its large-k pass@k is no more "
        f"than guessing from its own answers to other problems reaches{tail}."
    )
