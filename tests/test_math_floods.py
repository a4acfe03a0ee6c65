"""A completion that floods the text with boxes is read in one pass and refused before any verifier sees its
600,000-character answer; answers of ordinary length still go to math-verify."""

from __future__ import annotations

import pytest

from rlvr.rewards import MathReward
from rlvr.rewards.math_extract import boxed_answer, extract_answer
from rlvr.rewards.math_reward import MAX_ANSWER_CHARS

FLOOD = "\\boxed{1}" * 200_000


@pytest.fixture(scope="module")
def grader():
    return MathReward(timeout=5.0)


@pytest.mark.parametrize("mode", ["lenient", "strict"])
def test_two_hundred_thousand_boxes_are_one_run_of_that_many_parts(mode):
    answer = extract_answer(FLOOD, mode)
    assert answer == ", ".join(["1"] * 200_000)


def test_a_flood_scores_nothing_and_says_why(grader):
    grade = grader.grade([FLOOD, "Therefore \\boxed{1}."], ["1", "1"])
    assert (grade[0].verdict, grade[0].reward) == ("wrong", 0.0)
    assert f"an answer of {len('1, ' * 200_000) - 2} characters" in grade[0].detail
    assert grade[1].correct


def test_a_flood_of_distinct_boxes_is_no_lottery(grader):
    """Every candidate boxed at once is one long answer, never credit for the one that happens to be right."""
    flood = ", ".join(f"\\boxed{{{i}}}" for i in range(5_000))
    assert len(boxed_answer(flood)) > MAX_ANSWER_CHARS
    assert grader.grade([flood], ["4999"])[0].verdict == "wrong"


def test_a_long_gold_may_have_a_long_answer(grader):
    gold = "(" + ", ".join(str(i) for i in range(2_500)) + ")"
    assert len(gold) > MAX_ANSWER_CHARS
    assert grader.grade([f"The answer is $\\boxed{{{gold}}}$"], [gold])[0].correct
