"""An answer copied from its problem (`\\boxed{3 + 4 * 2}` for "Compute 3 + 4 * 2.") scores nothing, in training
and in evaluation; answers that merely agree with the problem's text keep their credit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlvr.rewards import MathReward

COPIES = [json.loads(line) for line in (Path(__file__).parent / "data" / "math500_copies.jsonl").open()]

# (prompt, gold, completion): math-verify evaluates each copy to the gold
RESTATED = [
    ("Compute 3 + 4 * 2.", "11", r"The answer is \boxed{3 + 4 * 2}."),
    ("Compute 3 + 4 * 2.", "11", r"\boxed{3 + 4 \times 2}"),  # the same expression, spelled otherwise
    ("Compute 3 + 4 * 2.", "11", r"\boxed{(3+4*2)}"),  # wrapped
    ("Compute 3 + 4 * 2.", "11", r"\boxed{x = 3 + 4 * 2}"),  # assigned
    ("Compute 3 + 4 * 2.", "11", r"\boxed{3+4*2 = 3+4*2}"),  # a chain is judged by its last side
    ("Compute $\\dbinom{31}{28}$.", "4495", r"\boxed{\binom{31}{28}}"),
    ("Simplify $\\sqrt{242}$.", "11\\sqrt2", r"\boxed{\sqrt{242}}"),
    ("Evaluate $\\left(\\frac{1}{2}\\right)^{-2}$.", "4", r"\boxed{\left(\frac12\right)^{-2}}"),
    # the same tree up to the order and grouping of + and x, and neutral terms
    ("What is $3 + 4$?", "7", r"\boxed{4+3}"),
    ("What is $3 + 4$?", "7", r"\boxed{3 + 4 + 0}"),
    ("What is $3 + 4$?", "7", r"\boxed{1 \cdot (4 + 3)}"),
    ("Compute 3 + 4 * 2.", "11", r"\boxed{2 \times 4 + 3}"),
    ("Compute $2 \\cdot 3 \\cdot 7$.", "42", r"\boxed{7 \cdot (3 \cdot 2)}"),
    ("Expand $(x+1)^2$.", "x^2+2x+1", r"\boxed{(1+x)^2}"),
    # brackets, spacing and LaTeX that change nothing math-verify reads
    ("What is $3 + 4$?", "7", r"\boxed{(3)+(4)}"),
    ("What is $3 + 4$?", "7", r"\boxed{03+4}"),
    ("What is $3 + 4$?", "7", r"\boxed{\{3+4\}}"),
    ("What is $3 + 4$?", "7", r"\boxed{3+4 \quad}"),
    ("What is $3 + 4$?", "7", r"\boxed{\sum 3+4}"),
    ("What is $3 + 4$?", "7", r"\boxed{\frac{4+3}{1}}"),
    ("Compute $\\dbinom{8}{4}$.", "70", r"\boxed{{8 \choose 4}}"),
    ("Compute $\\dbinom{8}{4}$.", "70", r"\boxed{\binom{8}{4}+0}"),
    ("Evaluate $\\log_2 64$.", "6", r"\boxed{\log_2(64)}"),
    ("Evaluate $\\left\\lceil 3.7 \\right\\rceil$.", "4", r"\boxed{\lceil 3.7\rceil+0}"),
    ("Find $\\sqrt{8}/2$.", "\\sqrt{2}", r"\boxed{\frac{\sqrt{8}}{2}}"),
    ("Expand $(x+1)^2 - 2x$.", "x^2+1", r"\boxed{-2x+(x+1)^2}"),  # - 2x and -2x are one term
    # numbers only: arithmetic on a piece of the prompt computes nothing new
    ("What is $3 + 4$?", "7", r"\boxed{3+4+1-1}"),
    ("What is $3 + 4$?", "7", r"\boxed{3+4+0i}"),
    ("What is $3 + 4$?", "7", r"\boxed{(3+4)\cdot\frac{2}{2}}"),
    ("What is $2^{10} - 24$?", "1000", r"\boxed{2^{10} - 24}"),
    # sizing commands, neutral terms written first, roots in another order, a renamed summation index
    ("What is $3 + 4$?", "7", r"\boxed{\textstyle 3+4}"),
    ("Compute $\\dbinom{8}{4}$.", "70", r"\boxed{0+\dbinom{8}{4}}"),
    ("Compute $\\dbinom{8}{4}$.", "70", r"\boxed{1\cdot\dbinom{8}{4}}"),
    ("Compute $\\sqrt{3}\\cdot\\sqrt{12}$.", "6", r"\boxed{\sqrt{12}\sqrt{3}}"),
    ("Compute $\\sum_{n=1}^{10} n^2$.", "385", r"\boxed{\sum_{k=1}^{10} k^2}"),
]
# (prompt, gold, completion): right answers, some of them written in the prompt
ANSWERED = [
    ("Compute 3 + 4 * 2.", "11", r"\boxed{11}"),
    ("Compute 3 + 4 * 2.", "11", r"\boxed{3 + 4 * 2 = 11}"),
    ("Which is larger, $2^{10}$ or $10^3$?", "2^{10}", r"\boxed{2^{10}}"),  # the gold itself
    ("Which is larger, $2^{10}$ or $10^3$?", "2^{10}", r"\boxed{1024}"),
    (
        "Which is larger, $\\frac{1}{2}$ or $\\frac{1}{3}$?",
        "\\frac{1}{2}",
        r"\boxed{\dfrac12}",
    ),  # the gold, respelled
    ("Simplify $\\sqrt{242}$.", "11\\sqrt2", r"\boxed{11\sqrt{2}}"),
    (
        "Which grade? $9^{\\mathrm{th}}$ or $12^{\\mathrm{th}}$",
        "12",
        r"\boxed{12^{\mathrm{th}}}",
    ),  # an ordinal
    ("What is $-5 + 3$?", "-2", r"\boxed{-2}"),
    ("What is $3 + 4$?", "7", r"\boxed{7}"),
    ("What is $3 + 4$?", "7", r"\boxed{7 + 0}"),
    ("Expand $(x+1)^2$.", "x^2+2x+1", r"\boxed{1 + 2x + x^2}"),  # the gold, reordered
    ("Write $x + 1$ with its terms swapped.", "1 + x", r"\boxed{x + 1}"),  # the gold's tree
    # with names an answer may hold a piece of the prompt and still be the work done
    ("Let $f(x) = x^2 + 1$. Find $f(x) + 2x$.", "x^2+2x+1", r"\boxed{x^2 + 1 + 2x}"),
    ("What is $2^{10} - 24$?", "1000", r"\boxed{10^3}"),
    ("What is $2^{10} - 24$?", "1000", r"\boxed{1024 - 24}"),  # 2^10 computed
    ("Find $\\sqrt{8}/2$.", "\\sqrt{2}", r"\boxed{\frac{2}{\sqrt{2}}}"),
    # a value inside a longer number is no quote; units and degrees are no operations
    ("A \\$250 TV is 10\\% off. What is the discount in dollars?", "25", r"\boxed{\$25}"),
    ("What is the complement of $85^\\circ$?", "5", r"\boxed{5^\circ}"),
    ("A $12\\text{ cm}$ rod loses $5\\text{ cm}$. How long is it now?", "7", r"\boxed{7\text{ cm}}"),
    ("What is $12^2 - 140$?", "4", r"\boxed{2^2}"),  # 2^2 is no quote of 12^2
    ("Compute $\\sqrt{3}\\cdot\\sqrt{12}$.", "6", r"\boxed{6}"),
    ("Compute $\\sum_{n=1}^{10} n^2$.", "385", r"\boxed{385}"),
]


@pytest.fixture(scope="module")
def grader():
    return MathReward()


@pytest.mark.parametrize(("prompt", "gold", "completion"), RESTATED)
def test_a_copied_expression_is_wrong_though_it_evaluates_to_the_gold(grader, prompt, gold, completion):
    blind, seen = grader.grade([completion] * 2, [gold] * 2, [None, prompt])
    assert blind.correct  # math-verify alone credits the copy
    assert (seen.verdict, seen.detail) == ("wrong", "restates the problem")


@pytest.mark.parametrize(("prompt", "gold", "completion"), ANSWERED)
def test_answers_that_agree_with_the_prompt_keep_their_credit(grader, prompt, gold, completion):
    assert grader.grade([completion], [gold], [prompt])[0].correct


def test_trl_reward_reads_conversational_prompts(grader):
    prompts = [
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Compute $17 \\cdot 23$."}]
    ] * 2
    completions = [
        [{"role": "assistant", "content": text}] for text in (r"\boxed{17 \cdot 23}", r"\boxed{391}")
    ]
    assert grader(prompts=prompts, completions=completions, answer=["391", "391"]) == [0.0, 1.0]


def test_prompts_must_match_the_completions(grader):
    with pytest.raises(ValueError, match="1 prompts"):
        grader.grade(["\\boxed{1}", "\\boxed{2}"], ["1", "2"], ["Compute 1."])


def test_evaluation_grades_with_the_stored_prompt():
    """`rlvr eval` and `regrade` grade through grade_records, which hands the prompt to graders that take it."""
    from rlvr.evaluate.grading import grade_records

    problems = {"p": {"id": "p", "prompt": "Question: Compute 6 * 7.\nAnswer:", "answer": "42"}}
    records = [{"problem": "p", "text": r" \boxed{6 * 7}"}, {"problem": "p", "text": r" \boxed{42}"}]
    grade_records(MathReward(), records, problems)
    assert [r["verdict"] for r in records] == ["wrong", "correct"]


def test_math500_copies_score_nothing_and_its_solutions_still_score(grader):
    """MATH-500 (HuggingFaceH4's 500 problems): on 36 of them plain math-verify credits a piece of the problem
    copied into the box. The copies read by hand as work left undone are wrong with the prompt; values quoted
    from the problem (a pick such as "6") keep what math-verify gives them, and every official solution of
    those problems stays right."""
    assert len({c["unique_id"] for c in COPIES}) == 36
    responses = [f"So the answer is $\\boxed{{{c['copied']}}}$." for c in COPIES]
    golds, prompts = [c["answer"] for c in COPIES], [c["problem"] for c in COPIES]
    blind = grader.grade(responses, golds)
    seen = grader.grade(responses, golds, prompts)
    assert all(g.correct for g in blind)
    verdicts = {(c["unique_id"], c["copied"]): g.verdict for c, g in zip(COPIES, seen)}
    assert {k: v for k, v in verdicts.items() if v != "wrong"} == {
        (c["unique_id"], c["copied"]): "correct" for c in COPIES if c["label"] == "picks"
    }
    problems = {c["unique_id"]: c for c in COPIES}.values()
    solved = grader.grade(
        [p["solution"] for p in problems], [p["answer"] for p in problems], [p["problem"] for p in problems]
    )
    assert all(g.correct for g in solved)
