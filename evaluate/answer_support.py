"""Answer support ("The Invisible Leash", 2025): which distinct correct answers, and which distinct correct
solutions, each model reaches on each problem, and which the RL model lost, kept or gained against the base.

A correct answer is told apart by the math grader's canonical form (`normalize_answer`, whitespace squeezed),
so `\\frac{1}{2}` and `\\dfrac{1}{2}` are one answer. A solution is the sample's text up to its last boxed
answer, lower-cased with whitespace squeezed. Answer entropy is the entropy (bits) of the canonical answers
of all samples of a problem (no answer counts as one outcome), averaged over problems: it sits beside the
token entropy of the sampling policy, when the store has one (entropy.json, written by the probe).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

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


def per_problem(records: list[dict]) -> dict[str, dict]:
    """pid -> {'answers': set of correct canonical answers, 'solutions': set of correct canonical solutions,
    'outcomes': Counter of every sample's canonical answer}."""
    out: dict[str, dict] = {}
    for record in records:
        entry = out.setdefault(
            str(record["problem"]), {"answers": set(), "solutions": set(), "outcomes": Counter()}
        )
        answer = canonical_answer(record.get("extracted"))
        entry["outcomes"][answer if answer is not None else NO_ANSWER] += 1
        if record.get("correct"):
            entry["answers"].add(answer if answer is not None else NO_ANSWER)
            entry["solutions"].add(canonical_solution(record["text"]))
    return out


def token_entropy(store_dir: str | Path) -> float | None:
    path = Path(store_dir) / ENTROPY_FILE
    return json.loads(path.read_text())["mean_token_entropy"] if path.exists() else None


def model_summary(support: dict[str, dict], problems: list[str]) -> dict:
    solved = [p for p in problems if support.get(p, {}).get("answers")]
    answers = [len(support[p]["answers"]) for p in solved]
    solutions = [len(support[p]["solutions"]) for p in solved]
    entropies = [entropy_bits(support[p]["outcomes"]) for p in problems if p in support]
    return {
        "problems": len(problems),
        "solved": len(solved),
        "correct_answers": sum(answers),
        "correct_solutions": sum(solutions),
        "answers_per_solved": sum(answers) / len(solved) if solved else 0.0,
        "solutions_per_solved": sum(solutions) / len(solved) if solved else 0.0,
        "answer_entropy_bits": sum(entropies) / len(entropies) if entropies else 0.0,
        "per_problem": {
            p: {
                "answers": sorted(support[p]["answers"]),
                "solutions": len(support[p]["solutions"]),
                "answer_entropy_bits": entropy_bits(support[p]["outcomes"]),
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
    first the base; over `problems` (default: the first store's)."""
    from rlvr.evaluate.store import SampleStore

    supports, order, rules = {}, problems, {}
    for label, path in stores:
        store = SampleStore.open_existing(path)
        rules[label] = store.rule
        supports[label] = (per_problem(store.counted_records()), token_entropy(path))
        if order is None:
            order = [str(p["id"]) for p in store.problems()]
    if len(set(rules.values())) > 1:
        named = ", ".join(
            f"{label}: {'--stop-at-correct ' + str(r.m) if r else 'uniform n'}" for label, r in rules.items()
        )
        raise ValueError(
            f"answer support counts distinct answers among the samples each model's estimate counts, which a "
            f"sequential rule changes ({named}); compare stores sampled under the same rule"
        )
    models = {}
    for label, (support, tokens) in supports.items():
        models[label] = model_summary(support, order)
        models[label]["token_entropy_nats"] = tokens
    labels = list(supports)
    pairs = [
        {"base": labels[0], "other": label, **pair_summary(supports[labels[0]][0], supports[label][0], order)}
        for label in labels[1:]
    ]
    return {"models": models, "pairs": pairs}


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
            f"{pair['other']} kept {a['kept']}, lost {a['lost']} and gained {a['gained']}; of its distinct correct "
            f"solutions it kept {s['kept']}, lost {s['lost']} and gained {s['gained']}."
        )
    return out
