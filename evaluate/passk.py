"""Unbiased pass@k (Chen et al., 2021) for every k <= n, in a numerically stable product form.

pass@k = 1 - C(n-c, k) / C(n, k) = 1 - prod_{j=0}^{k-1} (n-c-j) / (n-j)

Each factor lies in [0, 1], so the running product never overflows (n = 4096 and beyond) and underflows
only towards its true limit, 0. The biased 1 - (1 - c/n)^k is never used.
"""

from __future__ import annotations

import numpy as np


def pass_at_k_curve(n: int, c: int, k_max: int | None = None) -> np.ndarray:
    """pass@k for k = 1..k_max (default n) of one problem with c correct out of n samples."""
    if n <= 0:
        raise ValueError(f"pass@k needs n >= 1 samples, got n={n}")
    if not 0 <= c <= n:
        raise ValueError(f"correct count c={c} must lie in [0, n={n}]")
    k_max = n if k_max is None else k_max
    if not 1 <= k_max <= n:
        raise ValueError(f"k must lie in [1, n={n}], got {k_max}")
    j = np.arange(k_max, dtype=np.float64)
    factors = np.clip((n - c - j) / (n - j), 0.0, 1.0)
    return 1.0 - np.cumprod(factors)


def pass_at_k(n: int, c: int, k: int) -> float:
    """pass@k of one problem."""
    return float(pass_at_k_curve(n, c, k)[-1])


def pass_at_k_matrix(ns: np.ndarray, cs: np.ndarray, k_max: int | None = None) -> np.ndarray:
    """Per-problem curves as a (problems x k_max) array; k_max defaults to the smallest n."""
    ns = np.asarray(ns, dtype=np.int64)
    cs = np.asarray(cs, dtype=np.int64)
    if ns.shape != cs.shape or ns.ndim != 1 or len(ns) == 0:
        raise ValueError("n and correct must be non-empty 1-D arrays of the same length")
    k_max = int(ns.min()) if k_max is None else k_max
    if np.any(cs < 0) or np.any(cs > ns):
        raise ValueError("every correct count must lie in [0, n]")
    if k_max > ns.min():
        raise ValueError(f"k_max={k_max} exceeds the smallest n={ns.min()}")
    j = np.arange(k_max, dtype=np.float64)[None, :]
    factors = np.clip((ns[:, None] - cs[:, None] - j) / (ns[:, None] - j), 0.0, 1.0)
    return 1.0 - np.cumprod(factors, axis=1)


def mean_pass_at_k(ns, cs, k_max: int | None = None) -> np.ndarray:
    """Mean over problems of pass@k, k = 1..k_max."""
    return pass_at_k_matrix(ns, cs, k_max).mean(axis=0)


def log2_ks(n: int) -> list[int]:
    """1, 2, 4, ... up to n, with n itself: the ks users read off a curve."""
    ks, k = [], 1
    while k < n:
        ks.append(k)
        k *= 2
    ks.append(n)
    return ks
