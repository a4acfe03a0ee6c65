"""Answer support against hand-counted answer and solution sets of hand-built stores."""

from __future__ import annotations

import json
import math

from store_build import build_store

from rlvr.cli import main
from rlvr.evaluate.answer_support import (
    GOLD_CLASS,
    answer_support,
    canonical_answer,
    canonical_solution,
    pair_summary,
    per_problem,
    value_classes,
)

PROBLEMS = [
    {"id": "half", "prompt": "Q1", "problem": "Q1", "answer": "1/2"},
    {"id": "ten", "prompt": "Q2", "problem": "Q2", "answer": "10"},
    {"id": "hard", "prompt": "Q3", "problem": "Q3", "answer": "7"},
]
BASE = {
    # \frac and \dfrac are one canonical answer; 0.5 is another; two distinct solutions reach \frac{1}{2}
    "half": [
        ("so \\boxed{\\frac{1}{2}}", "\\frac{1}{2}", True),
        ("So  \\boxed{\\dfrac{1}{2}} extra words", "\\dfrac{1}{2}", True),
        ("other way \\boxed{0.5}", "0.5", True),
        ("wrong \\boxed{2}", "2", False),
    ],
    "ten": [
        ("a \\boxed{10}", "10", True),
        ("b \\boxed{10}", "10", True),
        ("c \\boxed{10}", "10", True),
        ("no answer", None, False),
    ],
    "hard": [("x \\boxed{1}", "1", False)] * 4,
}
RL = {
    "half": [("so \\boxed{\\frac{1}{2}}", "\\frac{1}{2}", True)] * 4,
    "ten": [("wrong \\boxed{9}", "9", False)] * 4,
    "hard": [("y \\boxed{7}", "7", True)] + [("x \\boxed{1}", "1", False)] * 3,
}


def test_canonical_forms():
    assert canonical_answer("\\dfrac{1}{2}") == canonical_answer("\\frac{1}{2}") == "\\frac{1}{2}"
    assert canonical_answer("1,000") == "1000"
    assert canonical_answer(None) is None
    assert canonical_solution("So  \\boxed{\\dfrac{1}{2}} extra") == "so \\boxed{\\dfrac{1}{2}}"


def test_answer_support_matches_hand_counts(tmp_path):
    base = build_store(tmp_path / "base", PROBLEMS, BASE, "base")
    rl = build_store(tmp_path / "rl", PROBLEMS, RL, "rl")
    support = answer_support([("base", base), ("rl", rl)])
    b, r = support["models"]["base"], support["models"]["rl"]
    # \frac{1}{2}, \dfrac{1}{2} and 0.5 are correct for gold 1/2: one value, the gold's
    assert b["per_problem"]["half"]["answers"] == [GOLD_CLASS]
    assert (
        b["per_problem"]["half"]["solutions"] == 3
    )  # "so \boxed{\frac..}", "so \boxed{\dfrac..}", "other way"
    assert (b["solved"], b["correct_answers"], b["correct_solutions"]) == (2, 2, 6)
    assert (r["solved"], r["correct_answers"], r["correct_solutions"]) == (2, 2, 2)
    # answer entropy (bits) by value over the samples that answer, averaged over problems:
    # half {1/2: 3, 2: 1}, ten {10: 3} (the sample without an answer is left out), hard {1: 4}
    half = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert math.isclose(b["answer_entropy_bits"], (half + 0 + 0) / 3)
    assert math.isclose(b["answered"], 11 / 12)
    pair = support["pairs"][0]
    # answers by value: half kept, ten lost, hard gained
    assert {k: pair["answers"][k] for k in ("lost", "kept", "gained")} == {"lost": 1, "kept": 1, "gained": 1}
    assert pair["answers"]["problems_losing"] == ["ten"]
    # solutions: base half 3 (rl keeps "so \boxed{\frac{1}{2}}"), ten 3 lost; hard 1 gained
    assert {k: pair["solutions"][k] for k in ("lost", "kept", "gained")} == {
        "lost": 5,
        "kept": 1,
        "gained": 1,
    }


def test_compare_writes_answer_support(tmp_path, capsys):
    base = build_store(tmp_path / "base", PROBLEMS, BASE, "base")
    rl = build_store(tmp_path / "rl", PROBLEMS, RL, "rl")
    out = tmp_path / "report"
    assert main(["compare", str(base), str(rl), "--out", str(out), "--resamples", "50", "--se-k", "4"]) == 0
    coverage = json.loads((out / "coverage.json").read_text())
    assert coverage["answer_support"]["pairs"][0]["answers"]["gained"] == 1
    md = (out / "report.md").read_text()
    assert "## Answer support" in md and "| rl vs base | 1 | 1 | 1 | 5 | 1 | 1 |" in md
    assert "Answer support" in (out / "report.html").read_text()


