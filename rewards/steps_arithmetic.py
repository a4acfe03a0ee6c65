"""A programmatic steps verifier for arithmetic expressions such as the demo's "Compute 3 + 4 * 2.".

A worked solution is a run of steps `x op y = v.` followed by `\\boxed{v}`. The steps are right when, read
in order, each one is true arithmetic on an adjacent pair of the expression left by the steps before it
(the operands of + and * may be swapped), replacing that pair by the result keeps the expression's value
(products first, then left to right), the expression ends as one number, and the boxed answer is that
number. A sample that reaches the right answer by a wrong step (a slip that cancels,
working a subtraction chain right to left) is caught here, though its final answer passes the grader.
"""

from __future__ import annotations

import re

_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
_EXPRESSION_RE = re.compile(r"\d+(?:\s*[-+*]\s*\d+)+")
_STEP_RE = re.compile(r"(-?\d+)\s*([-+*])\s*(-?\d+)\s*=\s*(-?\d+)")
_BOXED_RE = re.compile(r"\\boxed\{\s*(-?\d+)\s*\}")


def parse_expression(text: str) -> list | None:
    """[a, op, b, op, c, ...] of the first expression of whole numbers in `text` ("Compute 3 - 3 - 1."), or None."""
    match = _EXPRESSION_RE.search(text)
    if not match:
        return None
    return [t if t in _OPS else int(t) for t in re.findall(r"\d+|[-+*]", match.group(0))]


def evaluate(tokens: list) -> int:
    """The value of [a, op, b, ...] by precedence: products first, then left to right."""
    terms = [tokens[0]]
    signs: list[str] = []
    for op, value in zip(tokens[1::2], tokens[2::2]):
        if op == "*":
            terms[-1] *= value
        else:
            signs.append(op)
            terms.append(value)
    total = terms[0]
    for op, value in zip(signs, terms[1:]):
        total = _OPS[op](total, value)
    return total


def _rewrites(expression: list, x: int, op: str, y: int, value: int) -> list | None:
    """`expression` with one adjacent `x op y` (or `y op x` for + and *) replaced by `value`, keeping the
    expression's value; None when no such pair exists."""
    target = evaluate(expression)
    for i in range(1, len(expression), 2):
        left, here, right = expression[i - 1], expression[i], expression[i + 1]
        if here != op or not ((x, y) == (left, right) or (op != "-" and (y, x) == (left, right))):
            continue
        if i > 1 and expression[i - 1 - 1] == "-" and op != "*":
            continue  # `a - b + c` worked as `a - (b + c)`
        rewritten = expression[: i - 1] + [value] + expression[i + 2 :]
        if evaluate(rewritten) == target:
            return rewritten
    return None


def check_steps(tokens: list, completion: str) -> bool | None:
    """True when each of the completion's steps is true arithmetic and rewrites the expression (as left by
    the steps before it) into one of the same value, the last leaves one number, and the boxed answer is
    that number; None when the completion has no steps."""
    found = _STEP_RE.findall(completion)
    if not found:
        return None
    expression = list(tokens)
    for x, op, y, value in found:
        x, y, value = int(x), int(y), int(value)
        if len(expression) < 3 or _OPS[op](x, y) != value:
            return False
        expression = _rewrites(expression, x, op, y, value)
        if expression is None:
            return False
    if len(expression) != 1:
        return False
    boxed = _BOXED_RE.findall(completion)
    return bool(boxed) and int(boxed[-1]) == expression[0]


def verify_arithmetic_steps(problem: dict, completion: str) -> bool | None:
    """The steps verifier `arithmetic`: None when the problem holds no arithmetic expression."""
    tokens = parse_expression(str(problem.get("problem") or problem.get("prompt") or ""))
    if tokens is None or len(tokens) < 3:
        return None
    return check_steps(tokens, completion)
