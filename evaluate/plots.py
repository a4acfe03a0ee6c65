"""Figures for reports, as PNG bytes (matplotlib, headless)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rlvr.evaluate.stats import Curve  # noqa: E402


def _finish(
    fig, ax, xlabel: str, ylabel: str, title: str, grid: bool = True, legend_below: bool = False
) -> bytes:
    """Labels, grid and legend every figure shares, then the PNG bytes."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if grid:
        ax.grid(alpha=0.3)
    legend(ax, below=legend_below)
    return _png(fig)


def legend(ax, entries_inside: int = 3, below: bool = False) -> None:
    """Up to `entries_inside` entries inside the axes where they cover the least; more go outside, on the right
    (or `below`, where a second y axis takes the right), where they cover no curve."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    if below:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=min(len(handles), 4), frameon=False)
    elif len(handles) <= entries_inside:
        ax.legend()
    else:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, frameon=False)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def passk_figure(
    curves: list[Curve], k_star: int | None = None, title: str = "pass@k", floors: dict | None = None
) -> bytes:
    """The curves with their intervals; `floors` (label -> chance floor per k) as a dashed line per model."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for curve in curves:
        (line,) = ax.plot(curve.ks, curve.mean * 100, label=curve.label, linewidth=1.8)
        ax.fill_between(
            curve.ks, curve.low * 100, curve.high * 100, color=line.get_color(), alpha=0.2, linewidth=0
        )
        floor = (floors or {}).get(curve.label)
        if floor is not None:
            ax.plot(
                curve.ks,
                np.asarray(floor)[: len(curve.ks)] * 100,
                color=line.get_color(),
                linestyle="--",
                linewidth=1.1,
                label=f"{curve.label} chance floor",
            )
    if k_star is not None:
        ax.axvline(k_star, color="grey", linestyle="--", linewidth=1)
        ax.annotate(
            f"crossover k={k_star}",
            (k_star, ax.get_ylim()[0]),
            xytext=(4, 6),
            textcoords="offset points",
            color="grey",
        )
    ax.set_xscale("log", base=2)
    return _finish(fig, ax, "k (samples)", "pass@k (%)", title)


def panels_passk_figure(panels: dict[str, list[Curve]], title: str) -> bytes:
    """One pass@k panel per group (problem family), the same colour for a model in every panel."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.0), sharey=True, squeeze=False)
    for ax, (name, curves) in zip(axes[0], panels.items()):
        for i, curve in enumerate(curves):
            ax.plot(curve.ks, curve.mean * 100, color=f"C{i}", linewidth=1.6, label=curve.label)
            ax.fill_between(
                curve.ks, curve.low * 100, curve.high * 100, color=f"C{i}", alpha=0.12, linewidth=0
            )
        ax.set_xscale("log", base=2)
        ax.set_title(name)
        ax.set_xlabel("k (samples)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("pass@k (%)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    # below the panels, where it covers no curve
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(labels), 4))
    fig.suptitle(title, y=1.03)  # above the panels' own titles
    return _png(fig)


def seeds_passk_figure(curves: dict[str, tuple[list[float], list[float]]]) -> bytes:
    """pass@k of base (dashed) and RL (solid) per run, one colour per run (the demo across seeds)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (label, (base, rl)) in enumerate(curves.items()):
        ks = np.arange(1, len(base) + 1)
        ax.plot(ks, np.asarray(base) * 100, color=f"C{i}", linestyle="--", linewidth=1.2)
        ax.plot(ks, np.asarray(rl) * 100, color=f"C{i}", linewidth=1.6, label=label)
    ax.set_xscale("log", base=2)
    return _finish(fig, ax, "k (samples)", "pass@k (%)", "pass@k per seed: RL solid, base dashed")


