"""`rlvr compare`: pass@k curves with CIs, coverage, ΔSE and crossover for sample stores or counts files."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rlvr.cli_types import at_least_one, label_list


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs",
        nargs="+",
        help="sample store directories or counts CSVs (problem,n,correct); "
        "the first is the base model; each other one is paired with it (pass@k difference, crossover, ΔSE)",
    )
    parser.add_argument(
        "--labels", help="comma-separated names, one per input (default: file or directory names)"
    )
    parser.add_argument(
        "--out", required=True, help="directory for report.html, report.md, passk.csv, coverage.json"
    )
    parser.add_argument(
        "--resamples", type=at_least_one, default=1000, help="bootstrap resamples over problems"
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument(
        "--se-k",
        type=at_least_one,
        default=None,
        help="k of the base model in ΔSE = pass@1(RL) − pass@k(base); at most the base's samples per problem "
        "(default: 256, or that n when smaller)",
    )
    parser.add_argument(
        "--intersect",
        action="store_true",
        help="compare over the problems all inputs share (default: refuse when their problem sets differ)",
    )
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="accept unfinished sample stores (default: refuse, naming how many samples are missing)",
    )
    parser.add_argument(
        "--perplexity", help="perplexity.json written by `rlvr perplexity`, to add its histogram"
    )
    parser.add_argument(
        "--contamination",
        help="contamination.json written by `rlvr contamination` (or its directory): also split the curves "
        "into likely seen and unseen problems",
    )
    parser.add_argument(
        "--contamination-threshold",
        type=float,
        help="ROUGE-L at or above which a problem counts as likely seen (default: the file's)",
    )
    parser.add_argument(
        "--wandb",
        action="store_true",
        help="also log tables and curves to W&B (offline unless WANDB_API_KEY is set)",
    )
    parser.add_argument("--wandb-project", default="rlvr", help="W&B project for --wandb")
    add_steps_arguments(parser)


def add_steps_arguments(parser: argparse.ArgumentParser) -> None:
    """--steps-verifier and --judge-model, shared by eval, regrade and compare."""
    parser.add_argument(
        "--steps-verifier",
        help="also step-verified pass@k: a sample counts only when this verifier judges its reasoning right "
        "(arithmetic, judge, or module:function); needs sample stores",
    )
    parser.add_argument(
        "--judge-model", help="the model --steps-verifier judge asks (through rlvr's sampling backends)"
    )
    parser.add_argument(
        "--judge-backend", default="auto", help="sampling backend of --judge-model (default: auto)"
    )


def run(args: argparse.Namespace) -> int:
    from rlvr.evaluate.counts import load_counts
    from rlvr.evaluate.report import compare, write_report

    start = time.perf_counter()
    if args.contamination:  # a missing or foreign file fails before anything is computed
        from rlvr.evaluate.contamination_split import seen_ids

        seen_ids(args.contamination, args.contamination_threshold)
    labels = label_list(args.labels, len(args.inputs), "inputs")
    counts = [load_counts(path, label, args.allow_partial) for path, label in zip(args.inputs, labels)]
    for line in sampling_differences(args.inputs, [c.label for c in counts]):
        print(line, file=sys.stderr)
    result = compare(counts, args.resamples, args.seed, se_k(args.se_k, counts[0]), args.intersect)
    cases = _case_studies(args.inputs, result)
    perplexity = json.loads(Path(args.perplexity).read_text())["perplexity"] if args.perplexity else None
    support, steps = store_analyses(
        args.inputs, result, args.steps_verifier, args.judge_model, args.judge_backend
    )
    figures, sections = {}, []
    if args.contamination:
        from rlvr.evaluate.contamination_split import contamination_split

        figure, section = contamination_split(result, args.contamination, args.contamination_threshold)
        figures["pass@k on likely seen and unseen problems"] = figure
        sections.append(section)
    report = write_report(
        result,
        args.out,
        extra_figures=figures,
        case_studies=cases,
        perplexity=perplexity,
        answer_support=support,
        steps=steps,
        sections=sections,
    )
    if args.wandb:
        from rlvr.tracking import log_comparison

        log_comparison(result, args.wandb_project, Path(args.out))
    from rlvr.evaluate.report import spend_sentences

    spent = spend_sentences(result)
    for sentence in result.findings + spent + [s for _, sentences, _ in sections for s in sentences]:
        print(sentence)
    print(f"wrote {report} ({time.perf_counter() - start:.1f}s)")
    return 0


# what a sample is drawn under: two stores that differ in one compare sampling as much as models
DRAW_SETTINGS = ("temperature", "top_p", "top_k", "min_p", "stop", "max_tokens")


def sampling_differences(inputs: list[str], labels: list[str]) -> list[str]:
    """One line per sampling setting the input stores differ in (counts files record none): a paired pass@k
    difference between stores drawn at other temperatures, top-k or stop strings is not the models' alone."""
    from rlvr.evaluate.store import SampleStore, setting

    metas = [
        (label, SampleStore.open_existing(p).meta) for label, p in zip(labels, inputs) if Path(p).is_dir()
    ]
    lines = []
    for key in DRAW_SETTINGS:
        values = [(label, setting(meta, key)) for label, meta in metas]
        if len({json.dumps(v) for _, v in values}) > 1:
            each = ", ".join(f"{label} {value!r}" for label, value in values)
            lines.append(
                f"rlvr compare: the stores were sampled with different {key} ({each}): their pass@k differences "
                f"mix the models with the sampling; evaluate them with the same settings to compare the models"
            )
    return lines


