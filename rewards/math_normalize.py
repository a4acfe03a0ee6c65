"""Second-chance forms of an answer, for what math-verify misses (units, percent words, degrees, x = 3).

The grader compares the answers as written first; these forms are tried only when that fails, so a
normalisation can add a match but never take one away. Whitespace between words is kept: squeezing
it out turned "32, 349" into a thousands-separated 32349 and `\\text{and}` into `\\text{and}`-less text.
"""

from __future__ import annotations

import re

_TEXT_RE = re.compile(r"\\(?:text|textbf|mbox|mathrm)\s*\{([^{}]*)\}(\^\{?[23]\}?)?")
_UNIT_WORDS = (
    r"(?:cm|m|km|mm|kg|g|mg|s|sec|seconds?|minutes?|hours?|days?|weeks?|years?|inches|inch|in|feet|foot|ft|"
    r"miles?|meters?|metres?|units?|square|sq|cubic|dollars?|cents?|degrees?|mph|pounds?|lbs?|ounces?|oz|"
    r"liters?|people|students|ways|points)"
)
_TRAILING_UNIT_RE = re.compile(r"(?<=[\d}])\s*(?:\\,|\\ |~)?\s*" + _UNIT_WORDS + r"(?:\^?\{?[23]\}?)?\s*$")
_THOUSANDS_RE = re.compile(r"^-?\d{1,3}(?:([, ])\d{3})(?:\1\d{3})*(?:\.\d+)?$")
# "2,74" and "1000,99" write a decimal comma: a comma not followed by exactly three digits (1,000 is a
# thousand), or after a lone 0. Read so only against a plain number: "1,2" against "1, 2" stays a pair.
_DECIMAL_COMMA_RE = re.compile(r"(-?\d+),(\d+)")
_PLAIN_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?|-?\.\d+")
_ASSIGN_RE = re.compile(r"^\s*[A-Za-z](?:_\{?\w+\}?)?\s*=\s*(?!.*=)(.+)$")
_PERCENT_RE = re.compile(r"\s*(?:\\?%|\\text\{\s*\\?%\s*\}|percentage|percent|pct)\s*$", re.IGNORECASE)
_AND_RE = re.compile(r",?\s*(?:\\q?quad)?\s*\\text\{\s*(?:and|or)\s*\}\s*(?:\\q?quad)?\s*|,?\s+and\s+")


def _drop_unit_text(match: re.Match) -> str:
    if re.fullmatch(r"\s*" + _UNIT_WORDS + r"\s*", match.group(1)):
        return ""
    return match.group(1) + (match.group(2) or "")


def normalize_answer(answer: str, drop_assignment: bool = True) -> str:
    """A canonical form: units, degrees, dollar signs, percent (words too), \\dfrac and `x =` removed."""
    s = answer.strip().strip("$").strip()
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\cfrac", "\\frac")
    s = s.replace("\\left", "").replace("\\right", "")
    s = s.replace("\\!", "").replace("\\displaystyle", "")
    s = re.sub(r"\^\s*\{?\\circ\}?", "", s)
    s = s.replace("°", "").replace("\\degree", "")
    s = s.replace("\\text{\\$}", "").replace("\\$", "")
    s = _AND_RE.sub(", ", s)
    s = _TEXT_RE.sub(_drop_unit_text, s)
    s = _TRAILING_UNIT_RE.sub("", s).strip()
    s = _PERCENT_RE.sub("", s).strip()
    if _THOUSANDS_RE.match(s):
        s = s.replace(",", "").replace(" ", "")
    if drop_assignment:
        assigned = _ASSIGN_RE.match(s)
        if assigned:
            s = assigned.group(1)
    return s.rstrip(".").strip()


def _point_for_comma(number: str, other: str) -> str:
    """`number` with its decimal comma as a point ("2,74" -> "2.74") when `other` is a plain number."""
    comma = _DECIMAL_COMMA_RE.fullmatch(number)
    if comma and _PLAIN_NUMBER_RE.fullmatch(other):
        whole, fraction = comma.groups()
        if len(fraction) != 3 or whole.lstrip("-") == "0":
            return f"{whole}.{fraction}"
    return number


def second_chance(gold: str, pred: str) -> tuple[str, str] | None:
    """Normalised (gold, pred), or None when normalising changes neither. `x = 3` loses its `x =` only
    when the other side is not itself an equation (x = 3 against y = 3 stays a comparison of equations);
    a decimal comma is read as a point against a plain number (2,74 against 2.74)."""
    assignment = ("=" in gold) != ("=" in pred)
    gold_form, pred_form = normalize_answer(gold, assignment), normalize_answer(pred, assignment)
    pair = (_point_for_comma(gold_form, pred_form), _point_for_comma(pred_form, gold_form))
    return None if pair == (gold.strip(), pred.strip()) else pair


def same_text(gold: str, pred: str) -> bool:
    """Equal as written, up to spacing that cannot change meaning (not between two digits)."""

    def squeeze(s: str) -> str:
        s = s.strip().strip("$").strip().rstrip(".")
        return re.sub(r"(?<!\d)\s+|\s+(?!\d)", "", s)

    return squeeze(gold) == squeeze(pred)
