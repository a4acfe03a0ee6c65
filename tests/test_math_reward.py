"""The math grader: extraction, equivalence both ways, robustness to anything a model writes."""

from __future__ import annotations

import threading
import time

import pytest

from rlvr.rewards import MathReward, get_reward
from rlvr.rewards.math_extract import extract_answer, last_boxed
from rlvr.rewards.math_normalize import normalize_answer

# (gold, model's final answer): must be accepted
ACCEPT = [
    ("0.5", r"\frac{1}{2}"),
    (r"\frac{1}{2}", r"\dfrac{1}{2}"),
    (r"\frac{1}{2}", r"\tfrac12"),
    ("1/2", "0.5"),
    ("3", "x = 3"),
    ("3", "x=3"),
    ("5", r"5\text{ cm}"),
    ("5", r"5 \text{ cm}^2"),
    ("10", r"10 \text{ dollars}"),
    ("5", r"5 \mbox{ cm}"),
    ("90", r"90^\circ"),
    ("90", r"90^{\circ}"),
    ("1000", "1,000"),
    ("1234567", "1,234,567"),
    ("50", r"50\%"),
    (r"50\%", "50"),
    ("0.5", r"50\%"),
    (r"(1,2)", r"\left(1,2\right)"),
    (r"\left( 3, -1 \right)", "(3,-1)"),
    (r"\sqrt{2}/2", r"\frac{\sqrt2}{2}"),
    (r"\frac{\sqrt{3}}{3}", r"\frac{1}{\sqrt{3}}"),
    ("2", "2.0"),
    ("2", "2.000"),
    ("-7", "-7"),
    (r"\pi", r"\pi"),
    (r"2\pi", r"2 \pi"),
    (r"\frac{\pi}{2}", r"\pi/2"),
    (r"\$5", "5"),
    ("5", r"\$5"),
    (r"x^2+2x+1", r"(x+1)^2"),
    (r"2x+3", r"3+2x"),
    (r"\{1,2,3\}", r"\{3,2,1\}"),
    (r"[1,2]", r"[1, 2]"),
    (r"3\sqrt{2}", r"\sqrt{18}"),
    (r"\frac{3}{4}", "0.75"),
    ("12", "12."),
    (r"10^{3}", "1000"),
    (r"e^{2}", r"e^2"),
    ("1.5", r"\frac32"),
    (r"\infty", r"\infty"),
    ("y = 2x + 1", "y=2x+1"),
    (r"\frac{7}{2}", "3.5"),
    # small values, exactly or to a relative 1e-5
    ("0.0000004", r"4 \times 10^{-7}"),
    ("0.0000004", r"\frac{4}{10^{7}}"),
    ("0.00000123", "0.0000012300"),
    (r"\frac{1}{3}", "0.333333"),  # a gold of 0.05 or more keeps math-verify's 6 places
    ("0", "0.0"),
]

# (gold, model's final answer): must be rejected
REJECT = [
    ("3x+4y+14=0", "3*x-1*y+13=0"),
    ("2", "3"),
    ("0.5", "0.6"),
    (r"\frac{1}{2}", r"\frac{1}{3}"),
    ("1000", "100"),
    ("-7", "7"),
    (r"\sqrt{2}", "2"),
    (r"(1,2)", r"(2,1)"),
    ("90", "180"),
    (r"\pi", "3"),
    (r"x^2+1", r"(x+1)^2"),
    ("50", "5"),
    ("12", "121"),
    (r"\frac{3}{4}", "0.7"),
    (r"2\pi", r"\pi"),
    (r"\{1,2,3\}", r"\{1,2\}"),
    ("1,000", "1"),
    ("10", "10.5"),
    (r"e^{2}", r"e^3"),
    ("y = 2x + 1", "y=2x-1"),
    (r"\infty", "0"),
    # math-verify rounds to 6 decimal places: one fixed guess would score on every small gold
    ("0.0000004", "0"),
    ("0.0000004", "0.0"),
    ("0.000000032", r"\frac{0}{1}"),
    ("0.00000123", "0.000001"),
    ("0.0000014", "0.0000012"),
    ("0.0000002", "0.0000001"),
    ("0", "0.0000001"),
    # a `$` inside the box would make each side of it a candidate: one box, two answers
    ("7", r"8 \text{$7$}"),
    ("7", r"8 \text{ or } $7$"),
]


