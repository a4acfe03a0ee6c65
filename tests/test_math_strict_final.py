"""A guess is not a solution: what the math graders pay for a final answer, graded as a person would.

Degenerate completions (an untrained model's, a base model's at large k) were paid for the right side of a
false or malformed equation; restatement refusal had residual misses both ways. Each case's expected verdict
is the one a person gives it by reading, not an earlier output of the grader.
"""

from __future__ import annotations

import pytest

from rlvr.rewards import get_reward
from rlvr.rewards.math_equation import claims, is_name
from rlvr.rewards.math_extract import extract_answer

MODES = ("math", "math_strict")


@pytest.fixture(scope="module", params=MODES)
def grader(request):
    return get_reward(request.param)


# (completion, gold): garbage, false or malformed equations: never paid
GARBAGE = [
    (":::: 5 * 4 = 2", "2"),
    (":::: 2 * 5 =  *", "10"),
    ("the the 12 = = 4", "4"),
    (r"\boxed{8 = 7}", "7"),
    (r"The answer is $3 + 4 = 8$.", "8"),
    (r"\boxed{2 \cdot 5 = 11}", "11"),
    ("5 * 4 = 2", "2"),
    ("2 * 5 = ", "10"),
    ("\x0b\ufffd 6\ufffd\x07 59", "6"),  # random bytes around a number: no answer stated
]
# (completion, gold): real answers written as equations or assignments: still paid
ANSWERS = [
    (r"\boxed{x = 7}", "7"),
    ("n = 7", "7"),
    (r"\boxed{3 + 4 = 7}", "7"),
    (r"The answer is $x = 3 + 4 = 7$.", "7"),
    (r"\boxed{AB = 5}", "5"),
    (r"\boxed{f(2) = 9}", "9"),
    (r"\boxed{a + b + c + d = 0}", "0"),  # states what a quantity equals
    (r"\boxed{(x, y) = (5, 8)}", "(5, 8)"),
    (r"\boxed{17 \bmod 5 = 2}", "2"),
    ("#### 72", "72"),
    ("Answer: 12", "12"),
    (r"\boxed{y = 2x + 3}", "y = 2x + 3"),  # a gold that is an equation is compared as one
]


@pytest.mark.parametrize(("completion", "gold"), GARBAGE)
def test_garbage_and_false_equations_are_not_paid(grader, completion, gold):
    grade = grader.grade([completion], [gold])[0]
    assert grade.verdict in ("wrong", "no_answer"), grade


@pytest.mark.parametrize(("completion", "gold"), ANSWERS)
def test_answers_written_as_equations_are_paid(grader, completion, gold):
    assert grader.grade([completion], [gold])[0].correct


def test_a_false_equation_says_why():
    grade = get_reward("math_strict").grade([r"\boxed{8 = 7}"], ["7"])[0]
    assert (grade.verdict, grade.detail) == ("wrong", "an equation that does not hold: 8 = 7")
    malformed = get_reward("math").grade(["the the 12 = = 4"], ["4"])[0]
    assert malformed.verdict == "wrong" and "malformed" in malformed.detail


def test_what_an_equation_claims():
    assert claims("8 = 7") == [("8", "7")]
    assert claims("x = 3 + 4 = 7") == [("3 + 4", "7")]  # the name is dropped, the rest must hold
    assert claims("x = 7") == []
    assert claims("a + b = 5") == []  # variables: a statement, not a numeric claim
    assert claims("12 = = 4") is None
    assert claims(r"x = 3 \text{ or } x = 5") == []
    assert claims("2 <= 3") == [] and claims(r"x \geq 5") == []
    assert is_name("x") and is_name("a_1") and is_name("AB") and is_name("f(2)") and not is_name("5 * 4")


@pytest.mark.parametrize(
    ("text", "strict"),
    [
        ("We have 5 * 4 = 20. Then 20 + 1 = 21.", None),  # work shown, no answer stated
        (" 2 * 1 = 2. 2 + 3 = 5.", None),
        ("With $d = 3$ there are 12 such sequences.", None),  # a formula in passing
        ("We have $ab + 5 = ab + 5$, so w", None),  # a truncated solution
        ("This gives $(26+24)(26-24)$. This simplifies t", None),
        ("The answer is 12.", "12"),
        ("Thus the total is 12.", "12"),
        (r"The identity matrix is $I$.", "I"),  # a formula that ends the text
        (r"so \boxed{7}", "7"),
    ],
)
def test_strict_reads_only_a_stated_final_answer(text, strict):
    assert extract_answer(text, "strict") == strict


def test_lenient_takes_the_equation_a_prose_number_closes():
    """Lenient reads the last number of prose; when that number ends an equation the equation must hold."""
    assert extract_answer("so 5 * 4 = 20", "lenient") == "5 * 4 = 20"
    assert extract_answer("the the 12 = = 4", "lenient") == "12 = = 4"
    assert extract_answer("It costs 3 dollars, then 4 more, so 7", "lenient") == "7"
    graded = get_reward("math").grade(["so 5 * 4 = 20", "so 5 * 4 = 21"], ["20", "21"])
    assert [g.verdict for g in graded] == ["correct", "wrong"]