# Two stores where spelling and value disagree (4 samples per problem). By spelling the RL model keeps 4 of the
# base's correct answers, loses 4 and gains 3:
#   half: base {\frac12, 0.50}, rl {\frac12, 1/2}   kept 1 (\frac12), lost 1 (0.50), gained 1 (1/2)
#   three: base {3, 3.0},      rl {3, 3.0, 03}     kept 2, lost 0, gained 1 (03)
#   ten: base {10, 10.00},     rl {10, 10.0}       kept 1, lost 1 (10.00), gained 1 (10.0)
#   seven: base {7, 7.0},      rl {}               lost 2
# By value each problem has one correct answer, the gold's: kept 3 (half, three, ten), lost 1 (seven), gained 0.
VALUE_PROBLEMS = [
    {"id": "half", "prompt": "Q1", "answer": "1/2"},
    {"id": "three", "prompt": "Q2", "answer": "3"},
    {"id": "ten", "prompt": "Q3", "answer": "10"},
    {"id": "seven", "prompt": "Q4", "answer": "7"},
]


def _rows(answers: list[tuple[str | None, bool]]) -> list[tuple]:
    return [(f"so \\boxed{{{a}}}" if a else "no answer", a, ok) for a, ok in answers]


# Every base problem: two spellings of the gold (one twice) and one wrong value, so by spelling {2, 1, 1}
# (1.5 bits) and by value {3, 1} (0.811 bits).
VALUE_BASE = {
    "half": _rows([("\\frac12", True), ("\\frac12", True), ("0.50", True), ("2", False)]),
    "three": _rows([("3", True), ("3", True), ("3.0", True), ("5", False)]),
    "ten": _rows([("10", True), ("10", True), ("10.00", True), ("12", False)]),
    "seven": _rows([("7", True), ("7", True), ("7.0", True), ("9", False)]),
}
# The RL model's garbage (`::::`, `?!`) and missing answers are no answers: 10 of its 16 samples answer.
VALUE_RL = {
    "half": _rows([("\\frac12", True), ("1/2", True), ("::::", False), (None, False)]),
    "three": _rows([("3", True), ("3.0", True), ("03", True), ("?!", False)]),
    "ten": _rows([("10", True), ("10.0", True), ("11", False), (None, False)]),
    "seven": _rows([("8", False), ("8.0", False), ("::::", False), (None, False)]),
}


def test_answer_support_counts_values_not_spellings(tmp_path):
    base = build_store(tmp_path / "base", VALUE_PROBLEMS, VALUE_BASE, "base")
    rl = build_store(tmp_path / "rl", VALUE_PROBLEMS, VALUE_RL, "rl")
    order = [p["id"] for p in VALUE_PROBLEMS]
    by_spelling = pair_summary(
        per_problem([r for r in _records(base)]), per_problem([r for r in _records(rl)]), order
    )["answers"]
    assert (by_spelling["kept"], by_spelling["lost"], by_spelling["gained"]) == (4, 4, 3)
    spelled = -(0.5 * math.log2(0.5) + 2 * 0.25 * math.log2(0.25))
    assert spelled == 1.5

    support = answer_support([("base", base), ("rl", rl)])
    assert support["by"] == "value"
    by_value = support["pairs"][0]["answers"]
    assert (by_value["kept"], by_value["lost"], by_value["gained"]) == (3, 1, 0)
    assert by_value["problems_losing"] == ["seven"]
    b, r = support["models"]["base"], support["models"]["rl"]
    assert b["correct_answers"] == 4 and b["answers_per_solved"] == 1.0
    assert round(b["answer_entropy_bits"], 2) == 0.81  # H(3/4, 1/4) on every problem
    assert math.isclose(b["answer_entropy_bits"], -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25)))
    # rl by value: half {1/2: 2}, three {3: 3}, ten {10: 2, 11: 1}, seven {8: 2}
    ten = -(2 / 3 * math.log2(2 / 3) + 1 / 3 * math.log2(1 / 3))
    assert math.isclose(r["answer_entropy_bits"], ten / 4)
    assert math.isclose(r["answered"], 10 / 16)
    assert r["per_problem"]["seven"]["value_classes"] == 1  # 8 and 8.0


def _records(store):
    from rlvr.evaluate.store import SampleStore

    return SampleStore.open_existing(store).records()


def test_value_classes_follow_the_graders_equivalence():
    from rlvr.rewards import get_reward

    wrong = ["\\frac12", "1/2", "0.50", "3", "3.0", "03", "::::", "x+1", "1+x", "2x"]
    records = [{"problem": "p", "extracted": a, "correct": False} for a in wrong]
    records.append({"problem": "p", "extracted": "7", "correct": True})
    classes = value_classes(get_reward("math"), records)
    label = {a: classes[("p", a)] for a in wrong + ["7"]}
    assert label["\\frac12"] == label["1/2"] == label["0.50"]
    assert label["3"] == label["3.0"] == label["03"] != label["1/2"]
    assert label["x+1"] == label["1+x"] != label["2x"]  # asked of the grader: not plain numbers
    assert label["::::"] is None  # no value the grader can read
    assert label["7"] == GOLD_CLASS
    assert len({v for v in label.values() if v is not None}) == 5  # 1/2, 3, x+1, 2x, the gold