@pytest.fixture(scope="module")
def grader() -> MathReward:
    return MathReward(mode="lenient")


def test_enough_cases():
    assert len(ACCEPT) + len(REJECT) >= 60


@pytest.mark.parametrize(("gold", "pred"), ACCEPT)
def test_accepts_equivalent_answers(grader, gold, pred):
    grade = grader.grade([f"So the answer is \\boxed{{{pred}}}."], [gold])[0]
    assert grade.verdict == "correct", (gold, pred, grade)


@pytest.mark.parametrize(("gold", "pred"), REJECT)
def test_rejects_different_answers(grader, gold, pred):
    grade = grader.grade([f"Therefore \\boxed{{{pred}}}"], [gold])[0]
    assert grade.verdict != "correct", (gold, pred, grade)


def test_boxed_extraction_handles_nested_braces_and_fbox():
    assert last_boxed(r"first \boxed{1} then \boxed{\frac{a}{b^{2}}}") == r"\frac{a}{b^{2}}"
    assert last_boxed(r"\fbox{42} done") == "42"
    assert last_boxed(r"\boxed{unclosed") is None
    assert last_boxed(r"\boxed 7") == "7"


@pytest.mark.parametrize(
    ("text", "lenient", "strict"),
    [
        (r"so \boxed{12}", "12", "12"),
        # an answer the text declares is read in both modes; a number in passing only by lenient
        ("Thus, the answer is 42.", "42", "42"),
        ("The answer is: $\\frac{1}{2}$\n", "\\frac{1}{2}", "\\frac{1}{2}"),
        ("Natalia sold 48 clips.\n#### 72", "72", "72"),
        ("Final Answer: The final answer is $7$. I hope it is correct.", "7", "7"),
        ("I computed 3 then 5 and finally 8", "8", None),
        # the closing sentence declares an answer when it concludes or ends on "is <number>"
        ("P(A) = (1/2) / (3/4). Therefore, the probability is 2/3. <|im_start|>user", "2/3", "2/3"),
        ("Thus there are 12 such sequences. I hope it is correct.", "12", "12"),
        ("it is not 10, it's 1,000.99m\u00b2", "1,000.99", "1,000.99"),
        ("x = 3. So we add 4 to get y.", "4", None),
        # a formula is read whole, never a digit out of it
        ("so $x = \\frac{2}{3}$ of the cake", "x = \\frac{2}{3}", "x = \\frac{2}{3}"),
        ("We get $10^3$ here", "10^3", "10^3"),
        # lenient: the rightmost of the last formula and the last number outside formulas; strict reads a
        # formula only where it ends the text (a few words after it at most)
        ("With $d = 3$ there are 12 such sequences.", "12", None),
        ("no numbers here", None, None),
        ("", None, None),
    ],
)
def test_extraction_modes(text, lenient, strict):
    assert extract_answer(text, "lenient") == lenient
    assert extract_answer(text, "strict") == strict


def test_strict_mode_does_not_credit_unboxed_guesses():
    strict, lenient = get_reward("math_strict"), get_reward("math")
    completions, answers = ["We add 2 and 5 to get 7 apples, then check the units"], ["7"]
    assert lenient(completions=completions, answer=answers) == [1.0]
    assert strict(completions=completions, answer=answers) == [0.0]
    assert strict.grade(completions, answers)[0].verdict == "no_answer"


