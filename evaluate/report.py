"""`rlvr compare`'s output: passk.csv, coverage.json, report.md and a self-contained report.html."""

from __future__ import annotations

import base64
import csv
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rlvr.evaluate import plots
from rlvr.evaluate.counts import Counts, align, preview
from rlvr.evaluate.passk import log2_ks
from rlvr.evaluate.stats import (
    Crossover,
    Curve,
    PairedDifference,
    bootstrap_curve,
    cover_at_tau,
    coverage,
    crossover,
    k_ranges,
    paired_difference,
    sampling_efficiency_gap,
)


@dataclass
class Pair:
    """One model against the base: paired pass@k difference, crossover, ΔSE and their two-way coverage."""

    diff: PairedDifference
    cross: Crossover
    delta_se: dict
    coverage: dict


@dataclass
class Comparison:
    """With two or more models the first is the base and each other one is paired with it."""

    counts: list[Counts]
    curves: list[Curve]
    coverage: dict
    pairs: list[Pair] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    left_out: dict[str, list[str]] = field(default_factory=dict)
    floors: dict = field(default_factory=dict)  # label -> chance_floor.FloorCheck (attach_chance_floors)

    @property
    def diff(self) -> PairedDifference | None:
        return self.pairs[0].diff if self.pairs else None

    @property
    def cross(self) -> Crossover | None:
        return self.pairs[0].cross if self.pairs else None

    @property
    def delta_se(self) -> dict | None:
        return self.pairs[0].delta_se if self.pairs else None

    @property
    def k_max(self) -> int:
        return len(self.curves[0].mean)


def compare(
    counts: list[Counts], resamples: int = 1000, seed: int = 0, se_k: int = 256, intersect: bool = False
) -> Comparison:
    """All statistics for one report. The first model is the base; every other is paired with it."""
    labels = [c.label for c in counts]
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct, got {labels}; pass --labels a,b")
    counts, left_out = align(counts, intersect)
    k_max = int(min(c.n.min() for c in counts))
    curves = [bootstrap_curve(c, k_max, resamples, seed) for c in counts]
    result = Comparison(counts, curves, coverage(counts), left_out=left_out)
    base = counts[0]
    for other in counts[1:]:
        diff = paired_difference(other, base, k_max, resamples, seed)
        result.pairs.append(
            Pair(
                diff,
                crossover(diff),
                sampling_efficiency_gap(other, base, se_k, resamples, seed),
                coverage([base, other]),
            )
        )
    result.findings = findings(result)
    return result


def _pts(x: float) -> str:
    return f"{x * 100:+.1f}"


def findings(c: Comparison) -> list[str]:
    """One plain sentence per finding, with its interval."""
    out = []
    n_problems = len(c.counts[0].problems)
    if c.left_out:
        out.append(
            f"Compared over the {n_problems} problems all inputs share (--intersect); left out: "
            + "; ".join(f"{label} {len(ids)} ({preview(ids)})" for label, ids in c.left_out.items())
            + "."
        )
    for curve in c.curves:
        out.append(
            f"{curve.label}: pass@1 {curve.mean[0] * 100:.1f}% [{curve.low[0] * 100:.1f}, {curve.high[0] * 100:.1f}], "
            f"pass@{c.k_max} {curve.mean[-1] * 100:.1f}% [{curve.low[-1] * 100:.1f}, {curve.high[-1] * 100:.1f}] "
            f"over {n_problems} problems."
        )
    for pair in c.pairs:
        out += _pair_findings(c, pair)
    if len(c.pairs) == 1:
        both, neither = c.coverage["both"]["count"], c.coverage["neither"]["count"]
        out.append(f"Coverage at n: both solve {both}, neither solves {neither} of {n_problems}.")
    elif c.pairs:
        everyone = next((s["count"] for s in c.coverage["sets"] if len(s["solved_by"]) == len(c.counts)), 0)
        nobody = next((s["count"] for s in c.coverage["sets"] if not s["solved_by"]), 0)
        out.append(
            f"Coverage at n: all {len(c.counts)} solve {everyone}, none solves {nobody} of {n_problems}."
        )
    return out


