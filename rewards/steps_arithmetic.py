"""A programmatic steps verifier for arithmetic expressions such as the demo's "Compute 3 + 4 * 2.".

A worked solution is a run of steps `x op y = v.` followed by `\\boxed{v}`. The steps are right when, read
in order, each one is true arithmetic on an adjacent pair of the expression left by the steps before it
(the operands of + and * may be swapped) that precedence lets go next (any product; a sum or difference
whose operands no product holds and after no minus sign: `a + b - c` may go either way, `a - b - c` only
left to right), the expression ends as one number, and the boxed answer is that number. Steps are judged
by their form, never by where they land: `1 + 1 = 2. 2 * 1 = 2.` for `1 + 1 * 1` is wrong. A sample that reaches the right answer by a wrong step (a slip that cancels,
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


def _may_reduce(expression: list, i: int) -> bool:
    """Whether precedence lets the operator at `i` go now: a product always (products come first and
    associate); a sum or difference when no product holds either operand and no minus sign stands before it."""
    if expression[i] == "*":
        return True
    before = expression[i - 2] if i >= 2 else None
    after = expression[i + 2] if i + 2 < len(expression) else None
    return before in (None, "+") and after != "*"


def _rewrites(expression: list, x: int, op: str, y: int, value: int) -> list | None:
    """`expression` with one adjacent `x op y` (or `y op x` for + and *) that precedence lets go now
    replaced by `value`; None when there is none."""
    for i in range(1, len(expression), 2):
        left, here, right = expression[i - 1], expression[i], expression[i + 1]
        if here != op or not ((x, y) == (left, right) or (op != "-" and (y, x) == (left, right))):
            continue
        if _may_reduce(expression, i):
            return expression[: i - 1] + [value] + expression[i + 2 :]
    return None


def check_steps(tokens: list, completion: str) -> bool | None:
    """True when each of the completion's steps is true arithmetic on a pair of the expression (as left by
    the steps before it) that precedence lets go next, the last leaves one number, and the boxed answer is
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
