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
    probe's sample stores are not there (a run probed elsewhere)."""
    from rlvr.evaluate.report import compare
    from rlvr.evaluate.store import SampleStore

    by_name = {run.name: run for run in runs}
    first = next(iter(logs))
    stores = {"base": Path(by_name[first].output_dir) / "probe" / dataset / f"step-{logs[first][0]['step']}"}
    if logs[first][0]["step"] != 0:
        return None
    for run, records in logs.items():
        stores[run] = Path(by_name[run].output_dir) / "probe" / dataset / f"step-{records[-1]['step']}"
    if not all((path / "meta.json").exists() for path in stores.values()):
        return None
    return compare([SampleStore.open_existing(path).counts(label) for label, path in stores.items()])


def _coverage_table(result) -> tuple[list[str], list[list[str]]]:
    header = ["run", "solved at n", "base alone", "run alone"]
    rows = [["base", str(result.coverage["solved"]["base"]["count"]), "", ""]]
    for pair in result.pairs:
        run = pair.diff.a
        rows.append([run, str(result.coverage["solved"][run]["count"]), str(pair.coverage["only"]["base"]["count"]),
                     str(pair.coverage["only"][run]["count"])])
    return header, rows


def _family_figure(result, family) -> bytes | None:
    """One panel per family with every run's final curve and the base's (all runs share the problems)."""
    from rlvr.evaluate.plots import panels_passk_figure
    from rlvr.evaluate.stats import bootstrap_curve

    groups: dict[str, list[str]] = {}
    for pid in result.counts[0].problems:
        groups.setdefault(family(pid), []).append(pid)
    if len(groups) < 2:
        return None
    panels = {f"{name} ({len(ids)} problems)": [bootstrap_curve(c.subset(ids)) for c in result.counts]
              for name, ids in sorted(groups.items())}
    return panels_passk_figure(panels, "final pass@k by problem family")


def write_sweep_report(name: str, runs, out_dir: str | Path, family=None) -> Path:
    """`family` maps a problem id to its family name, for per-family curves."""
    from rlvr.evaluate.plots import passk_figure, steps_figure

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
    result = final_comparison(logs, runs, dataset)
    findings: list[str] = []
    coverage_md = coverage_html = ""
    if result is not None:
        figures["final pass@k of every run against the base (95% bootstrap CI)"] = passk_figure(
            result.curves, title=f"{name}: final {dataset} pass@k")
        if family is not None and (png := _family_figure(result, family)) is not None:
            figures["final pass@k by problem family"] = png
        findings = result.findings
        cov_header, cov_rows = _coverage_table(result)
        coverage_md = ("\n## Coverage at n\n\n| " + " | ".join(cov_header) + " |\n|" + "---|" * len(cov_header) + "\n"
                       + "".join("| " + " | ".join(r) + " |\n" for r in cov_rows))
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
    findings_md = "".join(f"- {s}\n" for s in findings)
    (out / "sweep.md").write_text(f"# Sweep {name}\n\n" + (f"## Findings\n\n{findings_md}\n" if findings else "")
                                  + f"## Probe\n\n{table}{coverage_md}\n"
                                  + "".join(f"![{k}](sweep_{i}.png)\n" for i, k in enumerate(figures)))
    if findings:
        (out / "findings.txt").write_text("\n".join(findings) + "\n")
    cells = lambda row, tag: "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row)  # noqa: E731
    titles = {key: f"{key} over steps" for key in (keys[0], keys[-1])}
    images = "".join(f'<h2>{html.escape(titles.get(k, k))}</h2><img src="data:image/png;base64,{base64.b64encode(png).decode()}">'
                     for k, png in figures.items())
    if result is not None:
        cov_table = (f"<h2>Coverage at n</h2><table border=1 cellpadding=4><tr>{cells(cov_header, 'th')}</tr>"
                     + "".join(f"<tr>{cells(r, 'td')}</tr>" for r in cov_rows) + "</table>")
        coverage_html = cov_table
    findings_html = ("<h2>Findings</h2><ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in findings) + "</ul>"
                     if findings else "")
    page = (f"<!doctype html><meta charset=utf-8><title>Sweep {html.escape(name)}</title><h1>Sweep {html.escape(name)}</h1>"
            f"{findings_html}<table border=1 cellpadding=4><tr>{cells(header, 'th')}</tr>"
            + "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows) + f"</table>{coverage_html}{images}")
    path = out / "sweep.html"
    path.write_text(page)
    return path
