"""Find the final answer in a model's text.

`strict` reads only the last \\boxed{...} / \\fbox{...}; `lenient` then falls back to "The answer is X",
GSM8K's "#### X", Minerva's "final answer is $X$", and finally the last number. Strict exists because
lenient extraction credits lucky guesses at large k.
"""

from __future__ import annotations

import re

MODES = ("strict", "lenient")

_BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BOX_SPACE_RE = re.compile(r"\\boxed +([^\s$]+)")
_MINERVA_RE = re.compile(r"final answer is\s*\$(.+?)\$", re.IGNORECASE | re.DOTALL)
_ANSWER_IS_RE = re.compile(r"answer is[:\s]*\$?([^\n$]+?)\$?\s*(?:\.\s|\.?$|\n)", re.IGNORECASE)
_GSM8K_RE = re.compile(r"####\s*([^\n]+)")
_NUMBER_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?")


def last_boxed(text: str) -> str | None:
    """Content of the last closed \\boxed{...} or \\fbox{...}; None when absent. Linear in len(text)."""
    openings = {m.end() - 1 for m in _BOX_RE.finditer(text)}
    if openings:
        closing: dict[int, int] = {}
        stack: list[int] = []
        i, size = 0, len(text)
        while i < size:
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == "{":
                stack.append(i)
            elif ch == "}" and stack:
                opened = stack.pop()
                if opened in openings:
                    closing[opened] = i
            i += 1
        if closing:
            last = max(closing)
            return text[last + 1 : closing[last]].strip()
    spaced = _BOX_SPACE_RE.findall(text)
    return spaced[-1].strip() if spaced else None


def extract_answer(text: str, mode: str = "lenient") -> str | None:
    """The final answer as a string, or None when the text states none."""
    if mode not in MODES:
        raise ValueError(f"unknown extraction mode {mode!r}; use one of {MODES}")
    if not text:
        return None
    boxed = last_boxed(text)
    if boxed is not None or mode == "strict":
        return boxed or None
    for pattern in (_MINERVA_RE, _ANSWER_IS_RE, _GSM8K_RE):
        found = pattern.findall(text)
        if found:
            answer = found[-1].strip().rstrip(".").strip()
            if answer:
                return answer
    numbers = _NUMBER_RE.findall(text)
    return numbers[-1].rstrip(",") if numbers else None
