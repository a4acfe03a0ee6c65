"""Answer support against hand-counted answer and solution sets of hand-built stores."""

from __future__ import annotations

import json
import math

from store_build import build_store

from rlvr.cli import main
from rlvr.evaluate.answer_support import answer_support, canonical_answer, canonical_solution

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
    assert b["per_problem"]["half"]["answers"] == ["0.5", "\\frac{1}{2}"]
    assert (
        b["per_problem"]["half"]["solutions"] == 3
    )  # "so \boxed{\frac..}", "so \boxed{\dfrac..}", "other way"
    assert (b["solved"], b["correct_answers"], b["correct_solutions"]) == (2, 3, 6)
    assert (r["solved"], r["correct_answers"], r["correct_solutions"]) == (2, 2, 2)
    # answer entropy (bits) per problem, averaged: base half {1/2: 2, 0.5: 1, 2: 1}, ten {10: 3, none: 1}, hard 0
    half = -(0.5 * math.log2(0.5) + 2 * 0.25 * math.log2(0.25))
    ten = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert math.isclose(b["answer_entropy_bits"], (half + ten + 0) / 3)
    pair = support["pairs"][0]
    # answers: half loses 0.5 keeps 1/2; ten loses 10; hard gains 7
    assert {k: pair["answers"][k] for k in ("lost", "kept", "gained")} == {"lost": 2, "kept": 1, "gained": 1}
    assert pair["answers"]["problems_losing"] == ["half", "ten"]
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
    assert "## Answer support" in md and "| rl vs base | 2 | 1 | 1 | 5 | 1 | 1 |" in md
    assert "Answer support" in (out / "report.html").read_text()
