"""What an extracted answer must look like before any verifier sees it.

math-verify reads a relation other than `=` (`\\equiv`, `:=`, `\\Rightarrow`, `\\to`) as an equation and
compares one of its sides, so `\\boxed{8 \\equiv 7}` was paid for 7; an `=` hidden in braces, `\\text{=}` or
spacing (`8\\!=\\!7`) escaped the check that an equation must hold. `tidy` spells every such relation as `=`,
so the equation check sees it. `refusal` names answers that no reader would pay: a box that hedges between
two numbers (`6 \\text{ (or maybe 7)}`), garbage math-verify cannot parse (whose last number its bare-text
fallback would read), and a remainder left to compute (`10^{100000} \\bmod 7`, read as its modulus).
"""

from __future__ import annotations

import re

_INVISIBLE_RE = re.compile(
    r"\\!(?=\s*=)|(?<==)\s*\\!|\\(?:hspace|vspace|hphantom|vphantom|phantom)\s*\*?\s*\{[^{}]*\}"
)
_HIDDEN_EQUALS_RE = re.compile(r"\\(?:text|mathrm|mbox|textrm)\s*\{\s*=\s*\}|\{\s*=\s*\}")
_PMOD_RE = re.compile(r"\\pmod\s*(?:\{[^{}]*\}|\w+)|\(\s*\\mod\s*\{?\s*\w+\s*\}?\s*\)")
_RELATION_RE = re.compile(
    r"\\(?:equiv|coloneqq|eqqcolon|doteq|Rightarrow|rightarrow|implies|Longrightarrow|longrightarrow|to|mapsto"
    r"|simeq|cong)(?![A-Za-z])|:=|->|≡|⇒|→"
)
_TEXT_RE = re.compile(r"\\(?:text|mathrm|mbox|textrm|textbf|textit)\s*\{([^{}]*)\}")
_HEDGE_WORD_RE = re.compile(r"\b(?:maybe|perhaps|possibly|probably|or)\b", re.IGNORECASE)
_MODULO_RE = re.compile(r"\\(?:bmod|mod)(?![A-Za-z])")
_GARBAGE_RE = re.compile(r"[@?]|[;:]\s*[;:]")


def _whole_braced(text: str) -> bool:
    if not (text.startswith("{") and text.endswith("}")):
        return False
    depth = 0
    for i, char in enumerate(text):
        depth += (char == "{") - (char == "}")
        if depth == 0 and i < len(text) - 1:
            return False
    return True


def _top_level_relations(text: str) -> str:
    """`text` with each relation that stands outside every bracket spelled `=` (`\\lim_{x\\to0}` keeps its arrow)."""
    out, depth, i = [], 0, 0
    while i < len(text):
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] in ("{", "}"):
            out.append(text[i : i + 2])
            i += 2
            continue
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth = max(0, depth - 1)
        elif depth == 0 and (match := _RELATION_RE.match(text, i)):
            out.append(" = ")
            i = match.end()
            continue
        out.append(char)
        i += 1
    return "".join(out)


# LaTeX spellings of one number: a thin-space thousands separator (7\\,000), a braced comma (7{,}5 is 7.5 and
# 1{,}000 is 1000), a scale word (7 \\text{ thousand}), and a whole answer of digit groups split by spaces
# (`1 000`), which math-verify also reads as the product 1 * 000 = 0, paying it for gold 0 as well as 1000.
_SPACED_THOUSANDS_RE = re.compile(
    r"^(\s*(?:\\boxed\s*\{)?\s*)(-?\d{1,3}(?:(?:\s|\\\s|~)+\d{3})+(?:\.\d+)?)(\s*\}?\s*)$"
)
_THIN_THOUSANDS_RE = re.compile(r"(?<=\d)\\,(?=\d{3}(?!\d))")
_BRACED_THOUSANDS_RE = re.compile(r"(?<=\d)\{,\}(?=\d{3}(?![\d{]))|(?<=\d)\{,\}(?=\d{3}\{,\})")
_BRACED_DECIMAL_RE = re.compile(r"(?<=\d)\{,\}(?=\d)")
_SCALE_RE = re.compile(
    r"^(-?\d+(?:\.\d+)?)\s*(?:\\(?:text|mathrm|mbox)\s*\{\s*(thousand|million|billion)\s*\}|\s(thousand|million|billion))$"
)
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9}
# A system on two lines: `x=2 \\ y=3`, alone or in a cases environment, is `x=2, y=3`.
_CASES_RE = re.compile(
    r"^\\begin\s*\{\s*(?:cases|aligned|array)\s*\}(?:\{[^{}]*\})?(.*)\\end\s*\{\s*(?:cases|aligned|array)\s*\}$",
    re.DOTALL,
)


