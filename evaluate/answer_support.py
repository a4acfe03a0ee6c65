"""Answer support ("The Invisible Leash", 2025): which distinct correct answers, and which distinct correct
solutions, each model reaches on each problem, and which the RL model lost, kept or gained against the base.

Answers are told apart by value, by the store's own grader: every answer the grader accepted for a problem
equals its gold, so they are one class (`\\frac12`, `1/2` and `0.50` for gold 1/2); other answers are joined
where the grader accepts each for the other (answer_classes.py: the classes are what those joins connect). An
extraction the grader cannot read as a value (garbage such as `:: = the`) is not an answer. Stores whose grader
compares no answers (code) are told apart by canonical form (`normalize_answer`, whitespace squeezed), as spelled.

A solution is the sample's text up to its last boxed answer, lower-cased with whitespace squeezed. Answer
entropy is the entropy (bits) of the value classes of the samples of a problem that give an answer, averaged
over the problems with one; `answered` is the share of samples that give one. It sits beside the token
entropy of the sampling policy, when the store has one (entropy.json, written by the probe).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

from rlvr.evaluate.answer_classes import GOLD_CLASS, answer_text, value_classes

__all__ = ["GOLD_CLASS", "value_classes"]

ENTROPY_FILE = "entropy.json"
_SPACE_RE = re.compile(r"\s+")
NO_ANSWER = "<no answer>"


def canonical_answer(extracted: str | None) -> str | None:
    """The grader's canonical form of an extracted answer, whitespace removed; None for no answer."""
    from rlvr.rewards.math_normalize import normalize_answer

    if extracted is None or not str(extracted).strip():
        return None
    return _SPACE_RE.sub("", normalize_answer(str(extracted)))


def canonical_solution(text: str) -> str:
    """The text up to the end of its last `\\boxed{...}` (all of it without one), lower case, spaces squeezed."""
    end = text.rfind("\\boxed{")
    if end >= 0:
        depth, i = 0, end + len("\\boxed")
        while i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
            if depth == 0:
                break
        text = text[:i]
    return _SPACE_RE.sub(" ", text).strip().lower()


def entropy_bits(outcomes: Counter) -> float:
    total = sum(outcomes.values())
    return -sum(c / total * math.log2(c / total) for c in outcomes.values() if c) if total else 0.0


def per_problem(
    records: list[dict], classes: dict[tuple[str, str], str | None] | None = None
) -> dict[str, dict]:
    """pid -> {'answers': set of correct answers' classes, 'solutions': set of correct canonical solutions,
    'outcomes': Counter of the classes of every sample that gives an answer, 'samples': how many samples}.
    `classes` from value_classes(); without it, answers are told apart by canonical form."""
    out: dict[str, dict] = {}
    for record in records:
        pid = str(record["problem"])
        entry = out.setdefault(
            pid, {"answers": set(), "solutions": set(), "outcomes": Counter(), "samples": 0}
        )
        entry["samples"] += 1
        answer = answer_text(record.get("extracted"))
        if classes is None:
            label = canonical_answer(answer)
        else:
            label = None if answer is None else classes.get((pid, answer))
        if record.get("correct"):
            entry["answers"].add(label if label is not None else NO_ANSWER)
            entry["solutions"].add(canonical_solution(record["text"]))
        if label is not None:
            entry["outcomes"][label] += 1
    return out


def token_entropy(store_dir: str | Path) -> float | None:
    path = Path(store_dir) / ENTROPY_FILE
    return json.loads(path.read_text())["mean_token_entropy"] if path.exists() else None


def model_summary(support: dict[str, dict], problems: list[str]) -> dict:
    solved = [p for p in problems if support.get(p, {}).get("answers")]
    answers = [len(support[p]["answers"]) for p in solved]
    solutions = [len(support[p]["solutions"]) for p in solved]
    entropies = [entropy_bits(support[p]["outcomes"]) for p in problems if support.get(p, {}).get("outcomes")]
    samples = sum(support[p]["samples"] for p in problems if p in support)
    answered = sum(sum(support[p]["outcomes"].values()) for p in problems if p in support)
    return {
        "problems": len(problems),
        "solved": len(solved),
        "correct_answers": sum(answers),
        "correct_solutions": sum(solutions),
        "answers_per_solved": sum(answers) / len(solved) if solved else 0.0,
        "solutions_per_solved": sum(solutions) / len(solved) if solved else 0.0,
        "answer_entropy_bits": sum(entropies) / len(entropies) if entropies else 0.0,
        "answered": answered / samples if samples else 0.0,
        "per_problem": {
            p: {
                "answers": sorted(support[p]["answers"]),
                "solutions": len(support[p]["solutions"]),
                "answer_entropy_bits": entropy_bits(support[p]["outcomes"]),
                "value_classes": len(support[p]["outcomes"]),
            }
            for p in problems
            if p in support
        },
    }