def _pair_findings(c: Comparison, pair: Pair) -> list[str]:
    out = []
    base, rl = pair.diff.b, pair.diff.a
    d0, lo0, hi0 = pair.diff.diff[0], pair.diff.low[0], pair.diff.high[0]
    leader, trailer = (rl, base) if d0 >= 0 else (base, rl)
    sign = 1 if d0 >= 0 else -1
    lead_low, lead_high = sorted((sign * lo0, sign * hi0))
    sentence = (
        f"{leader} leads at pass@1 by {_pts(sign * d0)} points [{lead_low * 100:.1f}, {lead_high * 100:.1f}]"
    )
    if pair.cross.k_star is not None:
        sentence += f"; {trailer} overtakes at k = {pair.cross.k_star}"
    else:
        sentence += f"; {trailer} does not overtake up to k = {c.k_max}"
    only = pair.coverage["only"]
    sentence += f"; {base} alone solves {only[base]['count']} problems, {rl} alone {only[rl]['count']}."
    out.append(sentence)
    dk, dlo, dhi = pair.diff.diff[-1], pair.diff.low[-1], pair.diff.high[-1]
    out.append(f"At k = {c.k_max}, {rl} − {base} = {_pts(dk)} points [{_pts(dlo)}, {_pts(dhi)}].")
    if pair.cross.undecided_ks:
        runs = ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in k_ranges(pair.cross.undecided_ks))
        out.append(f"The paired 95% interval of {rl} − {base} contains 0 at k in {runs}.")
    s = pair.delta_se
    out.append(
        f"Sampling-efficiency gap ΔSE = pass@1({rl}) − pass@{s['k']}({base}) = {_pts(s['delta_se'])} points "
        f"[{_pts(s['ci_low'])}, {_pts(s['ci_high'])}]."
    )
    return out


def write_passk_csv(c: Comparison, path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["label", "k", "pass_at_k", "ci_low", "ci_high", "chance_floor"])
        for curve in c.curves:
            floor = c.floors[curve.label].floor if curve.label in c.floors else None
            for k, m, lo, hi in zip(curve.ks, curve.mean, curve.low, curve.high):
                cell = "" if floor is None else f"{floor[k - 1]:.6f}"
                writer.writerow([curve.label, int(k), f"{m:.6f}", f"{lo:.6f}", f"{hi:.6f}", cell])


