"""Normalisation for answer forms that equivalence checkers commonly miss.

Applied to both sides before math-verify, and used for a cheap exact-match fast path.
"""

from __future__ import annotations

import re

_TEXT_RE = re.compile(r"\\(?:text|textbf|mbox|mathrm)\s*\{([^{}]*)\}(\^\{?[23]\}?)?")
_UNIT_WORDS = (
    r"(?:cm|m|km|mm|kg|g|mg|s|sec|seconds?|minutes?|hours?|days?|weeks?|years?|inches|inch|in|feet|foot|ft|"
    r"miles?|meters?|units?|square|sq|cubic|dollars?|cents?|degrees?|mph|pounds?|lbs?|ounces?|oz|liters?|"
    r"people|students|ways|points)"
)
_TRAILING_UNIT_RE = re.compile(r"(?<=[\d}])\s*(?:\\,|\\ |~)?\s*" + _UNIT_WORDS + r"(?:\^?\{?[23]\}?)?\s*$")
_THOUSANDS_RE = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_ASSIGN_RE = re.compile(r"^\s*[A-Za-z](?:_\{?\w+\}?)?\s*=\s*(?!.*=)(.+)$")


def _drop_unit_text(match: re.Match) -> str:
    if re.fullmatch(r"\s*" + _UNIT_WORDS + r"\s*", match.group(1)):
        return ""
    return match.group(1) + (match.group(2) or "")


def normalize_answer(answer: str, keep_percent: bool = True) -> str:
    """A canonical string for an answer; `keep_percent=False` also drops a trailing percent sign."""
    s = answer.strip()
    s = s.strip("$").strip()
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = s.replace("\\left", "").replace("\\right", "")
    s = s.replace("\\!", "").replace("\\displaystyle", "")
    s = re.sub(r"\^\s*\{?\\circ\}?", "", s)
    s = s.replace("°", "").replace("\\degree", "")
    s = s.replace("\\$", "").replace("\\text{\\$}", "")
    # Units written as \text{ cm}: drop the text when it is a unit word, keep it otherwise.
    s = _TEXT_RE.sub(_drop_unit_text, s)
    s = _TRAILING_UNIT_RE.sub("", s).strip()
    if _THOUSANDS_RE.match(s):
        s = s.replace(",", "")
    assigned = _ASSIGN_RE.match(s)
    if assigned:
        s = assigned.group(1)
    if not keep_percent:
        s = re.sub(r"\s*\\?%\s*$", "", s)
    s = s.rstrip(".").strip()
    s = re.sub(r"\s+", "", s)
    return s
