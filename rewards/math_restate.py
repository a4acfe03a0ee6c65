"""An answer that restates its problem scores nothing.

math-verify evaluates what it parses, so `\\boxed{3 + 4 * 2}` equals 11, `\\boxed{\\dbinom{31}{28}}` equals 4495 and
`\\boxed{0.\\overline{5}}` equals 5/9: a policy that copies the problem's expression into the box is credited
without computing anything (and a base model that echoes the question gains pass@k at large k). PRM800K's grader
closes this by demanding a plain integer when the gold is one; that also refuses honest forms such as `10^3`,
which other projects' suites label correct. This check is narrower: it refuses an answer only when, up to
spacing and LaTeX spelling, it is a piece of the prompt with an operation in it, and is not the gold itself.
"""

from __future__ import annotations

import functools
import re

from rlvr.rewards.math_normalize import normalize_answer, same_text

_SPELLINGS = (
    # an ordinal's suffix is not an operation: the `12^{\mathrm{th}}` grade picked from a table is an answer
    (
        re.compile(
            r"\^\s*\{?\s*(?:\\(?:text|mathrm|textrm|rm)\s*\{)?\s*(?:st|nd|rd|th)(?![a-zA-Z])\s*\}?\s*\}?"
        ),
        "",
    ),
    (re.compile(r"\\[dtc]frac"), r"\\frac"),
    # \frac{12}{7} and 12/7 are one fraction: "write 12 \div 7 as a fraction" is answered by either
    (
        re.compile(r"\\frac\s*(?:\{\s*(\w+)\s*\}|(\d))\s*(?:\{\s*(\w+)\s*\}|(\d))"),
        lambda m: f"{m.group(1) or m.group(2)}/{m.group(3) or m.group(4)}",
    ),
    (re.compile(r"\\[dt]binom"), r"\\binom"),
    (re.compile(r"\\(?:times|cdot|ast)(?![a-zA-Z])"), "*"),
    (re.compile(r"\\div(?![a-zA-Z])"), "/"),
    (re.compile(r"\\(?:left|right|displaystyle)(?![a-zA-Z])|\\[()\[\]!,;: ]|\$"), ""),
    (re.compile(r"[\s{}]"), ""),
)
# something left to compute: an operator, a LaTeX command, an index; a leading sign alone is not one
_OPERATION_RE = re.compile(r"[+\-*/^!_\\]")
_ENCLOSED_RE = re.compile(r"^\((.*)\)$|^\[(.*)\]$")
# a chain `a = b = c` is judged by its last side, as math-verify judges it
_RELATION_RE = re.compile(r"=|\\approx(?![a-zA-Z])")


def _canonical(text: str) -> str:
    for pattern, replacement in _SPELLINGS:
        text = pattern.sub(replacement, text)
    return text.rstrip(".")


@functools.lru_cache(maxsize=4096)
def _canonical_prompt(prompt: str) -> str:
    return _canonical(prompt)


def _unwrapped(text: str) -> str:
    while match := _ENCLOSED_RE.match(text):
        text = match.group(1) if match.group(1) is not None else match.group(2)
    return text


@functools.lru_cache(maxsize=65536)  # samples of one problem repeat their answers
def restates(prompt: str, pred: str, gold: str) -> bool:
    """True when `pred` is, up to spacing and LaTeX spelling, an expression copied from `prompt` (not the gold)."""
    if not prompt or same_text(gold, pred):
        return False
    golds = {_unwrapped(_canonical(form)) for form in (gold, normalize_answer(gold))}
    haystack = _canonical_prompt(prompt)
    for form in {pred, normalize_answer(pred), _RELATION_RE.split(pred)[-1]}:
        needle = _unwrapped(_canonical(form))
        if needle in golds or not _OPERATION_RE.search(needle.lstrip("+-")):
            continue
        if needle in haystack:
            return True
    return False
