"""Sequential pass@k is exactly unbiased: proven by enumerating every outcome path in exact fractions.

For a rule (stop at the m-th correct sample, not before n_min, at most n_max), every sequence of outcomes the
rule can produce is listed; the estimator's expectation, a polynomial in p of degree <= n_max, is computed
exactly at n_max + 2 distinct rational p and compared with 1 - (1-p)^k: equal there, equal for every p.
The code's float curves are then checked against the exact estimator on every path.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from math import comb

import numpy as np
import pytest

from rlvr.evaluate.counts import Counts, read_counts_csv, write_counts_csv
from rlvr.evaluate.sequential import StopRule, fits_rule, rate_estimate, stop_point


def outcome_paths(m: int, n_max: int, n_min: int):
    """Every sequence of outcomes (True: correct) that sampling under the rule can produce."""

    def walk(prefix: tuple[bool, ...]):
        t, c = len(prefix), sum(prefix)
        if (t >= 1 and c >= m and t >= n_min) or t == n_max:
            yield prefix
            return
        yield from walk(prefix + (True,))
        yield from walk(prefix + (False,))

    yield from walk(())


def exact_estimate(t: int, c: int, m: int, n_min: int, k: int) -> Fraction:
    """pass@k from a closed problem's (T, c), written out from the definition with binomials."""
    if c < m or t == n_min:  # ran to n_max below m, or stopped at the floor: every arrangement of c in t
        return Fraction(1) if k > t else 1 - Fraction(comb(t - c, k), comb(t, k))
    if k >= t:  # stopped by the rule at T: the first T hold the m-th success
        return Fraction(1)
    return 1 - Fraction(comb(t - 1 - k, m - 1), comb(t - 1, m - 1))


def naive_estimate(t: int, c: int, k: int) -> Fraction:
    """The uniform estimator applied to the counted samples as if n = T were fixed in advance (biased)."""
    return Fraction(1) if k > t else 1 - Fraction(comb(t - c, k), comb(t, k))


def expectation(paths: Counter, p: Fraction, estimate) -> Fraction:
    return sum(
        (count * p**c * (1 - p) ** (t - c) * estimate(t, c) for (t, c), count in paths.items()), Fraction(0)
    )


RULES = [
    (m, n_max, n_min)
    for n_max in range(1, 8)
    for m in range(1, 4)
    for n_min in sorted({0, 1, 2, n_max // 2, n_max})
    if n_min <= n_max
]


@pytest.mark.parametrize("m,n_max,n_min", RULES)
def test_expectation_is_pass_at_k_for_every_p(m, n_max, n_min):
    paths = Counter((len(s), sum(s)) for s in outcome_paths(m, n_max, n_min))
    ps = [
        Fraction(i, n_max + 3) for i in range(1, n_max + 3)
    ]  # n_max + 2 points pin a degree-n_max polynomial
    for k in range(1, n_max + 1):
        for p in ps:
            got = expectation(paths, p, lambda t, c, k=k: exact_estimate(t, c, m, n_min, k))
            assert got == 1 - (1 - p) ** k, (m, n_max, n_min, k, p)


def test_the_uniform_estimator_on_stopped_samples_is_biased():
    """The enumeration has power: treating T as if fixed in advance misses 1 - (1-p)^k."""
    m, n_max = 2, 6
    paths = Counter((len(s), sum(s)) for s in outcome_paths(m, n_max, 0))
    p = Fraction(1, 3)
    got = expectation(paths, p, lambda t, c: naive_estimate(t, c, 1))
    assert got != p


@pytest.mark.parametrize("m,n_max,n_min", [r for r in RULES if r[1] >= 4])
def test_code_curves_equal_the_exact_estimator_on_every_path(m, n_max, n_min):
    rule = StopRule(m, n_max, n_min)
    closed = sorted({(len(s), sum(s)) for s in outcome_paths(m, n_max, n_min)})
    counts = Counts(
        "x", [f"p{i}" for i in range(len(closed))], [t for t, _ in closed], [c for _, c in closed], rule=rule
    )
    assert counts.k_limit == n_max
    matrix = counts.matrix()
    for row, (t, c) in zip(matrix, closed):
        assert fits_rule(t, c, rule)
        exact = [float(exact_estimate(t, c, m, n_min, k)) for k in range(1, n_max + 1)]
        np.testing.assert_allclose(row, exact, rtol=0, atol=1e-12)
        assert rate_estimate(t, c, rule) == pytest.approx(exact[0], abs=1e-12)


@pytest.mark.parametrize("m,n_max,n_min", [(1, 5, 0), (2, 6, 0), (3, 7, 3), (2, 5, 5)])
def test_stop_point_walks_samples_in_index_order(m, n_max, n_min):
    rule = StopRule(m, n_max, n_min)
    for path in outcome_paths(m, n_max, n_min):
        flags = dict(enumerate(path))
        assert stop_point(flags, rule) == (len(path), sum(path))
        # samples drawn past the stop (the same call) do not change it
        assert stop_point({**flags, len(path): True, len(path) + 1: False}, rule) == (len(path), sum(path))
        if len(path) > 1:  # a gap before the stop leaves the problem open
            assert stop_point({i: v for i, v in flags.items() if i != 0}, rule) is None


def test_large_n_matches_exact_binomials():
    """n_max = 1024, m = 16: the product form against exact integer binomials (no overflow, no drift)."""
    rule = StopRule(16, 1024)
    cases = [(16, 16), (40, 16), (1000, 16), (1024, 16), (1024, 3), (1024, 0)]
    counts = Counts(
        "x", [str(i) for i in range(len(cases))], [t for t, _ in cases], [c for _, c in cases], rule=rule
    )
    matrix = counts.matrix()
    for row, (t, c) in zip(matrix, cases):
        for k in (1, 2, 15, 16, 17, 39, 100, 512, 1023, 1024):
            expected = exact_estimate(t, c, 16, 0, k)
            assert row[k - 1] == pytest.approx(float(expected), abs=1e-12), (t, c, k)


def test_counts_file_round_trips_the_rule(tmp_path):
    rule = StopRule(2, 6, 0)
    counts = Counts("seq", ["a", "b", "c"], [3, 6, 6], [2, 1, 2], rule=rule)
    write_counts_csv(counts, tmp_path / "c.csv")
    back = read_counts_csv(tmp_path / "c.csv")
    assert back.rule == rule
    np.testing.assert_allclose(back.matrix(), counts.matrix())
    (tmp_path / "bad.csv").write_text("problem,n,correct,stop_at_correct,n_max,min_samples\na,3,1,2,6,0\n")
    with pytest.raises(ValueError, match="cannot come from its stop rule"):
        read_counts_csv(tmp_path / "bad.csv")


def test_rule_refuses_a_floor_above_n_max():
    with pytest.raises(ValueError, match="--min-samples"):
        StopRule(4, 16, 32)
