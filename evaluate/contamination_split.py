"""`rlvr compare --contamination FILE`: the comparison split into problems the model has likely seen (by the
prefix-completion probe, `rlvr contamination`) and the rest, so a gain can be read where recall cannot explain it."""

from __future__ import annotations

import json
from pathlib import Path

SEEN, UNSEEN, NOT_PROBED = "likely seen", "unseen", "not probed"


def seen_ids(path: str | Path, threshold: float | None = None) -> tuple[set[str], set[str], float]:
    """(likely seen ids, every probed id, threshold): ROUGE-L at or above `threshold` (default the file's)."""
    path = Path(path)
    if path.is_dir():
        path = path / "contamination.json"
    if not path.exists():
        raise FileNotFoundError(f"--contamination {path} does not exist; write it with `rlvr contamination`")
    data = json.loads(path.read_text())
    if "per_problem" not in data:
        raise ValueError(f"--contamination {path} is not a file `rlvr contamination` wrote (no per_problem)")
    threshold = data["threshold"] if threshold is None else threshold
    scores = {str(pid): r["rouge_l"] for pid, r in data["per_problem"].items()}
    return {pid for pid, value in scores.items() if value >= threshold}, set(scores), threshold


def contamination_split(result, path: str | Path, threshold: float | None = None):
    """(figure PNG, report section (title, sentences, table)) of the comparison's models on likely seen and
    unseen problems: pass@1 and pass@k_max per group and model."""
    from rlvr.evaluate.counts import split_by
    from rlvr.evaluate.passk import mean_pass_at_k
    from rlvr.evaluate.plots import panels_passk_figure
    from rlvr.evaluate.stats import bootstrap_curve

    seen, probed, threshold = seen_ids(path, threshold)
    groups = split_by(
        result.counts, lambda pid: SEEN if pid in seen else UNSEEN if pid in probed else NOT_PROBED
    )
    order = [name for name in (SEEN, UNSEEN, NOT_PROBED) if name in groups]
    k = result.k_max
    labels = [c.label for c in result.counts]
    table = [
        [
            "problems",
            "count",
            *(f"{label} pass@1" for label in labels),
            *(f"{label} pass@{k}" for label in labels),
        ]
    ]
    numbers: dict[str, dict[str, tuple[float, float]]] = {}
    for name in order:
        subsets = groups[name]
        curves = {c.label: mean_pass_at_k(c.n, c.correct, k) for c in subsets}
        numbers[name] = {label: (float(curve[0]), float(curve[k - 1])) for label, curve in curves.items()}
        table.append(
            [
                name,
                str(len(subsets[0].problems)),
                *(f"{numbers[name][label][0] * 100:.1f}" for label in labels),
                *(f"{numbers[name][label][1] * 100:.1f}" for label in labels),
            ]
        )
    sentences = [
        f"By the prefix-completion probe (ROUGE-L >= {threshold:g}): "
        + ", ".join(f"{len(groups[name][0].problems)} {name}" for name in order)
        + f" of {len(result.counts[0].problems)} problems."
    ]
    base = labels[0]
    for label in labels[1:]:
        parts = [
            f"{(numbers[name][label][0] - numbers[name][base][0]) * 100:+.1f} points on {name}"
            for name in (SEEN, UNSEEN)
            if name in numbers
        ]
        if parts:
            sentences.append(f"{label} − {base} at pass@1: " + ", ".join(parts) + ".")
    panels = {
        f"{name} ({len(groups[name][0].problems)} problems)": [bootstrap_curve(c, k) for c in groups[name]]
        for name in order
    }
    figure = panels_passk_figure(panels, "pass@k on likely seen and unseen problems")
    return figure, ("Contamination: likely seen and unseen problems", sentences, table)
