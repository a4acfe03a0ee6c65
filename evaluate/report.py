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


FOLD_ROWS = 12  # HTML: a table longer than this is folded (<details>), so it does not push the rest down


@dataclass
class Section:
    """One part of the report, rendered alike to Markdown and HTML: sentences, a table (first row the header),
    figures, folded text blocks (summary, text) and glossary definitions (term, meaning). `lead`: the HTML
    shows sentences and figures side by side, so the answer and its chart share the first screen."""

    title: str
    sentences: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)
    figures: dict[str, bytes] = field(default_factory=dict)
    blocks: list[tuple[str, str]] = field(default_factory=list)
    definitions: list[tuple[str, str]] = field(default_factory=list)
    lead: bool = False

    @property
    def anchor(self) -> str:
        return "-".join("".join(ch if ch.isalnum() else " " for ch in self.title.lower()).split())

    @property
    def empty(self) -> bool:
        return not (self.sentences or len(self.table) > 1 or self.figures or self.blocks or self.definitions)


def compare(
    counts: list[Counts], resamples: int = 1000, seed: int = 0, se_k: int = 256, intersect: bool = False
) -> Comparison:
    """All statistics for one report. The first model is the base; every other is paired with it."""
    labels = [c.label for c in counts]
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct, got {labels}; pass --labels a,b")
    counts, left_out = align(counts, intersect)
    k_max = min(c.k_limit for c in counts)
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


def spend_sentences(c: Comparison) -> list[str]:
    """What sequential sampling spent, per model sampled with --stop-at-correct, against uniform n_max."""
    out = []
    for counts in c.counts:
        if counts.rule is None or not counts.spend:
            continue
        spend, rule = counts.spend, counts.rule
        floor = f", at least {rule.n_min}" if rule.n_min else ""
        out.append(
            f"{counts.label} was sampled until each problem's {rule.m}th correct sample (at most {rule.n_max}"
            f"{floor}): {spend['samples']:,} samples and {spend['tokens']:,} tokens drawn, where uniform n = "
            f"{rule.n_max} draws {spend['uniform_samples']:,} ({spend['samples_saved_ratio']:.1f}x as many); "
            f"its pass@k is the sequential estimator's, unbiased at every k."
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
    sections: list[Section | tuple[str, list[str], list[list[str]]]] | None = None,
) -> Path:
    """Write every output file into `out_dir`; returns the path of report.html. `answer_support` is
    `answer_support.answer_support()`'s dict, `steps` maps label -> step-verified results (steps.json's
    fields), `sections` are more sections (or (title, sentences, table)) to show after coverage, and
    `extra_figures` go under "More figures"."""
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
    parts = report_sections(
        c, extra_figures or {}, case_studies or [], perplexity, answer_support, steps, sections or []
    )
    figures = [png for part in parts for png in part.figures.values()]
    for i, png in enumerate(figures):
        (out / f"figure_{i}.png").write_bytes(png)
    (out / "report.md").write_text(render_markdown(parts))
    html_path = out / "report.html"
    html_path.write_text(render_html(parts))
    return html_path


def report_sections(
    c: Comparison,
    extra_figures: dict[str, bytes],
    case_studies: list[dict],
    perplexity: dict | None,
    answer_support: dict | None,
    steps: dict | None,
    more: list,
) -> list[Section]:
    """The report in reading order: the answer first (findings beside the pass@k chart), then the numbers
    behind it, coverage, the caller's sections (the probe over training steps), the analyses, more figures,
    case studies and the glossary. Each section is one small function; an empty one is left out. A new
    section (a chance floor, sequential sampling) is one more function returning a Section, listed in its place."""
    parts = [
        findings_section(c),
        passk_table_section(c),
        spend_section(c),
        coverage_section(c),
        *map(as_section, more),
        *map(as_section, analysis_sections(c, answer_support, steps)),
        more_figures_section(c, extra_figures, perplexity),
        case_studies_section(case_studies),
        glossary_section(),
    ]
    return [part for part in parts if not part.empty]


def as_section(part: Section | tuple[str, list[str], list[list[str]]]) -> Section:
    """A (title, sentences, table) tuple, the form the analyses return, as a Section."""
    return part if isinstance(part, Section) else Section(part[0], list(part[1]), part[2])


def findings_section(c: Comparison) -> Section:
    """The answer: one sentence per finding, beside the pass@k chart with its intervals and crossover."""
    chart = plots.passk_figure(
        c.curves,
        c.cross.k_star if len(c.pairs) == 1 else None,
        floors={label: check.floor for label, check in c.floors.items()},
    )
    return Section(
        "Findings", list(c.findings), figures={"pass@k curves (95% bootstrap CI)": chart}, lead=True
    )


