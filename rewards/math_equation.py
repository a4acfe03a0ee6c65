"""A final answer written as an equation counts only if the equation holds.

math-verify compares a gold value with the right side of an equation, so `\\boxed{8 = 7}` was paid for 7 and
the degenerate `5 * 4 = 2` for 2: the right side of a false statement. An assignment (`x = 7`, `n = 7`,
`AB = 5`, `f(2) = 7`) is still the answer 7, and a side with variables in it (`a + b = 5`) states what a
quantity equals; two sides of numbers only must be equal (`3 + 4 = 7` holds, `8 = 7` does not), and a
side left empty (`12 = = 4`, `2 * 5 = `) makes the answer malformed. The equalities are checked by the same
verifier as the answer (`claims` lists them); nothing here parses mathematics.
"""

from __future__ import annotations

import re

from rlvr.rewards.math_restate import names_cancel

_OPEN, _CLOSE = "({[", ")}]"
# `<=`, `>=`, `!=`, `:=` and `\leq`-style commands are relations of their own, not an equals sign.
_NOT_EQUALS_BEFORE = "<>!:"
# What names a value rather than computes one: a letter or Greek letter with subscripts and primes, a
# geometric name (AB, \angle ABC), a function at a point (f(2), P(A)), a \text{} label.
_NAME_RE = re.compile(
    r"\s*(?:\\(?:angle|overline|triangle|measuredangle|text|mathrm|textbf|operatorname)\s*\{?\s*)?"
    r"(?:[A-Za-z]|[A-Z]{2,4}|\\[A-Za-z]+)"
    r"(?:\s*_\s*(?:\{[^{}]{1,12}\}|\w))?'*"
    r"(?:\s*\^\s*(?:\{[^{}]{1,6}\}|\w))?"
    r"(?:\s*\([^()]{1,20}\))?\s*\}?\s*"
    r"|\s*\(\s*[A-Za-z](?:_\w)?(?:\s*,\s*[A-Za-z](?:_\w)?)+\s*\)\s*"  # (x, y) = (5, 8)
    r"|\s*\\(?:text|mathrm|textbf|textit|mbox|operatorname)\s*\{[A-Za-z][A-Za-z '.-]{0,40}\}\s*"  # \text{Area}
    r"|\s*\\(?:sin|cos|tan|cot|sec|csc)\s*\\?(?!pi\b)[A-Za-z]+\s*"  # \sin\theta
)
# Constants are values, not names: `\pi = 7` and `e = 7` are false equations.
_CONSTANT_RE = re.compile(r"\s*(?:\\pi|\\infty|e|\\e|\\mathrm\s*\{\s*e\s*\})\s*")
# Greek letters name quantities (\theta, \alpha); \pi is a number.
_GREEK_RE = re.compile(
    r"\\(?:alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|vartheta|iota|kappa|lambda|mu|nu|xi|rho"
    r"|sigma|tau|upsilon|phi|varphi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Xi|Sigma|Phi|Psi|Omega)(?![A-Za-z])"
)

_JOINER_RE = re.compile(
    r"\\text\s*\{\s*(?:and|or)\s*\}|\\q?quad\b|\s(?:and|or)\s|(?<=[\d)}])(?:and|or)(?=[A-Za-z\\(])"
)
# \bmod is the operator math-verify reads as \mod (it parses `17 \bmod 5` as 5)
_BMOD_RE = re.compile(r"\\[bp]mod(?![A-Za-z])")

_COMMAND_RE = re.compile(r"\\(?:text|mathrm|mbox|textbf)\s*\{[^{}]*\}|\\[A-Za-z]+")
_LETTER_RE = re.compile(r"[A-Za-z]")


def _top_level(text: str, separators: str) -> list[str]:
    """`text` split at the `separators` that stand outside every bracket (and outside `<=`, `!=`, `==`)."""
    parts, depth, last, i = [], 0, 0, 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "{}[]()":
            i += 2  # an escaped brace is text
            continue
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth = max(0, depth - 1)
        elif char in separators and depth == 0:
            if char == "=" and i > 0 and text[i - 1] in _NOT_EQUALS_BEFORE:
                i += 1
                continue
            parts.append(text[last:i])
            last = i + 1
            if char == "=" and text[i + 1 : i + 2] == "=":  # `==` is one sign
                i += 1
                last = i + 1
        i += 1
    parts.append(text[last:])
    return parts


def _has_names(side: str) -> bool:
    """A side with a variable in it (`a + b + c + d`) states what a quantity equals; only numbers can be false."""
    if _GREEK_RE.search(side):
        return True
    if names_cancel(side):
        return False
    letters = _COMMAND_RE.sub(" ", side)
    return _LETTER_RE.search(re.sub(r"(?<![A-Za-z])e(?![A-Za-z])", " ", letters)) is not None


def is_name(side: str) -> bool:
    """True for a left side that names the answer (`x`, `n`, `a_1`, `AB`, `f(2)`) rather than computes one."""
    if side.strip().isdigit() or _CONSTANT_RE.fullmatch(side):
        return False
    return _NAME_RE.fullmatch(side) is not None


def claims(answer: str) -> list[tuple[str, str]] | None:
    """The equalities an answer asserts, as (left, right) pairs that must verify equal; None when one side is
    empty (a malformed equation, wrong whatever its right side). `[]` for an answer that is no equation.
    Parts joined by "," / "and" / "or" (`x = 3 \\text{ or } x = 5`) are separate statements."""
    if "=" not in answer:
        return []
    pairs: list[tuple[str, str]] = []
    for part in _top_level(_JOINER_RE.sub(",", answer), ",;"):
        sides = [side.strip() for side in _top_level(part, "=")]
        if len(sides) < 2:
            continue
        if any(not side for side in sides):
            return None
        if is_name(sides[0]):
            sides = sides[1:]
        sides = [_BMOD_RE.sub(r"\\mod", side) for side in sides]
        pairs.extend((a, b) for a, b in zip(sides, sides[1:]) if not (_has_names(a) or _has_names(b)))
    return pairs


def is_equation(gold: str) -> bool:
    """A gold that is itself an equation (`y = 2x + 3`) is compared as an equation: nothing to hold."""
    return any(len(_top_level(part, "=")) > 1 for part in _top_level(gold, ",;"))