def joined_thousands(text: str) -> str:
    """`1 000` (or `1\\ 000`, `1~000`) as `1000`, answer or gold: never the product 0 that math-verify also reads."""
    match = _SPACED_THOUSANDS_RE.match(text)
    if not match or match.group(1).count("{") != match.group(3).count("}"):
        return text
    return match.group(1) + re.sub(r"\\?\s|~", "", match.group(2)) + match.group(3)


def _one_number(text: str) -> str:
    text = joined_thousands(text)
    text = _THIN_THOUSANDS_RE.sub("", text)
    text = _BRACED_THOUSANDS_RE.sub("", text)
    text = _BRACED_DECIMAL_RE.sub(".", text)
    scaled = _SCALE_RE.match(text)
    if scaled:
        from fractions import Fraction

        value = Fraction(scaled.group(1)) * _SCALES[scaled.group(2) or scaled.group(3)]
        text = (
            str(value.numerator)
            if value.denominator == 1
            else scaled.group(1) + f" \\cdot {_SCALES[scaled.group(2) or scaled.group(3)]}"
        )
    return text


def _value_last(text: str) -> str:
    """`6 = a+b+c` states the value 6 of a quantity, as `a+b+c = 6` does: the value goes last."""
    from rlvr.rewards.math_equation import _has_names, _top_level

    sides = _top_level(text, "=")
    if len(sides) == 2 and re.fullmatch(r"\s*-?\d+(?:\.\d+)?\s*", sides[0]) and _has_names(sides[1]):
        return f"{sides[1].strip()} = {sides[0].strip()}"
    return text


def tidy(answer: str) -> str:
    """The answer with invisible spacing gone, hidden `=` signs shown and every relation spelled `=`."""
    text = answer.strip()
    for _ in range(8):  # {{8 = 7}}: an equation in braces is still one
        if "=" not in text or not _whole_braced(text):
            break
        text = text[1:-1].strip()
    text = _INVISIBLE_RE.sub(" ", text)
    text = _HIDDEN_EQUALS_RE.sub("=", text)
    text = _PMOD_RE.sub(" ", text)
    if _RELATION_RE.search(text):
        text = _top_level_relations(text)
    if cases := _CASES_RE.match(text.strip()):
        text = cases.group(1)
    if "\\\\" in text and "=" in text and "\\begin" not in text:
        text = re.sub(r"\s*\\\\\s*", ", ", text.strip().strip("\\").strip())
    return _value_last(_one_number(text.strip()))


def _brackets_balance(text: str) -> bool:
    """Every closing bracket has an opening one before it (any kind: intervals mix them) and none is left open."""
    text = re.sub(r"\\[{}]|\\(?:left|right)\s*\.", "", text)
    depth = 0
    for char in text:
        depth += (char in "([{") - (char in ")]}")
        if depth < 0:
            return False
    return depth == 0


def refusal(answer: str, gold: str) -> str:
    """Why `answer` is wrong whatever its value ("" when it is not)."""
    texts = _TEXT_RE.findall(answer)
    outside = _TEXT_RE.sub(" ", answer)
    if re.search(r"\d", outside) and any(
        re.search(r"\d", text) or _HEDGE_WORD_RE.search(text) and not _brackets_balance(text)
        for text in texts
    ):
        return "a hedge between two values (a number in the text beside the number)"
    if _MODULO_RE.search(answer.split("=")[-1]) and not _MODULO_RE.search(gold):
        return "a remainder left to compute (`\\bmod`)"
    if (_GARBAGE_RE.search(answer) or not _brackets_balance(answer)) and not _GARBAGE_RE.search(gold):
        return "not an answer (stray symbols or unbalanced brackets)"
    return ""