def seeds_probe_figure(
    runs: dict[str, tuple[list[int], list[float], list[float]]], k: int, title: str | None = None
) -> bytes:
    """The probe's pass@1 (solid) and pass@k (dashed) over training steps, one colour per run."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (label, (steps, first, last)) in enumerate(runs.items()):
        ax.plot(steps, np.asarray(first) * 100, color=f"C{i}", marker="o", markersize=3, label=label)
        ax.plot(steps, np.asarray(last) * 100, color=f"C{i}", linestyle="--", marker="s", markersize=3)
    title = title or f"held-out pass@1 (solid) and pass@{k} (dashed) per seed"
    return _finish(fig, ax, "GRPO step", "pass@k (%)", title)


def cover_figure(series: dict[str, tuple[np.ndarray, np.ndarray]]) -> bytes:
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, (taus, cover) in series.items():
        ax.plot(taus, cover * 100, marker="o", markersize=3, label=label)
    return _finish(fig, ax, "τ (per-problem success rate)", "Cover@τ (% of problems)", "Cover@τ")


def histogram_figure(values: dict[str, np.ndarray], xlabel: str, title: str, bins: int = 20) -> bytes:
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    finite = [v[np.isfinite(v)] for v in values.values()]
    edges = np.histogram_bin_edges(np.concatenate(finite) if finite else np.zeros(1), bins=bins)
    for label, v in zip(values, finite):
        ax.hist(v, bins=edges, alpha=0.5, label=label)
    return _finish(fig, ax, xlabel, "problems" if "accuracy" in xlabel else "responses", title, grid=False)


def steps_figure(
    steps: list[int] | dict[str, list[int]],
    series: dict[str, list[float]],
    title: str,
    entropy: tuple[list[int], list[float]] | None = None,
) -> bytes:
    """pass@k over training steps (the boundary probe); `steps` per series when runs differ (sweeps);
    `entropy` (steps, mean token entropy) on a second axis."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, values in series.items():
        xs = steps[label] if isinstance(steps, dict) else steps
        ax.plot(xs, np.asarray(values) * 100, marker="o", label=label)
    if entropy and entropy[0]:
        twin = ax.twinx()
        twin.plot(*entropy, color="grey", linestyle=":", marker="^", label="token entropy")
        twin.set_ylabel("mean token entropy (nats)")
        handles, labels = twin.get_legend_handles_labels()
        ax.plot([], [], color="grey", linestyle=":", marker="^", label=labels[0])
    return _finish(fig, ax, "training step", "pass@k (%)", title, legend_below=bool(entropy and entropy[0]))


def heatmap_figure(
    values: np.ndarray,
    columns: list[str],
    rows: list[str],
    marks: list[tuple[int, int]],
    title: str,
) -> bytes:
    """A rows × columns grid of shares in [0, 1] (0 white), a dot at each (column, row) of `marks`."""
    height = min(max(2.5, 0.2 * len(rows) + 1.2), 16)
    fig, ax = plt.subplots(figsize=(max(4.5, 0.6 * len(columns) + 3.0), height))
    cmap = plt.get_cmap("viridis").with_extremes(under="white")
    image = ax.imshow(values, aspect="auto", cmap=cmap, vmin=1e-9, vmax=1.0, interpolation="nearest")
    if marks:
        ax.scatter(*zip(*marks), color="red", s=10, label="last solved")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False, borderaxespad=0.2)
    ax.set_xticks(range(len(columns)), columns)
    ax.set_yticks(range(len(rows)), rows, fontsize=8 if len(rows) > 40 else 9)
    ax.set_xlabel("probe step")
    ax.set_ylabel("problem (by last solved step)")
    ax.set_title(title, pad=24 if marks else 6)  # room for the legend above the grid, off the cells
    fig.colorbar(image, ax=ax, label="share of samples correct")
    return _png(fig)


def box_figure(groups: dict[str, np.ndarray], ylabel: str, title: str) -> bytes:
    """One box per group (median, quartiles, 1.5 IQR whiskers; outliers drawn), groups in the given order;
    a name's " · " parts go on separate lines under its box."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    values = [np.asarray(v)[np.isfinite(v)] for v in groups.values()]
    labels = [name.replace(" · ", "\n") + f"\n({len(v)})" for name, v in zip(groups, values)]
    if values:
        ax.boxplot(values, tick_labels=labels, showfliers=True)
    else:  # e.g. no model answered anything right
        ax.text(0.5, 0.5, "nothing to show", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="y")
    plt.setp(ax.get_xticklabels(), fontsize=9)
    return _png(fig)
