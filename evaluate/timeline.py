"""The probe's per-problem timeline: for each held-out problem, at which training step it was first and
last solved (at least one correct sample of n), and whether training kept, lost or gained it.

Read from the probe's own sample stores (RUN_DIR/probe/<dataset>/step-N), so it needs no new sampling:
timeline.csv, timeline.md and timeline.png in the run directory (one set per probe dataset), and a W&B table.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

_STEP_RE = re.compile(r"^step-(\d+)$")


def step_counts(probe_dir: str | Path) -> dict[int, dict[str, tuple[int, int]]]:
    """step -> problem -> (n, correct) for each complete step store (with results.json) under `probe_dir`."""
    from rlvr.evaluate.store import SampleStore

    out = {}
    for path in Path(probe_dir).iterdir():
        match = _STEP_RE.match(path.name)
        if match and (path / "results.json").exists():
            c = SampleStore.open_existing(path).counts()
            out[int(match.group(1))] = {p: (int(n), int(k)) for p, n, k in zip(c.problems, c.n, c.correct)}
    return dict(sorted(out.items()))


def status(solved: list[bool]) -> str:
    """kept (solved first and last), lost (first, not last), gained (last, not first), never, or
    regained / dropped for a problem that left and came back (or came and left) in between."""
    if not any(solved):
        return "never"
    first, last = solved[0], solved[-1]
    if first and last:
        return "kept" if all(solved) else "regained"
    if first:
        return "lost"
    if last:
        return "gained"
    return "dropped"


def timeline(counts: dict[int, dict[str, tuple[int, int]]]) -> list[dict]:
    """One row per problem: solved per step, first and last solved step (None if never), status; sorted by
    last solved step (never first), then first solved step, then problem."""
    steps = list(counts)
    problems = sorted({p for by in counts.values() for p in by})
    rows = []
    for p in problems:
        cells = [counts[s].get(p, (0, 0)) for s in steps]
        solved = [c > 0 for _, c in cells]
        hits = [s for s, ok in zip(steps, solved) if ok]
        rows.append(
            {
                "problem": p,
                "steps": steps,
                "correct": [c for _, c in cells],
                "n": [n for n, _ in cells],
                "first_solved": hits[0] if hits else None,
                "last_solved": hits[-1] if hits else None,
                "status": status(solved),
            }
        )
    rows.sort(
        key=lambda r: (
            -1 if r["last_solved"] is None else r["last_solved"],
            -1 if r["first_solved"] is None else r["first_solved"],
            r["problem"],
        )
    )
    return rows


def table_rows(rows: list[dict]) -> list[list[str]]:
    """Header and one row per problem: first/last solved step, status and c/n at each step."""
    if not rows:
        return [["problem"]]
    header = ["problem", "first solved", "last solved", "status"] + [f"step {s}" for s in rows[0]["steps"]]

    def step(value) -> str:
        return "–" if value is None else str(value)

    return [header] + [
        [r["problem"], step(r["first_solved"]), step(r["last_solved"]), r["status"]]
        + [f"{c}/{n}" for c, n in zip(r["correct"], r["n"])]
        for r in rows
    ]


def status_counts(rows: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r["status"]] = out.get(r["status"], 0) + 1
    return out


def timeline_findings(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    steps = rows[0]["steps"]
    counts = status_counts(rows)
    parts = ", ".join(f"{name} {counts[name]}" for name in sorted(counts))
    lost = [r for r in rows if r["status"] == "lost"]
    gained = [r for r in rows if r["status"] == "gained"]
    sentence = f"Probe timeline over steps {steps[0]}–{steps[-1]} ({len(rows)} problems): {parts}."
    if lost:
        sentence += (
            " Lost after step: " + ", ".join(f"{r['problem']} ({r['last_solved']})" for r in lost) + "."
        )
    if gained:
        sentence += (
            " Gained from step: " + ", ".join(f"{r['problem']} ({r['first_solved']})" for r in gained) + "."
        )
    return [sentence]


def timeline_figure(rows: list[dict], title: str = "per-problem timeline") -> bytes:
    """Problems (rows, in the table's order) by probe step: the share of samples correct, 0 drawn white; a
    dot at each problem's last solved step."""
    import numpy as np

    from rlvr.evaluate.plots import heatmap_figure

    steps = rows[0]["steps"] if rows else []
    values = np.array([[c / n if n else 0.0 for c, n in zip(r["correct"], r["n"])] for r in rows]).reshape(
        len(rows), len(steps)
    )
    marks = [
        (r["steps"].index(r["last_solved"]), i) for i, r in enumerate(rows) if r["last_solved"] is not None
    ]
    return heatmap_figure(values, [str(s) for s in steps], [r["problem"] for r in rows], marks, title)


def write_timeline(run_dir: str | Path, log_wandb: bool = False) -> list[Path]:
    """RUN_DIR/timeline.{csv,md,png} (timeline-<dataset>.* with several probe datasets)."""
    from rlvr.evaluate.report import markdown_table

    run_dir = Path(run_dir)
    probe = run_dir / "probe"
    names = sorted(p.name for p in probe.iterdir() if p.is_dir()) if probe.is_dir() else []
    written = []
    for name in names:
        rows = timeline(step_counts(probe / name))
        if not rows:
            continue
        stem = "timeline" if len(names) == 1 else f"timeline-{name}"
        table = table_rows(rows)
        with (run_dir / f"{stem}.csv").open("w", newline="") as f:
            csv.writer(f).writerows(table)
        md = "\n\n".join([f"# Probe timeline: {name}", *timeline_findings(rows), markdown_table(table)])
        (run_dir / f"{stem}.md").write_text(md + "\n")
        (run_dir / f"{stem}.png").write_bytes(timeline_figure(rows, f"per-problem timeline: {name}"))
        written += [run_dir / f"{stem}.{ext}" for ext in ("csv", "md", "png")]
        if log_wandb:
            log_timeline_table(rows, name)
    return written


def log_timeline_table(rows: list[dict], name: str, run=None) -> bool:
    """The timeline as a W&B table `probe/<name>/timeline` in `run` (default: the active run); False
    when there is none."""
    try:
        import wandb
    except ImportError:
        return False
    run = run or wandb.run
    if run is None:
        return False
    table = table_rows(rows)
    run.log({f"probe/{name}/timeline": wandb.Table(columns=table[0], data=table[1:])})
    return True
