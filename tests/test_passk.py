"""pass@k and its statistics against independent computations (exact fractions, closed forms)."""

from __future__ import annotations

import html
import math
import random
from fractions import Fraction

import numpy as np
import pytest

from rlvr.evaluate.counts import Counts
from rlvr.evaluate.passk import log2_ks, mean_pass_at_k, pass_at_k, pass_at_k_curve, pass_at_k_matrix
from rlvr.evaluate.stats import (
    bootstrap_curve,
    cover_at_tau,
    coverage,
    crossover,
    paired_difference,
    sampling_efficiency_gap,
)


def exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


def test_matches_exact_rational_arithmetic():
    rng = random.Random(1234)
    for _ in range(300):
        n = rng.choice([1, 2, 5, 16, 100, 256, 1000, 2048, rng.randint(1, 2048)])
        c = rng.randint(0, n)
        k = rng.randint(1, n)
        assert pass_at_k(n, c, k) == pytest.approx(float(exact_pass_at_k(n, c, k)), abs=1e-12, rel=1e-9), (
            n,
            c,
            k,
        )


def test_whole_curve_matches_exact_values():
    n, c = 300, 7
    curve = pass_at_k_curve(n, c)
    for k in (1, 2, 10, 50, 293, 294, 300):
        assert curve[k - 1] == pytest.approx(float(exact_pass_at_k(n, c, k)), abs=1e-12)


def test_large_n_has_no_overflow_or_nan():
    for c in (0, 1, 2, 100, 4095, 4096):
        curve = pass_at_k_curve(4096, c)
        assert np.all(np.isfinite(curve))
        assert np.all((curve >= 0) & (curve <= 1))
        assert np.all(np.diff(curve) >= -1e-15)  # non-decreasing in k
    # one correct answer in 4096 at k = 4096 is certain; verl's best@k would not say so
    assert pass_at_k(4096, 1, 4096) == 1.0
    assert pass_at_k(4096, 1, 1) == pytest.approx(1 / 4096)


def test_edge_cases_and_errors():
    assert pass_at_k(10, 0, 10) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 3, 8) == 1.0  # n - c < k: some correct sample is always drawn
    with pytest.raises(ValueError):
        pass_at_k(10, 11, 1)
    with pytest.raises(ValueError):
        pass_at_k(10, 2, 11)


def test_matrix_and_mean_agree_with_scalar_form():
    ns = np.array([8, 8, 8])
    cs = np.array([0, 3, 8])
    matrix = pass_at_k_matrix(ns, cs)
    for i in range(3):
        for k in range(1, 9):
            assert matrix[i, k - 1] == pytest.approx(float(exact_pass_at_k(8, int(cs[i]), k)))
    assert mean_pass_at_k(ns, cs)[0] == pytest.approx((0 + 3 / 8 + 1) / 3)


def test_log2_ks():
    assert log2_ks(128) == [1, 2, 4, 8, 16, 32, 64, 128]
    assert log2_ks(100) == [1, 2, 4, 8, 16, 32, 64, 100]


def _counts(label, correct, n=16):
    return Counts(label, [str(i) for i in range(len(correct))], np.full(len(correct), n), np.array(correct))


def test_bootstrap_interval_brackets_the_mean_and_is_seeded():
    counts = _counts("m", [0, 1, 2, 4, 8, 16, 3, 5, 0, 12])
    a = bootstrap_curve(counts, resamples=500, seed=3)
    b = bootstrap_curve(counts, resamples=500, seed=3)
    assert np.array_equal(a.low, b.low)
    assert np.all(a.low <= a.mean + 1e-12) and np.all(a.mean <= a.high + 1e-12)
    assert a.mean[0] == pytest.approx(np.mean(np.array([0, 1, 2, 4, 8, 16, 3, 5, 0, 12]) / 16))