def test_normalisation_forms():
    assert normalize_answer(r"\left( 1, 2 \right)") == "( 1, 2 )"
    assert normalize_answer(r"\dfrac{3}{4}") == r"\frac{3}{4}"
    assert normalize_answer(r"12\text{ inches}") == "12"
    assert normalize_answer("1,234") == "1234"
    assert normalize_answer("(1,234)") == "(1,234)"
    assert normalize_answer(r"45^\circ") == "45"
    assert normalize_answer("x = 3") == "3"
    assert normalize_answer(r"50\%") == "50"
    assert normalize_answer("28 pct") == normalize_answer("28 percent") == "28"
    assert normalize_answer("32, 349") == "32, 349"  # a list, not a thousands separator
    assert normalize_answer(r"(5, 8) \quad \text{and} \quad (8, 5)") == "(5, 8), (8, 5)"


def test_trl_signature_with_conversational_completions(grader):
    completions = [
        [{"role": "assistant", "content": "\\boxed{4}"}],
        [{"role": "assistant", "content": "\\boxed{5}"}],
    ]
    rewards = grader(
        prompts=[[{"role": "user", "content": "2+2?"}]] * 2, completions=completions, answer=["4", "4"]
    )
    assert rewards == [1.0, 0.0]


def test_missing_answer_column_is_a_clear_error(grader):
    with pytest.raises(KeyError, match="answer"):
        grader(prompts=["q"], completions=["\\boxed{1}"])


PATHOLOGICAL = [
    r"\boxed{9^{9^{9^{9}}}}",
    r"\boxed{1000000!}",
    r"\boxed{9^{9^{99999}}}",
    "\\boxed{" + "{" * 50_000 + "1" + "}" * 50_000 + "}",
    "{" * 100_000,
    "",
    "\x00\xff\xfe binary \x1b[31m junk \ud800",
]


def test_pathological_answers_end_in_a_verdict_not_a_hang():
    """The wall-clock limit ends each one; the bound below only tells a hang from a return (never a speed check:
    a loaded machine may take several times the limit to kill and respawn a worker)."""
    limit = 2.0
    grader = MathReward(timeout=limit)
    grader.grade(["\\boxed{2+3}"], ["5"])  # the pool's start (sympy imports) is not what is timed
    for text in PATHOLOGICAL:
        start = time.monotonic()
        grade = grader.grade([text], ["5"])[0]
        elapsed = time.monotonic() - start
        assert elapsed < 30 * limit, (text[:40], elapsed)
        assert grade.verdict in {"wrong", "timeout", "error", "no_answer"}
    # the pool still answers after its workers were killed
    assert grader.grade(["\\boxed{5}", "\\boxed{2+3}"], ["5", "5"])[1].verdict == "correct"


def test_timeout_is_a_verdict_not_a_crash():
    grade = MathReward(timeout=1.0).grade([r"\boxed{9^{9^{99999}}}"], ["3"])[0]
    assert grade.verdict == "timeout"
    assert grade.reward == 0.0


def test_works_from_threads():
    grader = MathReward()
    results: list = []

    def worker(i: int) -> None:
        results.append(grader.grade([f"\\boxed{{{i}/2}}"], [str(i / 2)])[0].verdict)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["correct"] * 6


def test_identical_pairs_are_verified_once():
    grader = MathReward()
    grader.grade(["\\boxed{\\frac{2}{4}}"] * 50 + ["\\boxed{0.25}"] * 50, ["0.5"] * 100)
    assert len(grader._cache) == 2