def spend_section(c: Comparison) -> Section:
    """Samples and tokens each sequentially sampled model drew, against uniform n_max (none: left out)."""
    sentences = spend_sentences(c)
    rows = [["model", "samples drawn", "tokens drawn", "uniform n_max would draw", "fewer"]] + [
        [
            x.label,
            f"{x.spend['samples']:,}",
            f"{x.spend['tokens']:,}",
            f"{x.spend['uniform_samples']:,}",
            f"{x.spend['samples_saved_ratio']:.1f}x",
        ]
        for x in c.counts
        if x.rule is not None and x.spend
    ]
    return Section("Samples drawn (sequential pass@k)", sentences, rows if sentences else [])


def passk_table_section(c: Comparison) -> Section:
    return Section("pass@k (%) with 95% bootstrap intervals", table=_summary_rows(c))


def coverage_section(c: Comparison) -> Section:
    """Which problems each model solves at all, and Cover@τ: the share solved at a success rate of at least τ."""
    cover = plots.cover_figure({x.label: cover_at_tau(x) for x in c.counts})
    return Section("Coverage at n", table=_coverage_rows(c), figures={"Cover@τ": cover})


def more_figures_section(c: Comparison, extra: dict[str, bytes], perplexity: dict | None) -> Section:
    figures = {
        "Per-problem accuracy": plots.histogram_figure(
            {x.label: x.rate for x in c.counts},
            "per-problem accuracy (unbiased pass@1)",
            "Per-problem accuracy",
        ),
    }
    if perplexity:
        figures["Perplexity"] = plots.histogram_figure(
            {k: np.asarray(v) for k, v in perplexity.items()}, "perplexity", "Per-response perplexity"
        )
    return Section("More figures", figures={**figures, **extra})


def case_studies_section(cases: list[dict]) -> Section:
    """Problems only one model solves, one folded block each."""
    blocks = [(f"problem {x['problem']} ({x['label']} only)", x["text"][:2000]) for x in cases]
    return Section("Case studies: problems only one model solves", blocks=blocks)


GLOSSARY: list[tuple[str, str]] = [
    (
        "pass@k (unbiased estimator)",
        "The chance that at least one of k samples is correct. With n samples of which c are correct it is "
        "1 − C(n−c, k)/C(n, k) per problem (Chen et al. 2021), averaged over problems: every k up to n comes "
        "from the same n samples, without the bias of drawing k of them once.",
    ),
    (
        "bootstrap over problems",
        "The 95% intervals: the problems are resampled with replacement (1000 times by default) and pass@k is "
        "recomputed on each resample; the interval is the 2.5th to 97.5th percentile. It measures how much the "
        "figure depends on which problems were drawn, not the noise of sampling more answers. A paired "
        "difference resamples the same problems for both models.",
    ),
    (
        "crossover k*",
        "The first k at which the model behind at pass@1 draws ahead (usually the base overtaking the RL "
        "model): the sign of the paired difference flips. 'Does not overtake' means the curves never cross up "
        "to n; whether the lead is established at a k is the paired interval's, not k*'s, to say.",
    ),
    (
        "ΔSE (sampling-efficiency gap)",
        "pass@1 of the trained model minus pass@k of the base at a large k (min(256, n)): how far the trained "
        "model's single answer is from what the base reaches with many tries (Yue et al. 2025).",
    ),
    (
        "coverage",
        "The problems a model solves at least once in its n samples (pass@n > 0 per problem), and which of "
        "them only one model solves: the reasoning boundary measured at n.",
    ),
    (
        "Cover@τ",
        "The share of problems a model solves in at least a share τ of its samples; τ = 1/n is coverage, "
        "τ near 1 counts the problems it solves reliably.",
    ),
    (
        "answer support",
        "The distinct correct final answers (and distinct correct solutions) a model reaches per problem, and "
        "which of the base's it lost, kept or gained; answer entropy is the spread of its answers in bits.",
    ),
    (
        "perplexity",
        "exp of the mean negative log-likelihood per token of a response under a model (the base): near 1, "
        "the base already finds that response likely; RL answers the base finds likely were within its reach.",
    ),
    (
        "step-verified pass@k",
        "pass@k counting only samples whose reasoning a steps verifier accepts (arithmetic steps checked, or a "
        "judge model), so a right answer reached by wrong steps does not count.",
    ),
    (
        "chance floor",
        "The pass@k a model would reach by guessing: each sample's answer drawn from what the same model "
        "answered to other problems, so no reasoning about this problem is involved. On a task with few "
        "possible answers a large k solves problems by chance; a pass@k that does not clear its floor says "
        "nothing about the reasoning boundary.",
    ),
]


