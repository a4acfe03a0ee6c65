"""A grader with a known success rate per problem, for tests of sampling rules on an untrained model.

A sample is correct when a hash of its text is divisible by the problem's `answer` (an integer r), so each
problem's samples are correct independently with probability about 1/r, whatever the model writes: the
tiny test model answers arithmetic at random, which gives too few correct samples to exercise a stop rule.
"""

from __future__ import annotations

import hashlib

from rlvr.rewards.verdict import CORRECT, WRONG, Grade


class RateGrader:
    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale  # the divisor is answer x scale: another grader of the same samples

    def grade(self, completions: list, answer: list) -> list[Grade]:
        out = []
        for text, r in zip(completions, answer):
            value = int.from_bytes(hashlib.sha256(str(text).encode()).digest()[:8], "big")
            divisor = max(1, int(int(r) * self.scale))
            out.append(Grade(CORRECT if value % divisor == 0 else WRONG, extracted=str(value % divisor)))
        return out

    def describe(self) -> dict:
        return {"rule": f"sha256(text) % (answer x {self.scale}) == 0"}

    def __call__(self, prompts, completions, answer, **_) -> list[float]:
        return [g.reward for g in self.grade(completions, answer)]


grader = RateGrader()
easier = RateGrader(0.5)
harder = RateGrader(8.0)
