"""Generate calls for sequential sampling: each call filled with the next samples of the problems still open.

A problem closes when the samples graded so far, in index order, reach its stop (sequential.stop_point).
Which samples a call holds depends on how far grading has got, so calls are made one at a time from the
grades that have come back; the samples themselves do not (each has its own seed), nor does any problem's
stop: a rerun, a resume or another machine count the same samples. Samples drawn past a stop (they were
already in flight) stay in the store uncounted.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator

from rlvr.evaluate.plan import Request
from rlvr.evaluate.sequential import StopRule, stop_point


class SequentialPlanner:
    """The open problems and their samples in flight; `calls` yields generate calls, `record` takes grades.

    A call holds at most `per_call` samples, each of a problem still open, in plan order: as many as the
    problem's estimated success rate says it still needs to reach the rule's m-th correct (and the floor),
    less what it has in flight. No call is padded with samples nobody is expected to need: on a CPU every
    row costs its share of the time."""

    def __init__(
        self,
        problem_ids: list[str],
        rule: StopRule,
        graded: dict[str, dict[int, bool]],
        prompts: dict[str, str],
        seed_of: Callable[[str, int], int],
    ) -> None:
        self.rule = rule
        self.order = list(problem_ids)
        self.prompts = prompts
        self.seed_of = seed_of
        self.graded = {pid: dict(graded.get(pid, {})) for pid in self.order}
        self.requested = {pid: set(self.graded[pid]) for pid in self.order}
        self._changed = threading.Condition()

    def record(self, records: list[dict]) -> None:
        """Grades that came back (called from the grading thread)."""
        with self._changed:
            for r in records:
                pid = str(r["problem"])
                if pid in self.graded:
                    self.graded[pid][int(r["sample"])] = bool(r["correct"])
            self._changed.notify_all()

    def is_open(self, pid: str) -> bool:
        return stop_point(self.graded[pid], self.rule) is None

    def open_problems(self) -> list[str]:
        with self._changed:
            return [pid for pid in self.order if self.is_open(pid)]

    def samples_left(self) -> int:
        """An upper bound on the samples still to draw: n_max less what each open problem has requested."""
        with self._changed:
            return sum(self.rule.n_max - len(self.requested[pid]) for pid in self.order if self.is_open(pid))

    def _need(self, pid: str) -> int:
        """Samples this problem still looks likely to need beyond those in flight. Gaps below the highest
        index drawn are always needed: a resumed store can hold samples past one lost to a failure (a dead
        server, a kill), and the stop is walked from index 0, so without them an open problem would already
        count its m correct, ask for nothing more, and never close."""
        grades = self.graded[pid]
        requested = self.requested[pid]
        correct = sum(grades.values())
        rate = (correct + 1) / (len(grades) + 2)  # Laplace: 1/2 before any grade
        in_flight = len(requested) - len(grades)
        to_mth = math.ceil(max(self.rule.m - correct, 0) / rate)
        to_floor = self.rule.n_min - len(requested)
        gaps = max(requested) + 1 - len(requested) if requested else 0
        return max(to_mth - in_flight, to_floor, gaps, 0)

    def next_call(self, per_call: int) -> list[Request] | None:
        """The next call: a list of requests, [] when every open problem waits on grades in flight, None
        when no open problem has a sample left to draw."""
        with self._changed:
            room = {
                pid: self.rule.n_max - len(self.requested[pid]) for pid in self.order if self.is_open(pid)
            }
            room = {pid: left for pid, left in room.items() if left > 0}
            if not room:
                return None
            take: dict[str, int] = {}
            free = per_call
            for pid in room:
                if free == 0:
                    break
                share = min(self._need(pid), room[pid], free)
                if share:
                    take[pid] = share
                    free -= share
            if not take:
                return []
            requests = []
            for pid in self.order:
                if pid not in take:
                    continue
                samples = []
                index = 0
                while len(samples) < take[pid]:
                    if index not in self.requested[pid]:
                        samples.append(index)
                    index += 1
                self.requested[pid].update(samples)
                seeds = tuple(self.seed_of(pid, s) for s in samples)
                requests.append(Request(pid, self.prompts[pid], tuple(samples), seeds))
            return requests

    def calls(self, per_call: int, wait_s: float = 0.0) -> Iterator[list[Request]]:
        """Calls until no open problem has samples left. An empty call means "nothing to draw until grades
        come back": with `wait_s` the iterator first waits that long for them (a backend that asks for the
        next call only once the last one is done); without, a polling backend asks again."""
        while True:
            call = self.next_call(per_call)
            if call is None:
                return
            if not call and wait_s > 0:
                with self._changed:
                    self._changed.wait(wait_s)
                call = self.next_call(per_call)
                if call is None:
                    return
            yield call