def glossary_section() -> Section:
    return Section("Glossary", definitions=GLOSSARY)


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


def render_markdown(sections: list[Section]) -> str:
    parts = ["# rlvr comparison", ""]
    index = 0
    for part in sections:
        parts += [f"## {part.title}", ""]
        parts += [f"- {x}" for x in part.sentences] + ([""] if part.sentences else [])
        for name in part.figures:
            parts += [f"![{name}](figure_{index}.png)", ""]
            index += 1
        parts += [markdown_table(part.table), ""] if len(part.table) > 1 else []
        for summary, text in part.blocks:
            parts += [f"### {summary}", "", "```", text, "```", ""]
        parts += [f"- **{term}**: {meaning}" for term, meaning in part.definitions]
        parts += [""] if part.definitions else []
    return "\n".join(parts).rstrip("\n") + "\n"


STYLE = (
    "body{font-family:system-ui,sans-serif;font-size:15px;line-height:1.4;max-width:80rem;margin:1rem auto;"
    "padding:0 1rem;color:#222}h1{font-size:1.5rem;margin:.2rem 0 .6rem}h2{font-size:1.2rem;margin:1.6rem 0 .5rem}"
    ".lead{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1.5rem;align-items:start}"
    ".lead h2{margin-top:0}.lead ul{margin:0;padding-left:1.2rem}.lead li{margin:.15rem 0}"
    ".lead figure{margin:0}.lead img{width:100%;max-width:none}"
    "@media (max-width:900px){.lead{grid-template-columns:1fr}}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}"
    "figure{display:inline-block;margin:.5rem;vertical-align:top;max-width:100%}img{max-width:100%}"
    "figcaption{font-size:.9rem;color:#555}details{margin:.4rem 0}summary{cursor:pointer;color:#06c}"
    "pre{background:#f6f6f6;padding:.5rem;white-space:pre-wrap}dt{font-weight:600;margin-top:.5rem}dd{margin-left:1.2rem}"
    "nav{font-size:.9rem;color:#555;margin-bottom:.8rem}nav a{margin-right:.7rem}"
)


def _html_figures(figures: dict[str, bytes]) -> str:
    return "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        f"<figcaption>{html.escape(name)}</figcaption></figure>"
        for name, png in figures.items()
    )


def _html_section(part: Section) -> str:
    """One section; a table longer than FOLD_ROWS rows is folded, and so is every text block."""
    title = f'<h2 id="{part.anchor}">{html.escape(part.title)}</h2>'
    sentences = (
        "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in part.sentences) + "</ul>"
        if part.sentences
        else ""
    )
    table = ""
    if len(part.table) > FOLD_ROWS:
        table = (
            f"<details><summary>table: {len(part.table) - 1} rows</summary>{html_table(part.table)}</details>"
        )
    elif len(part.table) > 1:
        table = html_table(part.table)
    blocks = "".join(
        f"<details><summary>{html.escape(summary)}</summary><pre>{html.escape(text)}</pre></details>"
        for summary, text in part.blocks
    )
    definitions = (
        "<dl>"
        + "".join(f"<dt>{html.escape(t)}</dt><dd>{html.escape(m)}</dd>" for t, m in part.definitions)
        + "</dl>"
        if part.definitions
        else ""
    )
    if part.lead:
        return (
            f'<section class="lead" id="lead"><div class="findings">{title}{sentences}</div>'
            f"{_html_figures(part.figures)}</section>{table}"
        )
    return f"<section>{title}{sentences}{_html_figures(part.figures)}{table}{blocks}{definitions}</section>"


def render_html(sections: list[Section]) -> str:
    """A self-contained page (figures inline), with a line of links to every section."""
    short = {x.anchor: x.title.split(":")[0].split(" (")[0] for x in sections}
    links = " ".join(
        f'<a href="#{anchor}">{html.escape(name)}</a>'
        for i, (anchor, name) in enumerate(short.items())
        if name not in list(short.values())[:i]
    )
    body = "".join(_html_section(x) for x in sections)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>rlvr comparison</title><style>{STYLE}</style>"
        f"</head><body><h1>rlvr comparison</h1><nav>{links}</nav>{body}</body></html>"
    )
