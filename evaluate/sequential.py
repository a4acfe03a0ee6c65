"""Sequential pass@k: draw a problem's samples in index order until its m-th correct one, exactly unbiased.

A problem's samples are drawn in index order (each has its own seed, so the order is fixed) and stop at the
index T where its m-th correct sample appears, at the floor n_min if that comes later, or at n_max. With c the
correct samples among the first T, (T, c) is a sufficient statistic: every sequence the rule lets one see
with the same (T, c) has probability p^c (1-p)^(T-c). The estimator of pass@k is the chance that the first k
samples all fail, averaged over those sequences (Rao-Blackwell), subtracted from 1:

- stopped by the rule after the floor (c = m, T > n_min): the m-th success sits at T and the other m - 1 are
  spread over the first T - 1 places, so pass@k = 1 - C(T-1-k, m-1) / C(T-1, m-1) for k < T, and 1 for k >= T;
- stopped at the floor (c >= m, T = n_min): every arrangement of c successes in T places is possible, so the
  usual 1 - C(T-c, k) / C(T, k) for k <= T, and 1 beyond (the first T hold a success);
- ran to n_max with c < m: the usual 1 - C(n_max-c, k) / C(n_max, k).

Each is the usual product form with (a, b) = (T-1, m-1), (T, c) or (n_max, c) in place of (n, c), and a factor
0 from j = a on (the samples past a include a success). The tests enumerate every outcome path in exact
fractions to show the expectation is 1 - (1-p)^k for every p and every k <= n_max.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StopRule:
    """Stop a problem's sampling at its m-th correct sample (after at least n_min samples), or at n_max."""

    m: int
    n_max: int
    n_min: int = 0

    def __post_init__(self) -> None:
        if type(self.m) is not int or self.m < 1:
            raise ValueError(f"--stop-at-correct must be a whole number >= 1, not {self.m!r}")
        if type(self.n_max) is not int or self.n_max < 1:
            raise ValueError(f"n_max must be a whole number >= 1, not {self.n_max!r}")
        if type(self.n_min) is not int or not 0 <= self.n_min <= self.n_max:
            raise ValueError(
                f"--min-samples must lie in [0, --n={self.n_max}], not {self.n_min!r}; lower it or raise --n"
            )

    def as_meta(self) -> dict:
        return {"stop_at_correct": self.m, "n_max": self.n_max, "min_samples": self.n_min}

    @classmethod
    def from_meta(cls, meta: dict) -> StopRule | None:
        """The rule a store's meta.json records, or None for a uniform store."""
        m = meta.get("stop_at_correct")
        if m is None:
            return None
        return cls(int(m), int(meta["n"]), int(meta.get("min_samples") or 0))


def graded_by_problem(records) -> dict[str, dict[int, bool]]:
    """problem -> {sample index: correct} over sample records: what stop_point walks."""
    out: dict[str, dict[int, bool]] = {}
    for record in records:
        out.setdefault(str(record["problem"]), {})[int(record["sample"])] = bool(record["correct"])
    return out


def stop_point(flags: dict[int, bool], rule: StopRule) -> tuple[int, int] | None:
    """(T, c) from a problem's graded samples (index -> correct), walked in index order from 0; None while the
    rule has not closed the problem (a gap in the indices stops the walk: later samples cannot count yet)."""
    c = 0
    for index in range(rule.n_max):
        if index not in flags:
            return None
        c += bool(flags[index])
        t = index + 1
        if c >= rule.m and t >= rule.n_min:
            return t, c
    return rule.n_max, c


def fits_rule(t: int, c: int, rule: StopRule) -> bool:
    """Whether a closed problem's (T, c) is one the rule can stop at."""
    if not (0 <= c <= t <= rule.n_max and t >= 1):
        return False
    if t == rule.n_min and c >= rule.m:
        return True  # stopped at the floor
    if t == rule.n_max:
        return c <= rule.m
    return c == rule.m and t > rule.n_min


def estimator_params(t: int, c: int, rule: StopRule | None) -> tuple[int, int]:
    """(a, b) such that pass@k = 1 - prod_{j<k} (a-b-j)/(a-j), with factor 0 for j >= a (see the module)."""
    if rule is None or c < rule.m:
        return t, c  # uniform, or ran to n_max below m
    if t == rule.n_min:
        return t, c  # stopped at the floor: every arrangement of c in t
    return t - 1, rule.m - 1


def rate_estimate(t: int, c: int, rule: StopRule | None) -> float:
    """Unbiased per-problem success rate (pass@1): (m-1)/(T-1) when stopped by the rule, c/T otherwise."""
    a, b = estimator_params(t, c, rule)
    return 1.0 if a == 0 else b / a


def closed_form_matrix(a: np.ndarray, b: np.ndarray, k_max: int) -> np.ndarray:
    """1 - prod_{j<k} (a-b-j)/(a-j) for k = 1..k_max per row, each factor clipped to [0, 1] and 0 for j >= a."""
    a = np.asarray(a, dtype=np.float64)[:, None]
    b = np.asarray(b, dtype=np.float64)[:, None]
    j = np.arange(k_max, dtype=np.float64)[None, :]
    inside = j < a
    with np.errstate(divide="ignore", invalid="ignore"):
        factors = np.where(inside, np.clip((a - b - j) / (a - j), 0.0, 1.0), 0.0)
    return 1.0 - np.cumprod(factors, axis=1)
