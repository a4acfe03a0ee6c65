"""Red-team findings against the math graders, each case scored as the grader should score it. All are fixed
and stay as regression tests; a new finding goes in as a strict xfail until the grader handles it."""

from __future__ import annotations

import pytest

from rlvr.rewards import get_reward

MODES = ["math_strict", "math"]
ARITH = "What is $3 + 4$?"
BINOM = "Compute $\\dbinom{8}{4}$."


def verdict(mode: str, completion: str, gold: str, prompt: str = "") -> str:
    return get_reward(mode).grade([completion], [gold], [prompt])[0].verdict


# A relation other than `=` is read as an equation by math-verify (its right side is compared), but the
# "an equation counts only if it holds" check splits only at `=`: false relations and garbage are paid.
FALSE_RELATIONS = [
    (r"\boxed{8 \equiv 7}", "7"),
    (r"\boxed{8 \coloneqq 7}", "7"),
    (r"\boxed{8 \doteq 7}", "7"),
    (r"\boxed{8 \Rightarrow 7}", "7"),
    (r"\boxed{8 \to 7}", "7"),
    (r"\boxed{8 \text{=} 7}", "7"),  # `=` hidden in \text
    (r"\boxed{8 {=} 7}", "7"),  # `=` hidden in braces
    (r"\boxed{{8 = 7}}", "7"),  # the whole equation in braces
    ("5 * 4 -> 2", "2"),  # whole-completion garbage, cf. the documented ':::: 5 * 4 = 2'
    ("5 * 4 ≡ 2", "2"),
    (r"$5 \times 4 \Rightarrow 2$", "2"),
    ("#### 8 := 7", "7"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("completion", "gold"), FALSE_RELATIONS)
def test_false_relation_is_not_paid(mode, completion, gold):
    assert verdict(mode, completion, gold) != "correct"


# Copies of the prompt's expression that the restatement check misses: mechanical rewrites a policy can
# learn without computing anything (the right side of a non-`=` relation; neutral wrappers and terms).
COPIES = [
    (ARITH, "7", r"\boxed{x \Rightarrow 3+4}"),
    (ARITH, "7", r"\boxed{0 \equiv 3+4}"),
    (ARITH, "7", r"\boxed{3+4 \to 4+3}"),
    (ARITH, "7", r"\boxed{3+4 \approx 0}"),  # \approx: math-verify compares the left side
    (ARITH, "7", r"\boxed{\left|3+4\right|}"),
    (ARITH, "7", r"\boxed{-(-3-4)}"),
    (ARITH, "7", r"\boxed{3+4+0\cdot 5}"),
    (ARITH, "7", r"\boxed{3 + 4 \cdot 1^{2}}"),
    (BINOM, "70", r"\boxed{\binom{8.0}{4}}"),
    (BINOM, "70", r"\boxed{\binom{8}{4} \cdot 1.0}"),
    (BINOM, "70", r"\boxed{\binom{8}{4} + (1-1)}"),
    (BINOM, "70", r"\boxed{(-1)^2 \binom{8}{4}}"),
    (BINOM, "70", r"\boxed{\binom{2^3}{4}}"),
    (BINOM, "70", r"\boxed{\binom{8}{4}+\binom{8}{4}-\binom{8}{4}}"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("prompt", "gold", "completion"), COPIES)
def test_copy_of_prompt_is_not_paid(mode, prompt, gold, completion):
    assert verdict(mode, completion, gold, prompt) != "correct"


@pytest.mark.parametrize("mode", MODES)
def test_bmod_is_not_its_modulus(mode):
    # 10^100000 mod 7 = 4 (10 = 3 mod 7, 3^6 = 1, 100000 = 4 mod 6, 3^4 = 81 = 4); a human pays 4, not 7
    assert verdict(mode, r"\boxed{10^{100000} \bmod 7}", "7") != "correct"
    assert verdict(mode, r"\boxed{6 \bmod 7}", "7") != "correct"


def test_one_hanging_equation_does_not_poison_a_common_answer():
    """A hang used to be recorded against pair[1] of whatever pair timed out: for an equation claim (lhs, rhs)
    that is the rhs. One garbage sample `\\boxed{((...7...)) = 7}` then made every later `\\boxed{7}` a
    timeout for golds not yet seen, for the grader's lifetime (a whole run). Hangs are cached per pair now."""
    from rlvr.rewards import MathReward

    grader = MathReward("strict", timeout=1.0)
    nested = "(" * 2000 + "7" + ")" * 2000
    assert grader.grade([rf"\boxed{{{nested} = 7}}"], ["5"])[0].verdict in ("wrong", "timeout")
    assert grader.grade([r"\boxed{7}"], [r"\frac{14}{2}"])[0].verdict == "correct"
    assert grader.grade([r"\boxed{7}"], ["7.0"])[0].verdict == "correct"


# Correct answers refused. A side in \text{} or a function of a named angle is taken for a side of numbers
# only, so the equation "does not hold"; systems written on two lines and a value written first are not read.
REFUSED_EQUATIONS = [
    (r"\boxed{\text{Area} = 12}", "12", ""),
    (r"\boxed{\text{ways} = 7}", "7", ""),
    (r"\boxed{\sin\theta = \frac12}", r"\frac12", ""),
    (r"\boxed{\text{total} = 3 + 4 = 7}", "7", ARITH),  # the work and then the answer
    (r"\boxed{6 = a+b+c}", "6", ""),
    (r"\boxed{x=2 \\ y=3}", "(2,3)", ""),
    (r"\boxed{\begin{cases} x=2 \\ y=3 \end{cases}}", "(2,3)", ""),
    ("The final answer is $x = 7$ and $y = 3$.", "(7,3)", ""),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("completion", "gold", "prompt"), REFUSED_EQUATIONS)
def test_correct_equation_is_paid(mode, completion, gold, prompt):
    assert verdict(mode, completion, gold, prompt) == "correct"


# A stated answer followed by a sentence that checks or comments on it: strict mode finds no answer (and
# lenient reads the check's number instead).
FOLLOWED_BY_A_SENTENCE = [
    ("math_strict", "**Final Answer**\n\n$$x = 7$$\n\nThis is the only solution."),
    ("math_strict", "So there are $7$ ways. This matches our earlier count."),
    ("math_strict", "Therefore, the number of ways is 7. Note that order does not matter here."),
    ("math_strict", "Hence $x = 7$.\n\nVerification: $2 \\cdot 7 - 3 = 11$ \u2713"),
    ("math", "Hence $x = 7$.\n\nVerification: $2 \\cdot 7 - 3 = 11$ \u2713"),  # lenient reads 11
    ("math", "Therefore $x = 7$. Let me double-check: 2(7) - 3 = 11. Correct."),
    # GSM8K-style closing lines: "So" does not conclude where "Therefore" does; a unit word after "is 7"
    ("math_strict", "So she has 7 apples left."),
    ("math_strict", "The total is 7 dollars."),
    ("math_strict", "7 is the answer."),
    ("math_strict", "**7**"),
    ("math_strict", "Answer = 7"),  # read as "= 7", a malformed equation: wrong in both modes
    ("math", "Answer = 7"),
]


@pytest.mark.parametrize(("mode", "completion"), FOLLOWED_BY_A_SENTENCE)
def test_answer_followed_by_a_sentence_is_paid(mode, completion):
    assert verdict(mode, completion, "7") == "correct"


# Problem-independent wrappers around the prompt's own expression @: a policy learns one template and is
# paid on every "compute this expression" problem (MATH-500 has 36 such) without computing anything.
WRAPPERS = [
    r"@ + \sin 0",
    r"@ + \log 1",
    r"\lfloor @ \rfloor",
    r"\lceil @ \rceil",
    r"\lvert @ \rvert",
    r"\sqrt[1]{@}",
    r"\max(@, 0)",
    r"\lim_{x\to0} (@)",
    r"\int_0^1 (@)\,dx",
]
EXPRESSIONS = [(ARITH, "7", "3+4"), (BINOM, "70", r"\binom{8}{4}")]


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize(("prompt", "gold", "expression"), EXPRESSIONS)
def test_wrapped_copy_of_prompt_is_not_paid(wrapper, prompt, gold, expression):
    completion = r"\boxed{" + wrapper.replace("@", expression) + "}"
    assert verdict("math_strict", completion, gold, prompt) != "correct"


# Two answers in one box, the second in \text{}: math-verify reads the number in the text, the normalised
# retry drops the text and reads the first, so one completion is paid for two different golds.
HEDGES = [
    (r"\boxed{6 \text{ (or maybe 7)}}", "6"),
    (r"\boxed{6 \text{ (or maybe 7)}}", "7"),
    (r"\boxed{x = 6 \text{ (or maybe 7)}}", "6"),
    (r"\boxed{x = 6 \text{ (or maybe 7)}}", "7"),
    (r"\boxed{6 \mathrm{ (or maybe 7)}}", "6"),
    (r"\boxed{6 \mathrm{ (or maybe 7)}}", "7"),
    (r"\boxed{6 \mbox{ (or maybe 7)}}", "7"),
    (r"\boxed{6 \text{ (or 7; or 8)}}", "6"),
    (r"\boxed{6 \text{ (or 7; or 8)}}", "8"),
    (r"\boxed{6\% \text{ (or maybe 7)}}", "0.06"),
    (r"\boxed{6\% \text{ (or maybe 7)}}", "7"),
    ("The answer is $6 \\text{ (or maybe } 7\\text{)}$.", "6"),
    ("The answer is $6 \\text{ (or maybe } 7\\text{)}$.", "7"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("completion", "gold"), HEDGES)
def test_hedge_between_two_values_is_not_paid(mode, completion, gold):
    assert verdict(mode, completion, gold) != "correct"


# Correct answers refused as "restates the problem": a numbers-only answer that holds any sub-expression of
# the prompt (here \sqrt{5} or \sqrt{2}) counts as computing with a piece of it, unless it is spelled as the
# gold is. MATH spells golds like `\frac{3+\sqrt5}2`; the model writes `\frac{3+\sqrt{5}}{2}`.
GOLDEN = r"Find $\phi^2$ where $\phi = \frac{1+\sqrt{5}}{2}$."
RATIONALIZE = r"Rationalize the denominator: $\frac{1}{\sqrt{2}}$."
RADICALS = [
    (GOLDEN, r"\frac{3+\sqrt5}2", r"\boxed{\frac{3+\sqrt{5}}{2}}"),
    (GOLDEN, r"\frac{3+\sqrt{5}}{2}", r"\boxed{\frac{3}{2}+\frac{\sqrt{5}}{2}}"),
    (RATIONALIZE, r"\frac{\sqrt{2}}{2}", r"\boxed{\frac{1}{2}\sqrt{2}}"),
    (RATIONALIZE, r"\frac{\sqrt{2}}{2}", r"\boxed{0.5\sqrt{2}}"),
    (r"Simplify $(\sqrt{5}+1)^2$.", r"6+2\sqrt{5}", r"\boxed{2(3+\sqrt{5})}"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("prompt", "gold", "completion"), RADICALS)
def test_correct_radical_answer_is_paid(mode, prompt, gold, completion):
    assert verdict(mode, completion, gold, prompt) == "correct"


# Number spellings refused: LaTeX's thin-space thousands separator and braced decimal comma, and a word.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("completion", "gold"),
    [(r"\boxed{7\,000}", "7000"), (r"\boxed{7{,}5}", "7.5"), (r"\boxed{7 \text{ thousand}}", "7000")],
)
def test_number_spelling_is_paid(mode, completion, gold):
    assert verdict(mode, completion, gold) == "correct"


# False `=` equations still paid: spacing next to `=`, a constant taken for a name, letters inside spacing
# commands or a variable that cancels make a side "have variables"; garbage split across formulas or ending
# on "is"/"equals" is read as a stated answer (cf. the documented ':::: 5 * 4 = 2').
FALSE_EQUATIONS = [
    (r"\boxed{8\!=\!7}", "7"),
    (r"\boxed{\pi = 7}", "7"),
    (r"\boxed{e = 7}", "7"),
    (r"\boxed{\infty = 7}", "7"),
    (r"\boxed{8 \hspace{1em} = 7}", "7"),
    (r"\boxed{\phantom{x}8 = 7}", "7"),
    (r"\boxed{8x^0 = 7}", "7"),
    (r"\boxed{8 + x - x = 7}", "7"),
    (r"\boxed{5 \cdot 4} = \boxed{2}", "2"),
    ("$5 \\cdot 4$ = $2$", "2"),
    ("The answer is $5\\cdot 4 =$ 2.", "2"),
    ("5 * 4 is 2", "2"),
    ("5 * 4 equals 2", "2"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("completion", "gold"), FALSE_EQUATIONS)
def test_false_equation_in_disguise_is_not_paid(mode, completion, gold):
    assert verdict(mode, completion, gold) != "correct"


# Expand / factor / simplify: the prompt's own expression, trivially rewritten, equals the gold symbolically
# and is paid although none of the asked-for work is done.
FACTOR = "Factor $x^2-5x+6$."
EXPAND = "Expand $(x+1)^2$."
SIMPLIFY = "Simplify $\\frac{x^2-1}{x-1}$."
SYMBOLIC_COPIES = [
    (FACTOR, "(x-2)(x-3)", r"\boxed{-(-x^2+5x-6)}"),
    (FACTOR, "(x-2)(x-3)", r"\boxed{x \cdot x - 5x + 6}"),
    (FACTOR, "(x-2)(x-3)", r"\boxed{x^2-5x+6+x-x}"),
    (EXPAND, "x^2+2x+1", r"\boxed{(x+1)(x+1)}"),
    (EXPAND, "x^2+2x+1", r"\boxed{(x+1)^{1+1}}"),
    (EXPAND, "x^2+2x+1", r"\boxed{(-x-1)^2}"),
    (SIMPLIFY, "x+1", r"\boxed{\frac{1-x^2}{1-x}}"),
    (SIMPLIFY, "x+1", r"\boxed{\dfrac{-x^2+1}{-x+1}}"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("prompt", "gold", "completion"), SYMBOLIC_COPIES)
def test_symbolic_copy_is_not_paid(mode, prompt, gold, completion):
    assert verdict(mode, completion, gold, prompt) != "correct"


@pytest.mark.parametrize("wrapper", [r"@ + \sin 0", r"\sqrt[1]{@}", r"\lim_{t\to0} (@)"])
def test_math500_copies_stay_refused_when_wrapped(wrapper):
    """tests/data/math500_copies.jsonl: 32 problems whose copied expression math-verify credits; bare, all 32
    score 0. Wrapped in any of these (measured: each pays 32 of 32 in math_strict), all should still."""
    import json
    from pathlib import Path

    rows = [json.loads(line) for line in (Path(__file__).parent / "data" / "math500_copies.jsonl").open()]
    rows = [row for row in rows if row["label"] == "restates"]
    completions = [r"\boxed{" + wrapper.replace("@", row["copied"]) + "}" for row in rows]
    grades = get_reward("math_strict").grade(
        completions, [row["answer"] for row in rows], [row["problem"] for row in rows]
    )
    paid = [row["unique_id"] for row, grade in zip(rows, grades) if grade.verdict == "correct"]
    assert paid == []


def test_verifier_workers_limit_their_memory():
    """`\\boxed{2^{2^{30}}}` (two levels: not caught as a tower) grew a worker to 335 MiB before its CPU limit
    (measured); 2^{2^{35}} would take 4 GiB per worker, and a batch holds many distinct answers. The code
    sandbox caps memory; the math workers' address space is unlimited."""
    import os
    from pathlib import Path

    from rlvr.rewards import MathReward

    MathReward("strict", timeout=1.0).grade([r"\boxed{\frac{14}{2}}"], ["7.0"])  # starts the workers
    me = str(os.getpid())
    workers = [  # the math verifier's workers among this process's children (other tests leave others)
        status.parent
        for status in Path("/proc").glob("[0-9]*/status")
        if f"PPid:\t{me}\n" in status.read_text(errors="replace")
        and b"_math_worker" in (status.parent / "cmdline").read_bytes()
    ]
    assert workers
    for proc in workers:
        line = next(line for line in (proc / "limits").read_text().splitlines() if "address space" in line)
        assert "unlimited" not in line


# Past about 2,000 characters math-verify's LaTeX parse of an answer yields nothing and the bare-text
# fallback (rewards/_math_worker.py `_parse`) reads one number out of it: long garbage is paid.
LONG_GARBAGE = [
    (r"\boxed{" + "7+" * 1000 + "7}", "7"),  # worth 7007
    (r"\boxed{" + "7!" * 1000 + "}", "7"),
    (r"\boxed{" + "6!" * 1000 + "7!}", "6"),
    (r"\boxed{" + "".join(f"{digit}!" for digit in range(10)) * 110 + "}", "0"),
]


@pytest.mark.parametrize(("completion", "gold"), LONG_GARBAGE)
def test_long_garbage_is_not_paid(completion, gold):
    assert verdict("math_strict", completion, gold) != "correct"


# Inside a box, text math-verify cannot read as LaTeX falls back to bare text, which takes its last number:
# the garbage rules (operators in a row, colons, stray brackets) guard only a whole-completion answer.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "completion",
    [r"\boxed{5 \cdot 4 @@@ 2}", r"\boxed{5 \cdot 4 ?? 2}", r"\boxed{5 * 4 ; ; 2}", r"\boxed{5 * 4 ) 2}"],
)
def test_garbage_in_a_box_is_not_paid(mode, completion):
    assert verdict(mode, completion, "2") != "correct"


# math-verify reads digit groups split by a space as a number and as a product: `1 000` is 1000 and 1 * 000 = 0,
# so one answer was paid for gold 0 and for gold 1000, whichever side carried the spaces.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("completion", "gold", "paid"),
    [
        (r"\boxed{1 000}", "0", False),
        (r"\boxed{10 000}", "0", False),
        (r"\boxed{2\ 000}", "0", False),
        (r"\boxed{0}", "1 000", False),
        (r"\boxed{0}", r"\boxed{10 000}", False),
        (r"\boxed{1 000}", "1000", True),
        (r"\boxed{2\ 000}", "2000", True),
        (r"\boxed{1000}", "1 000", True),
        (r"\boxed{-1 000 000.5}", "-1000000.5", True),
    ],
)
def test_a_spaced_thousand_is_one_number(mode, completion, gold, paid):
    assert (verdict(mode, completion, gold) == "correct") is paid