def se_k(asked: int | None, base) -> int:
    """The k of ΔSE: pass@k is defined only for k <= n, so a larger --se-k is refused rather than cut to n."""
    n = int(base.n.min())
    if asked is None:
        return min(256, n)
    if asked > n:
        raise ValueError(
            f"--se-k {asked} is more than the {n} samples per problem of {base.label}; "
            f"choose --se-k {n} or less (pass@k needs k <= n)"
        )
    return asked


def store_analyses(
    inputs: list[str],
    result,
    steps_verifier: str | None = None,
    judge_model: str | None = None,
    judge_backend: str = "auto",
) -> tuple[dict | None, dict | None]:
    """(answer support, step-verified results by label) when every input is a sample store, else what the
    inputs allow: counts files carry no answers, so --steps-verifier with one is refused."""
    are_stores = all(Path(p).is_dir() for p in inputs)
    if steps_verifier and not are_stores:
        raise ValueError("--steps-verifier needs sample store directories, not counts files")
    if not are_stores:
        return None, None
    from rlvr.evaluate.answer_support import answer_support

    labelled = [(c.label, path) for c, path in zip(result.counts, inputs)]
    if len({c.rule for c in result.counts}) > 1:  # a rule changes which samples count: not comparable
        print(
            "rlvr compare: answer support left out: the stores were sampled under different rules "
            "(--stop-at-correct), so their counted samples differ in number",
            file=sys.stderr,
        )
        support = None
    else:
        support = answer_support(labelled, list(result.counts[0].problems))
    chance_floors(labelled, result)
    if not steps_verifier:
        return support, None
    from rlvr.evaluate.step_verified import load_steps_verifier, store_step_verified

    verifier = load_steps_verifier(steps_verifier, judge_model, judge_backend)
    steps = {}
    for label, path in labelled:
        steps[label] = store_step_verified(path, steps_verifier, verifier, label, write=False)
    return support, steps


def chance_floors(labelled: list[tuple[str, str]], result) -> None:
    """Each store's chance floor over the compared problems' samples, beside its curve and in the findings."""
    from rlvr.evaluate.chance_floor import store_guess_probabilities
    from rlvr.evaluate.report import attach_chance_floors
    from rlvr.evaluate.store import SampleStore

    q_by_label = {}
    for counts, (label, path) in zip(result.counts, labelled):
        wanted = set(counts.problems)
        store = SampleStore.open_existing(path)
        records = [r for r in store.counted_records() if str(r["problem"]) in wanted]
        try:
            q_by_label[label] = store_guess_probabilities(store, records)
        except Exception as exc:  # noqa: BLE001 - the comparison matters more than one model's floor
            print(f"rlvr compare: no chance floor for {label} ({type(exc).__name__}: {exc})", file=sys.stderr)
            q_by_label[label] = None
    attach_chance_floors(result, q_by_label)


CASES_PER_MODEL = 5


def _case_studies(inputs: list[str], result) -> list[dict]:
    """For problems only one model solves (up to CASES_PER_MODEL each), one of its correct samples (when
    stores are given)."""
    coverage = result.coverage
    if "only" in coverage:
        only_by_label = {label: set(v["ids"]) for label, v in coverage["only"].items()}
    else:
        only_by_label = {
            s["solved_by"][0]: set(s["ids"]) for s in coverage.get("sets", []) if len(s["solved_by"]) == 1
        }
    if not only_by_label or len(inputs) != len(result.counts):
        return []
    from rlvr.evaluate.store import SampleStore

    cases = []
    for path, counts in zip(inputs, result.counts):
        if not Path(path).is_dir():
            continue
        only = only_by_label.get(counts.label, set())
        seen: set = set()
        for record in SampleStore.open_existing(path).records():
            if len(seen) == CASES_PER_MODEL:
                break
            pid = str(record["problem"])
            if record.get("correct") and pid in only and pid not in seen:
                seen.add(pid)
                cases.append({"problem": pid, "label": counts.label, "text": record["text"]})
    return cases
