"""A sweep's comparison: every run's pass@1 and pass@k over steps (the paper's KL and rollout ablations)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from rlvr.train.probe import probe_history


def collect(runs) -> dict[str, list[dict]]:
    """Run name -> its probe records by step (runs without a probe log are left out)."""
    out = {}
    for run in runs:
        records = probe_history(run.output_dir)
        if records:
            out[run.name] = records
    return out


def write_sweep_report(name: str, runs, out_dir: str | Path) -> Path:
    from rlvr.evaluate.plots import steps_figure

    logs = collect(runs)
    if not logs:
        raise FileNotFoundError(f"no run of sweep {name} has a probe.jsonl yet; enable probe in the recipe")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dataset = next(iter(next(iter(logs.values()))[-1]["metrics"]))
    keys = [k for k in next(iter(logs.values()))[-1]["metrics"][dataset] if k.startswith("pass@")]
    figures = {}
    for key in (keys[0], keys[-1]):
        steps = {run: [r["step"] for r in records] for run, records in logs.items()}
        series = {run: [r["metrics"][dataset][key] for r in records] for run, records in logs.items()}
        figures[key] = steps_figure(steps, series, f"{name}: {dataset} {key} over steps")
    for i, png in enumerate(figures.values()):
        (out / f"sweep_{i}.png").write_bytes(png)
    header = ["run", "last step", *(f"{k} at step 0" for k in (keys[0], keys[-1])), *(f"{k} at last" for k in (keys[0], keys[-1]))]
    rows = []
    for run, records in logs.items():
        first, last = records[0]["metrics"][dataset], records[-1]["metrics"][dataset]
        rows.append([run, str(records[-1]["step"]), *(f"{first[k] * 100:.1f}" for k in (keys[0], keys[-1])),
                     *(f"{last[k] * 100:.1f}" for k in (keys[0], keys[-1]))])
    table = "| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n"
    table += "".join("| " + " | ".join(row) + " |\n" for row in rows)
    (out / "sweep.md").write_text(f"# Sweep {name}\n\n{table}\n" + "".join(f"![{k}](sweep_{i}.png)\n" for i, k in enumerate(figures)))
    cells = lambda row, tag: "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row)  # noqa: E731
    images = "".join(f'<h2>{html.escape(k)} over steps</h2><img src="data:image/png;base64,{base64.b64encode(png).decode()}">'
                     for k, png in figures.items())
    page = (f"<!doctype html><meta charset=utf-8><title>Sweep {html.escape(name)}</title><h1>Sweep {html.escape(name)}</h1>"
            f"<table border=1 cellpadding=4><tr>{cells(header, 'th')}</tr>"
            + "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows) + f"</table>{images}")
    path = out / "sweep.html"
    path.write_text(page)
    return path
