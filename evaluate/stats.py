"""Statistics over problems: bootstrap intervals, paired differences, crossover, coverage, ΔSE, Cover@τ."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rlvr.evaluate.counts import Counts


def _resample_weights(problems: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples x problems) multiplicities of a percentile bootstrap over problems."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(problems, np.full(problems, 1.0 / problems), size=resamples).astype(np.float64)


@dataclass
class Curve:
    """Mean pass@k for k = 1..k_max with a percentile bootstrap interval at each k."""

    label: str
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @property
    def ks(self) -> np.ndarray:
        return np.arange(1, len(self.mean) + 1)


def bootstrap_curve(
    counts: Counts, k_max: int | None = None, resamples: int = 1000, seed: int = 0, confidence: float = 0.95
) -> Curve:
    matrix = counts.matrix(k_max)
    weights = _resample_weights(len(matrix), resamples, seed)
    boot = weights @ matrix / len(matrix)
    alpha = (1 - confidence) / 2
    return Curve(
        counts.label,
        matrix.mean(axis=0),
        np.quantile(boot, alpha, axis=0),
        np.quantile(boot, 1 - alpha, axis=0),
    )


@dataclass
class PairedDifference:
    """mean pass@k(a) - pass@k(b) per k with a paired bootstrap interval (same problems resampled)."""

    a: str
    b: str
    diff: np.ndarray
    low: np.ndarray
    high: np.ndarray


def paired_difference(
    a: Counts,
    b: Counts,
    k_max: int | None = None,
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> PairedDifference:
    if a.problems != b.problems:
        raise ValueError("a paired comparison needs both models on the same problems in the same order")
    k_max = k_max or min(a.k_limit, b.k_limit)
    delta = a.matrix(k_max) - b.matrix(k_max)
    weights = _resample_weights(len(delta), resamples, seed)
    boot = weights @ delta / len(delta)
    alpha = (1 - confidence) / 2
    return PairedDifference(
        a.label,
        b.label,
        delta.mean(axis=0),
        np.quantile(boot, alpha, axis=0),
        np.quantile(boot, 1 - alpha, axis=0),
    )


@dataclass
class Crossover:
    """Where curve b overtakes curve a (a leads at k=1). `k_star` is None when the curves never cross."""

    leader_at_1: str
    k_star: int | None
    undecided_ks: list[int] = field(default_factory=list)  # ks where the paired CI contains 0


def crossover(diff: PairedDifference) -> Crossover:
    """The first k where the sign of a - b flips from its sign at k = 1."""
    ks = np.arange(1, len(diff.diff) + 1)
    sign0 = np.sign(diff.diff[0]) or 1.0
    flipped = np.flatnonzero(np.sign(diff.diff) == -sign0)
    k_star = int(ks[flipped[0]]) if len(flipped) else None
    undecided = [int(k) for k, lo, hi in zip(ks, diff.low, diff.high) if lo <= 0 <= hi]
    leader = diff.a if sign0 > 0 else diff.b
    return Crossover(leader, k_star, undecided)


def k_ranges(ks: list[int]) -> list[tuple[int, int]]:
    """[1,2,3,7,8] -> [(1,3),(7,8)]: readable runs of k."""
    runs: list[tuple[int, int]] = []
    for k in ks:
        if runs and k == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], k)
        else:
            runs.append((k, k))
    return runs


def sampling_efficiency_gap(
    rl: Counts, base: Counts, k: int = 256, resamples: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict:
    """ΔSE = pass@1(RL) - pass@k(base) at k = min(k, n), with a paired bootstrap interval."""
    k = int(min(k, base.k_limit))
    rl1 = rl.rate
    basek = base.matrix(k)[:, -1]
    delta = rl1 - basek
    boot = _resample_weights(len(delta), resamples, seed) @ delta / len(delta)
    alpha = (1 - confidence) / 2
    return {
        "k": k,
        "delta_se": float(delta.mean()),
        "ci_low": float(np.quantile(boot, alpha)),
        "ci_high": float(np.quantile(boot, 1 - alpha)),
    }


def coverage(counts: list[Counts]) -> dict:
    """Problems solved at n (at least one correct sample) per label; for two models the four-way split,
    for more every combination of who solves a problem ("sets", each with the labels that solve it)."""
    solved = {c.label: [p for p, k in zip(c.problems, c.correct) if k > 0] for c in counts}
    order = counts[0].problems
    out: dict = {
        "problems": len(order),
        "solved": {label: {"count": len(ids), "ids": ids} for label, ids in solved.items()},
    }

    def entry(ids: set) -> dict:
        listed = [p for p in order if p in ids]
        return {"count": len(listed), "ids": listed}

    if len(counts) == 2:
        a, b = counts
        sa, sb = set(solved[a.label]), set(solved[b.label])
        out["both"] = entry(sa & sb)
        out["only"] = {a.label: entry(sa - sb), b.label: entry(sb - sa)}
        out["neither"] = entry(set(order) - sa - sb)
    elif len(counts) > 2:
        sets = {label: set(ids) for label, ids in solved.items()}
        by_pattern: dict[tuple[str, ...], set] = {}
        for p in order:
            by_pattern.setdefault(tuple(label for label in sets if p in sets[label]), set()).add(p)
        out["sets"] = [
            {"solved_by": list(pattern), **entry(ids)}
            for pattern, ids in sorted(by_pattern.items(), key=lambda kv: (-len(kv[0]), kv[0]))
        ]
    return out


def cover_at_tau(counts: Counts, taus: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Share of problems whose success rate is at least τ, over a grid of τ: the rate is c/n, or under a
    sequential rule its unbiased estimate (m-1)/(N-1) (Counts.rate)."""
    taus = np.linspace(0.05, 1.0, 20) if taus is None else np.asarray(taus)
    acc = counts.rate
    return taus, np.array([(acc >= t).mean() for t in taus])