def write_report(
    c: Comparison,
    out_dir: str | Path,
    extra_figures: dict[str, bytes] | None = None,
    case_studies: list[dict] | None = None,
    perplexity: dict | None = None,
    answer_support: dict | None = None,
    steps: dict | None = None,
    sections: list[tuple[str, list[str], list[list[str]]]] | None = None,
) -> Path:
    """Write every output file into `out_dir`; returns the path of report.html. `answer_support` is
    `answer_support.answer_support()`'s dict, `steps` maps label -> step-verified results (steps.json's
    fields), `sections` are more (title, sentences, table) to show after coverage."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_passk_csv(c, out / "passk.csv")
    coverage_json = dict(c.coverage)
    if answer_support:
        coverage_json["answer_support"] = answer_support
    if steps:
        coverage_json["step_verified"] = {
            label: {k: v for k, v in data.items() if k != "samples"} for label, data in steps.items()
        }
    (out / "coverage.json").write_text(json.dumps(coverage_json, indent=2))
    sections = analysis_sections(c, answer_support, steps) + list(sections or [])
    figures: dict[str, bytes] = {
        "pass@k curves (95% bootstrap CI)": plots.passk_figure(
            c.curves,
            c.cross.k_star if len(c.pairs) == 1 else None,
            floors={label: check.floor for label, check in c.floors.items()},
        ),
        "Cover@τ": plots.cover_figure({x.label: cover_at_tau(x) for x in c.counts}),
        "Per-problem accuracy": plots.histogram_figure(
            {x.label: x.accuracy for x in c.counts}, "per-problem accuracy c/n", "Per-problem accuracy"
        ),
    }
    if perplexity:
        figures["Perplexity"] = plots.histogram_figure(
            {k: np.asarray(v) for k, v in perplexity.items()}, "perplexity", "Per-response perplexity"
        )
    figures.update(extra_figures or {})
    for i, png in enumerate(figures.values()):
        (out / f"figure_{i}.png").write_bytes(png)
    table = _summary_rows(c)
    (out / "report.md").write_text(_markdown(c, table, list(figures), case_studies or [], sections))
    html_path = out / "report.html"
    html_path.write_text(_html(c, table, figures, case_studies or [], sections))
    return html_path


def analysis_sections(
    c: Comparison, answer_support: dict | None, steps: dict | None
) -> list[tuple[str, list[str], list[list[str]]]]:
    """The answer-support and step-verified sections: (title, sentences, table) each."""
    from rlvr.evaluate import answer_support as support

    out = []
    if answer_support:
        out.append(
            (
                "Answer support: distinct correct answers and solutions",
                support.support_findings(answer_support),
                support.support_rows(answer_support),
            )
        )
        if answer_support["pairs"]:
            out.append(
                ("Answer support: lost, kept, gained against the base", [], support.pair_rows(answer_support))
            )
    if steps:
        out.append(step_verified_section(c, steps))
    if c.floors:
        out.append(chance_floor_section(c))
    return out


def attach_chance_floors(
    c: Comparison, q_by_label: dict[str, dict], resamples: int = 1000, seed: int = 0
) -> None:
    """Put each model's chance floor (`q_by_label[label]`: q_i per problem, chance_floor.guess_probabilities)
    beside its curve, and one finding per model on whether its pass@k at the largest k clears it."""
    from rlvr.evaluate.chance_floor import floor_check, floor_finding

    for counts in c.counts:
        if q_by_label.get(counts.label) is not None:
            check = floor_check(counts, q_by_label[counts.label], c.k_max, resamples, seed)
            c.floors[counts.label] = check
            c.findings.append(floor_finding(check))


def chance_floor_section(c: Comparison) -> tuple[str, list[str], list[list[str]]]:
    """pass@k and each model's chance floor at the report's ks, with pass@k − floor and its paired interval."""
    labels = [x.label for x in c.curves if x.label in c.floors]
    curves = {x.label: x for x in c.curves}
    rows = [["k"] + [f"{label} {kind}" for label in labels for kind in ("pass@k", "floor", "pass@k − floor")]]
    for k in log2_ks(c.k_max):
        row = [str(k)]
        for label in labels:
            f = c.floors[label]
            row += [
                f"{curves[label].mean[k - 1] * 100:.1f}",
                f"{f.floor[k - 1] * 100:.1f}",
                f"{f.margin[k - 1] * 100:+.1f} [{f.low[k - 1] * 100:+.1f}, {f.high[k - 1] * 100:+.1f}]",
            ]
        rows.append(row)
    sentences = [
        "The chance floor is the pass@k a model reaches by guessing, for each problem, one of its own answers "
        "to the other problems (graded by the store's grader). A model clears it at k when the paired 95% "
        "interval of pass@k − floor lies above 0."
    ]
    return "Chance floor (%)", sentences, rows


def step_verified_section(c: Comparison, steps: dict) -> tuple[str, list[str], list[list[str]]]:
    """pass@k and step-verified pass@k side by side at the report's ks."""
    labels = [x.label for x in c.curves if x.label in steps]
    verifier = next(iter(steps.values()))["verifier"]
    rows = [["k"] + [f"{label} {kind}" for label in labels for kind in ("pass@k", "step-verified")]]
    k_max = min(len(steps[label]["step_pass_at_k"]) for label in labels)
    for k in log2_ks(k_max):
        rows.append(
            [str(k)]
            + [
                f"{steps[label][key][str(k)] * 100:.1f}"
                for label in labels
                for key in ("pass_at_k", "step_pass_at_k")
            ]
        )
    sentences = [
        f"{label}: pass@{k_max} {steps[label]['pass_at_k'][str(k_max)] * 100:.1f}%, step-verified "
        f"{steps[label]['step_pass_at_k'][str(k_max)] * 100:.1f}% ({verifier}); of its correct samples "
        f"{steps[label]['rejected']} have a wrong step and {steps[label]['undetermined']} could not be judged."
        for label in labels
    ]
    return f"Step-verified pass@k (%), verifier {verifier}", sentences, rows