def test_integer_pairs_are_settled_without_a_worker_as_math_verify_settles_them():
    """Two plain integers never reach the pool, and the verdict is math-verify's own on the same pair."""
    import random

    from rlvr.rewards._math_worker import _verify
    from rlvr.rewards.math_pool import shared_pool

    rng = random.Random(0)
    pairs = [
        ("7", "007"),
        ("5", "+5"),
        ("0", "-0"),
        ("-3", "3"),
        ("-05", "-5"),
        ("10", "010"),
        ("123456789012345", "123456789012346"),
        ("999999999999999", "999999999999999 "),
    ]
    for _ in range(40):
        a = rng.choice([rng.randint(-20, 20), rng.randint(-(10**6), 10**6), rng.randint(0, 10**15 - 1)])
        pairs.append((str(a), str(a + rng.choice([0, 1, -1, rng.randint(-1000, 1000)]))))
    grader = MathReward(workers=3, timeout=7.0)  # a pool of its own, to see that it never starts
    grades = grader.grade([f"\\boxed{{{pred}}}" for _, pred in pairs], [gold for gold, _ in pairs])
    assert shared_pool(3, 7.0)._workers == []
    assert [g.correct for g in grades] == [_verify(gold, pred.strip()) for gold, pred in pairs]
    assert sum(g.correct for g in grades) >= 8 and sum(not g.correct for g in grades) >= 8
    # a decimal (math-verify rounds floats) and an integer past a float's precision still go to a worker
    grader.grade(["\\boxed{3.1415926}", "\\boxed{12345678901234567}"], ["3.14159265", "12345678901234568"])
    assert shared_pool(3, 7.0)._workers


def test_started_pool_spawns_its_workers_at_once_and_grades_with_them():
    from rlvr.rewards.math_pool import VerifierPool

    pool = VerifierPool(workers=2, timeout=5.0)
    try:
        pool.start()  # returns before the workers have imported math-verify
        spawned = [w.process.pid for w in pool._workers]
        assert len(spawned) == 2 and not any(w.ready for w in pool._workers)
        assert pool.run([("1/2", "0.5"), ("2", "3")]) == [True, False]
        assert [w.process.pid for w in pool._workers] == spawned
    finally:
        pool.close()


def test_unicode_minus_and_full_width_digits(grader):
    texts = ["so we get \u22125", "so we get \u22125", "\\boxed{\uff11\uff12}", "\\boxed{\u22121/2}"]
    golds = ["5", "-5", "12", "-0.5"]
    assert [g.correct for g in grader.grade(texts, golds)] == [False, True, True, True]


@pytest.mark.parametrize("gold", [None, float("nan"), "", "  ", "None"])
def test_missing_gold_is_an_error_not_an_answer(grader, gold):
    with pytest.raises(ValueError, match="gold answer #1"):
        grader.grade(["\\boxed{1}", "\\boxed{None}"], ["1", gold])


@pytest.mark.parametrize(
    "text",
    [
        "1 " * 500_000 + "\\boxed{7}",  # a megabyte of text
        "\\boxed{" + " " * 30_000,  # an unclosed box of spaces
        "the answer is 1 " * 8_000 + "$",  # answer statements with no end
        "$" + "x+" * 100_000 + "$",  # one enormous formula
        "\\boxed{" * 5_000 + "}" * 5_000,  # boxes nested 5,000 deep
    ],
)
def test_degenerate_completions_are_graded_within_the_timeout(text):
    grader = MathReward(timeout=2.0)
    grader.grade(["\\boxed{2+3}"], ["5"])  # warm the pool (equal texts never reach it)
    start = time.monotonic()
    grade = grader.grade([text], ["7"])[0]
    assert time.monotonic() - start < 2.0 + 3.0, grade


def test_after_a_timeout_the_next_answer_goes_to_a_started_worker():
    """A killed worker's replacement spends seconds importing sympy; an idle started worker answers instead."""
    from rlvr.rewards.math_pool import VerifierPool

    pool = VerifierPool(workers=2, timeout=1.0)
    try:
        assert pool.run([("5", "2+3"), ("5", "2+3")]) == [True, True]  # both workers started
        assert pool.run([("3", "9^{9^{99999}}")]) == ["timeout"]
        replacement = pool._workers[-1]
        assert pool.run([("6", "2+4")]) == [True]
        assert replacement.task is None, "the answer waited for the replacement's start"
    finally:
        pool.close()