def test_identical_models_have_zero_paired_difference():
    counts = _counts("a", [1, 5, 9, 0, 16])
    other = _counts("b", [1, 5, 9, 0, 16])
    diff = paired_difference(counts, other, resamples=200)
    assert np.allclose(diff.diff, 0) and np.allclose(diff.low, 0) and np.allclose(diff.high, 0)


def test_crossover_of_a_sharp_model_and_a_broad_one():
    # "rl": half the problems always right, half never. "base": every problem right 1 time in 16.
    rl = _counts("rl", [16] * 10 + [0] * 10)
    base = _counts("base", [1] * 20)
    diff = paired_difference(rl, base, resamples=200)
    cross = crossover(diff)
    # base pass@k = k/16 overtakes rl's constant 0.5 first at k = 9 (k = 8 ties)
    assert cross.leader_at_1 == "rl"
    assert cross.k_star == 9
    gap = sampling_efficiency_gap(rl, base, k=256)
    assert gap["k"] == 16
    assert gap["delta_se"] == pytest.approx(0.5 - 1.0)


def test_coverage_and_cover_at_tau():
    a = _counts("a", [0, 4, 16, 0])
    b = _counts("b", [2, 0, 16, 0])
    cov = coverage([a, b])
    assert cov["both"]["ids"] == ["2"]
    assert cov["only"]["a"]["ids"] == ["1"] and cov["only"]["b"]["ids"] == ["0"]
    assert cov["neither"]["ids"] == ["3"]
    taus, cover = cover_at_tau(a, np.array([0.25, 0.5, 1.0]))
    assert list(cover) == [0.5, 0.25, 0.25]


def test_finding_keeps_the_sign_of_an_interval_that_crosses_zero():
    from rlvr.evaluate.report import compare

    # b leads at pass@1 by a hair (better on one problem, worse on another): the interval reaches below 0
    a = _counts("a", [8, 8, 8, 6, 8])
    b = _counts("b", [8, 8, 8, 8, 7])
    sentence = next(s for s in compare([a, b], resamples=400).findings if "leads at pass@1" in s)
    low, high = (float(x) for x in sentence.split("[")[1].split("]")[0].split(","))
    assert sentence.startswith("b leads at pass@1 by +1.")
    assert low < 0 < high


def test_three_models_pair_each_with_the_base_and_split_coverage_every_way(tmp_path):
    from itertools import product

    from rlvr.evaluate.report import _coverage_rows, compare, write_report

    rng = np.random.default_rng(3)
    correct = {label: rng.choice([0, 0, 1, 5, 16], size=30) for label in ("base", "rl", "distilled")}
    counts = [_counts(label, list(c)) for label, c in correct.items()]
    result = compare(counts, resamples=200)
    assert [(p.diff.a, p.diff.b) for p in result.pairs] == [("rl", "base"), ("distilled", "base")]
    for pair, other in zip(result.pairs, counts[1:]):
        alone = paired_difference(other, counts[0], resamples=200)
        assert np.array_equal(pair.diff.diff, alone.diff) and pair.cross.k_star == crossover(alone).k_star
        assert pair.coverage == coverage([counts[0], other])
    # every problem lands in exactly the set of the models that solve it at least once
    expected = {}
    for i in range(30):
        who = tuple(label for label, c in correct.items() if c[i] > 0)
        expected.setdefault(who, []).append(str(i))
    got = {tuple(s["solved_by"]): s["ids"] for s in result.coverage["sets"]}
    assert got == expected and set(got) <= set(
        tuple(x for x, keep in zip(correct, mask) if keep) for mask in product([0, 1], repeat=3)
    )
    assert sum("leads at pass@1" in s for s in result.findings) == 2
    assert sum(s.startswith("Sampling-efficiency gap") for s in result.findings) == 2
    assert len(_coverage_rows(result)) == 1 + 3 + len(got)  # header, solved per model, one row per set
    page = write_report(result, tmp_path).read_text()
    assert all(html.escape(sentence) in page for sentence in result.findings)