def _summary_rows(c: Comparison) -> list[list[str]]:
    ks = [k for k in log2_ks(c.k_max)]
    rows = [["k"] + [x.label for x in c.curves]]
    for k in ks:
        rows.append(
            [str(k)]
            + [
                f"{x.mean[k - 1] * 100:.1f} [{x.low[k - 1] * 100:.1f}, {x.high[k - 1] * 100:.1f}]"
                for x in c.curves
            ]
        )
    return rows


def _coverage_rows(c: Comparison) -> list[list[str]]:
    cov = c.coverage
    rows = [["", "problems"]] + [
        [f"solved by {label}", str(v["count"])] for label, v in cov["solved"].items()
    ]
    if "both" in cov:
        rows += [["both", str(cov["both"]["count"])]]
        rows += [[f"{label} only", str(v["count"])] for label, v in cov["only"].items()]
        rows += [["neither", str(cov["neither"]["count"])]]
    for entry in cov.get("sets", []):
        who = entry["solved_by"]
        name = (
            (
                "all"
                if len(who) == len(cov["solved"])
                else " and ".join(who) + (" only" if len(who) > 0 else "")
            )
            if who
            else "none"
        )
        rows.append([name, str(entry["count"])])
    return rows


def markdown_table(rows: list[list[str]]) -> str:
    """A Markdown table; the first row is the header."""
    return "\n".join(
        ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        + ["| " + " | ".join(r) + " |" for r in rows[1:]]
    )


def html_table(rows: list[list[str]], attributes: str = "") -> str:
    """An HTML table with escaped cells; the first row is the header."""
    head = "".join(f"<th>{html.escape(x)}</th>" for x in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in r) + "</tr>" for r in rows[1:])
    return f"<table{' ' + attributes if attributes else ''}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _markdown(c: Comparison, table, figure_names, cases, sections=()) -> str:
    parts = ["# rlvr comparison", "", "## Findings", ""] + [f"- {s}" for s in c.findings]
    parts += [
        "",
        "## pass@k (%) with 95% bootstrap intervals",
        "",
        markdown_table(table),
        "",
        "## Coverage at n",
        "",
        markdown_table(_coverage_rows(c)),
        "",
    ]
    for title, sentences, rows in sections:
        parts += [f"## {title}", ""] + [f"- {x}" for x in sentences] + ([""] if sentences else [])
        parts += [markdown_table(rows), ""] if len(rows) > 1 else []
    parts += ["## Figures", ""] + [f"![{name}](figure_{i}.png)" for i, name in enumerate(figure_names)]
    if cases:
        parts += ["", "## Case studies: problems only one model solves", ""]
        for case in cases:
            parts += [
                f"### problem {case['problem']} ({case['label']} only)",
                "",
                "```",
                case["text"][:2000],
                "```",
                "",
            ]
    return "\n".join(parts) + "\n"


def _html(c: Comparison, table, figures: dict[str, bytes], cases, sections=()) -> str:
    imgs = "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        f"<figcaption>{html.escape(name)}</figcaption></figure>"
        for name, png in figures.items()
    )
    case_html = "".join(
        f"<h3>problem {html.escape(str(x['problem']))} ({html.escape(x['label'])} only)</h3><pre>{html.escape(x['text'][:2000])}</pre>"
        for x in cases
    )
    style = (
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}"
        "figure{display:inline-block;margin:.5rem}img{max-width:28rem}pre{background:#f6f6f6;padding:.5rem;white-space:pre-wrap}"
    )
    findings_html = "".join(f"<li>{html.escape(s)}</li>" for s in c.findings)
    more = "".join(
        f"<h2>{html.escape(title)}</h2>"
        + ("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in sentences) + "</ul>" if sentences else "")
        + (html_table(rows) if len(rows) > 1 else "")
        for title, sentences, rows in sections
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>rlvr comparison</title><style>{style}</style></head><body>"
        f"<h1>rlvr comparison</h1><h2>Findings</h2><ul>{findings_html}</ul>"
        f"<h2>pass@k (%) with 95% bootstrap intervals</h2>{html_table(table)}"
        f"<h2>Coverage at n</h2>{html_table(_coverage_rows(c))}{more}<h2>Figures</h2>{imgs}"
        + (f"<h2>Case studies</h2>{case_html}" if cases else "")
        + "</body></html>"
    )
