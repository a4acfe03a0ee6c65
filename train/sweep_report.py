"""A sweep's comparison (the paper's KL and rollout ablations): every run's pass@1 and pass@k_max over steps,
the final pass@k curve of every run against the base with intervals, coverage per run, per-family curves when
the task has families, and one finding per run as `rlvr compare` writes them."""

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


def final_comparison(logs: dict[str, list[dict]], runs, dataset: str):
    """compare() of the base (the first run's probe at step 0) and each run's last probe, or None when the
    first run was not probed at step 0 or the probe's sample stores are not there (a run probed elsewhere)."""
    from rlvr.evaluate.report import compare
    from rlvr.evaluate.store import SampleStore

    by_name = {run.name: run for run in runs}
    first = next(iter(logs))
    if logs[first][0]["step"] != 0:
        return None
    stores = {"base": Path(by_name[first].output_dir) / "probe" / dataset / "step-0"}
    for run, records in logs.items():
        stores[run] = Path(by_name[run].output_dir) / "probe" / dataset / f"step-{records[-1]['step']}"
    if not all((path / "meta.json").exists() for path in stores.values()):
        return None
    return compare([SampleStore.open_existing(path).counts(label) for label, path in stores.items()])


def _coverage_rows(result) -> list[list[str]]:
    """Header, then the base and each run: solved at n, and the problems only the base or only the run solves."""
    rows = [
        ["run", "solved at n", "base alone", "run alone"],
        ["base", str(result.coverage["solved"]["base"]["count"]), "", ""],
    ]
    for pair in result.pairs:
        run = pair.diff.a
        rows.append(
            [
                run,
                str(result.coverage["solved"][run]["count"]),
                str(pair.coverage["only"]["base"]["count"]),
                str(pair.coverage["only"][run]["count"]),
            ]
        )
    return rows


def _family_figure(result, family) -> bytes | None:
    """One panel per family with every run's final curve and the base's (all runs share the problems)."""
    from rlvr.evaluate.counts import split_by
    from rlvr.evaluate.plots import panels_passk_figure
    from rlvr.evaluate.stats import bootstrap_curve

    groups = split_by(result.counts, family)
    if len(groups) < 2:
        return None
    panels = {
        f"{name} ({len(subsets[0].problems)} problems)": [bootstrap_curve(c) for c in subsets]
        for name, subsets in sorted(groups.items())
    }
    return panels_passk_figure(panels, "final pass@k by problem family")


def write_sweep_report(name: str, runs, out_dir: str | Path, family=None) -> Path:
    """`family` maps a problem id to its family name, for per-family curves."""
    from rlvr.evaluate.plots import passk_figure, steps_figure
    from rlvr.evaluate.report import html_table, markdown_table

    logs = collect(runs)
    if not logs:
        raise FileNotFoundError(f"no run of sweep {name} has a probe.jsonl yet; enable probe in the recipe")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dataset = next(iter(next(iter(logs.values()))[-1]["metrics"]))
    keys = [k for k in next(iter(logs.values()))[-1]["metrics"][dataset] if k.startswith("pass@")]
    shown = (keys[0], keys[-1])  # pass@1 and pass@k_max
    steps = {run: [r["step"] for r in records] for run, records in logs.items()}
    figures = {}
    for key in shown:
        series = {run: [r["metrics"][dataset][key] for r in records] for run, records in logs.items()}
        figures[key] = steps_figure(steps, series, f"{name}: {dataset} {key} over steps")
    result = final_comparison(logs, runs, dataset)
    findings: list[str] = []
    coverage = None
    if result is not None:
        figures["final pass@k of every run against the base (95% bootstrap CI)"] = passk_figure(
            result.curves, title=f"{name}: final {dataset} pass@k"
        )
        if family is not None and (png := _family_figure(result, family)) is not None:
            figures["final pass@k by problem family"] = png
        findings = result.findings
        coverage = _coverage_rows(result)
    for i, png in enumerate(figures.values()):
        (out / f"sweep_{i}.png").write_bytes(png)
    table = [["run", "last step", *(f"{k} at step 0" for k in shown), *(f"{k} at last" for k in shown)]]
    for run, records in logs.items():
        first, last = records[0]["metrics"][dataset], records[-1]["metrics"][dataset]
        table.append(
            [
                run,
                str(records[-1]["step"]),
                *(f"{first[k] * 100:.1f}" for k in shown),
                *(f"{last[k] * 100:.1f}" for k in shown),
            ]
        )
    findings_md = "".join(f"- {s}\n" for s in findings)
    coverage_md = f"\n## Coverage at n\n\n{markdown_table(coverage)}\n" if coverage else ""
    (out / "sweep.md").write_text(
        f"# Sweep {name}\n\n"
        + (f"## Findings\n\n{findings_md}\n" if findings else "")
        + f"## Probe\n\n{markdown_table(table)}\n{coverage_md}\n"
        + "".join(f"![{k}](sweep_{i}.png)\n" for i, k in enumerate(figures))
    )
    if findings:
        (out / "findings.txt").write_text("\n".join(findings) + "\n")
    titles = {key: f"{key} over steps" for key in shown}
    images = "".join(
        f'<h2>{html.escape(titles.get(k, k))}</h2><img src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        for k, png in figures.items()
    )
    coverage_html = (
        f"<h2>Coverage at n</h2>{html_table(coverage, 'border=1 cellpadding=4')}" if coverage else ""
    )
    findings_html = (
        "<h2>Findings</h2><ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in findings) + "</ul>"
        if findings
        else ""
    )
    page = (
        f"<!doctype html><meta charset=utf-8><title>Sweep {html.escape(name)}</title><h1>Sweep {html.escape(name)}</h1>"
        f"{findings_html}{html_table(table, 'border=1 cellpadding=4')}{coverage_html}{images}"
    )
    path = out / "sweep.html"
    path.write_text(page)
    return path