def pair_summary(base: dict[str, dict], other: dict[str, dict], problems: list[str]) -> dict:
    """Summed over problems: correct answers (and solutions) of the base the other lost, kept, and gained."""
    out: dict = {}
    for key in ("answers", "solutions"):
        lost = kept = gained = 0
        lost_in: list[str] = []
        for p in problems:
            a = base.get(p, {}).get(key, set())
            b = other.get(p, {}).get(key, set())
            lost, kept, gained = lost + len(a - b), kept + len(a & b), gained + len(b - a)
            if a - b:
                lost_in.append(p)
        out[key] = {"lost": lost, "kept": kept, "gained": gained, "problems_losing": lost_in}
    return out


def answer_support(stores: list[tuple[str, str | Path]], problems: list[str] | None = None) -> dict:
    """{'models': {label: summary}, 'pairs': [base vs each other]} for (label, store directory) pairs, the
    first the base; over `problems` (default: the first store's). Answers are classed by value under the
    first store's grader (see value_classes)."""
    from rlvr.evaluate.store import SampleStore

    opened = [(label, SampleStore.open_existing(path), path) for label, path in stores]
    rules = {label: store.rule for label, store, _ in opened}
    if len(set(rules.values())) > 1:
        named = ", ".join(
            f"{label}: {'--stop-at-correct ' + str(r.m) if r else 'uniform n'}" for label, r in rules.items()
        )
        raise ValueError(
            f"answer support counts distinct answers among the samples each model's estimate counts, which a "
            f"sequential rule changes ({named}); compare stores sampled under the same rule"
        )
    order = problems or [str(p["id"]) for p in opened[0][1].problems()]
    records = {label: store.counted_records() for label, store, _ in opened}  # under a rule, what it counts
    return answer_support_of(
        records,
        opened[0][1].meta,
        order,
        {label: token_entropy(path) for label, _, path in opened},
    )


def answer_support_of(
    records: dict[str, list[dict]],
    meta: dict,
    problems: list[str],
    token_entropies: dict[str, float | None] | None = None,
) -> dict:
    """answer_support() over sample records by label (the first the base), whichever records the caller
    counts; `meta` (a store's meta.json) names the grader, `problems` are the ids to count."""
    from rlvr.evaluate.answer_values import store_grader

    grader = store_grader(meta)
    wanted = set(problems)
    records = {label: [r for r in rs if str(r["problem"]) in wanted] for label, rs in records.items()}
    classes = value_classes(grader, [r for rs in records.values() for r in rs])
    supports = {label: per_problem(rs, classes) for label, rs in records.items()}
    models = {}
    for label, support in supports.items():
        models[label] = model_summary(support, problems)
        models[label]["token_entropy_nats"] = (token_entropies or {}).get(label)
    labels = list(supports)
    pairs = [
        {"base": labels[0], "other": label, **pair_summary(supports[labels[0]], supports[label], problems)}
        for label in labels[1:]
    ]
    return {"models": models, "pairs": pairs, "by": "value" if grader is not None else "canonical form"}


def _entropy_cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def support_rows(support: dict) -> list[list[str]]:
    rows = [
        [
            "model",
            "solved",
            "correct answers",
            "per solved",
            "correct solutions",
            "per solved",
            "answer entropy (bits)",
            "answered",
            "token entropy (nats)",
        ]
    ]
    for label, m in support["models"].items():
        rows.append(
            [
                label,
                f"{m['solved']}/{m['problems']}",
                str(m["correct_answers"]),
                f"{m['answers_per_solved']:.2f}",
                str(m["correct_solutions"]),
                f"{m['solutions_per_solved']:.2f}",
                f"{m['answer_entropy_bits']:.3f}",
                f"{m['answered'] * 100:.0f}%",
                _entropy_cell(m["token_entropy_nats"]),
            ]
        )
    return rows


def pair_rows(support: dict) -> list[list[str]]:
    rows = [["pair", "answers lost", "kept", "gained", "solutions lost", "kept", "gained"]]
    for pair in support["pairs"]:
        a, s = pair["answers"], pair["solutions"]
        rows.append(
            [f"{pair['other']} vs {pair['base']}"]
            + [str(a[k]) for k in ("lost", "kept", "gained")]
            + [str(s[k]) for k in ("lost", "kept", "gained")]
        )
    return rows


def support_findings(support: dict) -> list[str]:
    out = []
    for pair in support["pairs"]:
        a, s = pair["answers"], pair["solutions"]
        out.append(
            f"Answer support, {pair['other']} against {pair['base']}: of the base's distinct correct answers "
            f"(by {support.get('by', 'value')}) "
            f"{pair['other']} kept {a['kept']}, lost {a['lost']} and gained {a['gained']}; of its distinct correct "
            f"solutions it kept {s['kept']}, lost {s['lost']} and gained {s['gained']}."
        )
    return out
