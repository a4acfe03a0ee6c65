"""Tracking: W&B (offline unless WANDB_API_KEY is set) and local JSONL, so no run needs an account."""

from __future__ import annotations

import json
import os
from pathlib import Path


def wandb_mode() -> str:
    """'online' only when a key is set and the user did not ask otherwise."""
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    return "online" if os.environ.get("WANDB_API_KEY") else "offline"


def init_wandb(
    project: str,
    out_dir: Path,
    name: str | None = None,
    group: str | None = None,
    config: dict | None = None,
    run_id: str | None = None,
    tags: list[str] | None = None,
):
    import wandb

    out_dir.mkdir(parents=True, exist_ok=True)
    return wandb.init(
        project=project,
        name=name,
        group=group,
        config=config or {},
        dir=str(out_dir),
        tags=tags,
        mode=wandb_mode(),
        id=run_id,
        resume="allow" if run_id else None,
        reinit="finish_previous",
    )


def append_jsonl(path: Path, record: dict) -> None:
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def log_comparison(result, project: str, out_dir: Path) -> str:
    """The comparison's pass@k curves as a table and line plot, coverage and findings as summary."""
    import wandb

    run = init_wandb(project, out_dir, name="compare", config={"labels": [c.label for c in result.counts]})
    rows = [
        [curve.label, int(k), float(m), float(lo), float(hi)]
        for curve in result.curves
        for k, m, lo, hi in zip(curve.ks, curve.mean, curve.low, curve.high)
    ]
    table = wandb.Table(columns=["label", "k", "pass_at_k", "ci_low", "ci_high"], data=rows)
    run.log(
        {
            "passk": table,
            "passk_curves": wandb.plot.line_series(
                xs=[int(k) for k in result.curves[0].ks],
                ys=[list(map(float, c.mean)) for c in result.curves],
                keys=[c.label for c in result.curves],
                title="pass@k",
                xname="k",
            ),
        }
    )
    for label, solved in result.coverage["solved"].items():
        run.summary[f"coverage/{label}"] = solved["count"]
    run.summary["findings"] = "\n".join(result.findings)
    run_dir = run.dir
    run.finish()
    return run_dir
