"""Find the final answer in a model's text, in time linear in its length.

`strict` reads only what the text declares as its answer: the last run of \\boxed{...}/\\fbox{...}
(several boxes joined by "," or "and" are one multi-part answer), an answer statement ("The answer is
X", "Final answer: X", GSM8K's "#### X"), a closing sentence that concludes ("Therefore, ... is 2/3.")
or ends on "is <number>", or a text that is nothing but an answer. `lenient` then falls back to the last
formula ($...$, $$...$$, \\(...\\), \\[...\\]) and, only when there is none, to the last number written
outside any formula: it never picks digits out of LaTeX (the 3 of $\\frac{2}{3}$).
Strict exists because lenient reading credits lucky numbers at large k.

Every step is a linear scan or a regex on a bounded window, so a degenerate completion (a megabyte of
text, 30,000 spaces inside a box) costs milliseconds, never minutes, before the time-limited verifier.
"""

from __future__ import annotations

import functools
import re
import unicodedata

MODES = ("strict", "lenient")

_TAIL = 4000  # answer statements are searched for in the last characters only
_MAX_GAP = 80  # boxes further apart than this are separate answers, not parts of one
_BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BRACE_RE = re.compile(r"\\.|[{}]", re.DOTALL)
_BOX_SPACE_RE = re.compile(r"\\boxed +([^\s$]+)")
# What may stand between the parts of one multi-part answer: punctuation, "and"/"or", spacing commands,
# math delimiters and short \text{...} connectors (\text{ for part (a) and }).
_CONNECTOR_RE = re.compile(
    r"(?:\s|[,;]|\$|\\[()\[\]]|\\quad|\\qquad|\\,|\\;|\\ |and|or|\\text\{[^{}]{0,40}\}"
    r"|[A-Za-z](?:_\{?\w{1,3}\}?)?\s*=|\b[A-Za-z]{1,12}\s+(?=and\b|or\b))*"
)
# An equals sign between two boxes or formulas, outside both: the parts are one equation.
_EQUALS_GAP_RE = re.compile(r"\s*(?:\$\$|\$|\\[)\]])?\s*=\s*(?:\$\$|\$|\\[(\[])?\s*")
# What follows "answer" before its value ("Answer = 7", "answer: 7"); a value stated before "is the answer".
_ANSWER_SIGN_RE = re.compile(r"^\s*\**\s*[=:]\s*")
_ANSWER_FIRST_RE = re.compile(
    r"(?:^|(?<=[.\n]))\s*([^.\n]{1,80}?)\s+is\s+(?:the|my|our)\s+(?:final\s+)?$", re.IGNORECASE
)
_BOLD_RE = re.compile(r"\s*\*\*([^*\n]{1,100})\*\*\s*")
# A sentence that checks or comments on an answer already given.
_CHECK_RE = re.compile(
    r"\s*(?:\*\*)?(?:(?:this|that|which) (?:matches|agrees|checks|confirms|is consistent|is correct|is the only)"
    r"|(?:note|notice) that|verification|verifying|verify|checking|check(?=:)|let me (?:double-)?check|let me verify"
    r"|let's (?:double-)?check|let's verify|double-check|indeed|correct|as expected)\b[^\n]*[.!✓✔]\s*$"
    r"|\s*[✓✔]\s*$",
    re.IGNORECASE,
)
# Minerva's closing line outranks any box before it, as in math-verify.
_MINERVA_RE = re.compile(r"final answer is[:\s]{0,5}\$([^$\n]{1,300})\$\.?\s?I hope", re.IGNORECASE)
_STATEMENT_RES = [
    re.compile(r"final answer is[:\s]{0,5}\$([^$\n]{1,300})\$", re.IGNORECASE),
    re.compile(r"####[ \t]{0,5}([^\n]{1,300})"),
]
# "answer" and the rest of its sentence, where the answer is the last formula or number.
_ANSWER_WORD_RE = re.compile(r"\banswer\b", re.IGNORECASE)
_SENTENCE_END_RE = re.compile(r"\.(?=\s|$)|\n")
_ANSWER_PLAIN_RE = re.compile(r"^(?:\s*(?:is|:|=)){1,2}\s*([^\n$]{1,200}?)\s*$", re.IGNORECASE)
# The closing sentence declares the answer when it draws a conclusion or ends on "is <number>".
_CONCLUSION_RE = re.compile(r"\b(?:therefore|thus|hence|in conclusion|in total|in all)\b", re.IGNORECASE)
_ENDS_ON_NUMBER_RE = re.compile(
    r"(?:\b(?:is|are|was|were|equals|makes|gives)|'s|(=))\s+[\[(]?\s?(-?\d[\d,]*(?:\.\d+)?(?:/\d+)?)"
    r"\s?[^\s\w.]{0,2}(?:[A-Za-z]{1,3}\d?)?[.!]?\s*$"
)
# ... or on "is 7 dollars." / "has 7 apples left.": a singular verb and a unit of up to two words.
_NOT_A_UNIT = r"(?!(?:and|or|times|more|less|fewer|than|plus|minus|per|of|to|by|from|so|then|is|are)\b)"
_ENDS_ON_UNIT_RE = re.compile(
    r"\b(?:is|was|equals|has|have|had)(=)?\s+(-?\d[\d,]*(?:\.\d+)?(?:/\d+)?)\s+"
    + _NOT_A_UNIT
    + r"[a-z]{2,12}(?:\s"
    + _NOT_A_UNIT
    + r"[a-z]{2,12})?[.!]?\s*$"
)
# Chat-template tokens a generation may run on into ("... is 2/3. <|im_start|>user"), and Minerva's sign-off.
_TRAILING_TOKEN_RE = re.compile(
    r"(?:<\|[^|<>]{1,40}\|>|</s>|<eos>|I hope it is correct\.?)(?:[A-Za-z]{1,12})?$", re.IGNORECASE
)
# What may follow a formula that ends the text, in `strict`: its closer, punctuation, up to three words.
_FORMULA_ENDS_TEXT_RE = re.compile(
    r"\s*(?:\$\$|\$|\\\)|\\\])?[\s,;:%)\]]*"
    r"(?:(?!(?:so|then|and|or|we|which|where|since|because|but|let|now|if|thus|hence|therefore|to)\b)"
    r"[a-z][A-Za-z]{0,11}[\s,;:%)\]]*){0,3}[\s.!?]*"
)
_DELIMITER_RE = re.compile(r"\\\$|\$\$|\$|\\\(|\\\)|\\\[|\\\]")
_CLOSER = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}
_NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:,\d{3}(?!\d)| \d{3}(?![\d.,]))*(?:\.\d+)?(?:/\d+)?")
# A decimal comma (2,74): the digits before a comma that is not followed by three digits (a thousands
# separator) nor part of a list (1,2,3).
_COMMA_WHOLE_RE = re.compile(r"(?<![\w.,])-?\d+,$")
_MORE_DIGITS_RE = re.compile(r"[.,]?\d")
# A whole completion that is one short labelled value: "Total: 12", "Soucis : 2,74 $".
_LABELLED_RE = re.compile(
    r"[^\n:$\d]{1,40}:[ \t]*(-?\d[\d,]*(?:\.\d+)?)[ \t]*(?:\$|€|£|%)?(?:[ \t]*[A-Za-z]{0,3}\.{0,3})?"
)
# The equation a number in prose closes ("5 * 4 = 20", "12 = = 4"): its claim is checked, not just its end.
_EQUATION_BEFORE_RE = re.compile(
    r"(?:(?:\d+(?:\.\d+)?|(?<![A-Za-z\\])[A-Za-z](?![A-Za-z])|[+\-*/^()×÷=$]|\\cdot|\\times)[ \t]*)*=[ \t$]*$"
)
# Arithmetic that a number in prose is said to equal ("5 * 4 is 2", "5 * 4 equals 2"): an equation too.
_SAID_EQUAL_BEFORE_RE = re.compile(
    r"(?:\d+(?:\.\d+)?[ \t]*(?:[+\-*/^×÷]|\\cdot|\\times)[ \t]*)+\d+(?:\.\d+)?[ \t]+(?:is|equals)[ \t]+$"
)
# What no answer looks like: starting on a colon or an operator other than a sign, ending on an operator or an
# opening bracket, runs of colons or question marks, two operators in a row ("5 * = 2", ":::: 7").
_NOT_AN_ANSWER_RE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f\ufffd]|\.\s+\S"  # control bytes, broken UTF-8, a second sentence
    r"|^[:;,=*/^!?%#@~`'\"]|[=+*/^:;,(\[{]\s*$|[:;?]{2}|[=*/^]\s*[=*/^+]|[+]\s*[=*/^+]"
)
_WORD_RE = re.compile(r"(?<!\\)\b[A-Za-z]{2,}\b")
_LATEX_COMMAND_RE = re.compile(r"\\[A-Za-z]+")
_NAMED_GROUP_RE = re.compile(
    r"\\(?:begin|end|text|textbf|mathrm|mbox|operatorname)\s*\{[^{}]*\}|(?<=\d)\s*(?:percentage|percent|pct)\b"
)
# Unicode forms of a minus sign that NFKC leaves alone.
_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-"})


def clean_unicode(text: str) -> str:
    """Full-width digits become digits (NFKC) and a typographic minus (U+2212 etc.) becomes '-'."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(_MINUS)


def _boxes(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of every closed \\boxed{...}/\\fbox{...}, in order, found in one pass."""
    openings = {m.end() - 1: m.start() for m in _BOX_RE.finditer(text)}
    if not openings:
        return []
    found: list[tuple[int, int, str]] = []
    stack: list[int] = []
    # braces before the first box cannot close one; an escaped character (\\{, \\}) is skipped
    for match in _BRACE_RE.finditer(text, min(openings)):
        ch = match.group()
        if ch == "{":
            stack.append(match.start())
        elif ch == "}" and stack:
            opened = stack.pop()
            if opened in openings:
                found.append((openings[opened], match.end(), text[opened + 1 : match.start()].strip()))
    found.sort()
    # keep outermost boxes only (a box nested in another is part of its answer)
    outer: list[tuple[int, int, str]] = []
    for box in found:
        if not outer or box[0] >= outer[-1][1]:
            outer.append(box)
    return outer


def _spaced_box(text: str) -> str | None:
    """`\\boxed 7`, the brace-less form."""
    spaced = _BOX_SPACE_RE.findall(text[-_TAIL:])
    return spaced[-1].strip() if spaced else None


def last_boxed(text: str) -> str | None:
    """Content of the last closed \\boxed{...} or \\fbox{...}; None when absent."""
    boxes = _boxes(text)
    return boxes[-1][2] if boxes else _spaced_box(text)


def _chain(text: str, spans: list[tuple]) -> list[tuple]:
    """The last span with those before it joined to it by connectors only ("$1$, $2$ and $3$") or by an
    equals sign ("\\boxed{5 \\cdot 4} = \\boxed{2}", one equation whose claim is checked)."""
    first = len(spans) - 1
    while first > 0:
        gap_start, gap_end = spans[first - 1][1], spans[first][0]
        if gap_end - gap_start > _MAX_GAP or not (
            _CONNECTOR_RE.fullmatch(text, gap_start, gap_end)
            or _EQUALS_GAP_RE.fullmatch(text, gap_start, gap_end)
        ):
            break
        first -= 1
    return spans[first:]


def _joined(text: str, spans: list[tuple], parts: list[str]) -> str:
    """The chained parts as one answer: ", " between parts of a multi-part answer, " = " across an equals sign."""
    out = parts[0]
    for before, after, part in zip(spans, spans[1:], parts[1:]):
        equals = _EQUALS_GAP_RE.fullmatch(text, before[1], after[0])
        out += (" = " if equals else ", ") + part
    return out


def boxed_answer(text: str) -> str | None:
    """The last run of boxes as one answer: "\\boxed{1}, \\boxed{2} and \\boxed{3}" -> "1, 2, 3"."""
    boxes = _boxes(text)
    if not boxes:
        return _spaced_box(text)
    chained = [box for box in _chain(text, boxes) if box[2]]
    return _joined(text, chained, [content for _, _, content in chained]) if chained else None


def _outside_formulas(text: str) -> str:
    """The text with every formula's content blanked out by spaces, so offsets still match."""
    pieces, last = [], 0
    for a, b in _formula_spans(text):
        pieces.append(text[last:a])
        pieces.append(" " * (b - a))
        last = b
    pieces.append(text[last:])
    return "".join(pieces)


def _formula_spans(text: str) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    opener: str | None = None
    start = 0
    for match in _DELIMITER_RE.finditer(text):
        token = match.group()
        if token == "\\$":
            continue
        if opener is None:
            if token in _CLOSER:
                opener, start = token, match.end()
        elif token == _CLOSER[opener]:
            content = text[start : match.start()]
            if content.strip() and not (opener == "$" and "\n\n" in content):
                found.append((start, match.start()))
            opener = None
    return found


def _statement(text: str) -> str | None:
    """What the last sentence containing "answer" gives as the answer (its last formula or number)."""
    tail = text[-_TAIL:]
    for pattern in _STATEMENT_RES:
        found = list(pattern.finditer(tail))
        if found:
            answer = found[-1].group(1).strip().rstrip(".").strip()
            if answer and pattern is _STATEMENT_RES[0]:
                answer = _with_parts_after(tail, found[-1].start(1) - 1) or answer
            if answer:
                return answer
    for word in reversed(list(_ANSWER_WORD_RE.finditer(tail))):
        rest = tail[word.end() :]
        end = _SENTENCE_END_RE.search(rest, 1)
        sentence = rest[: end.start() if end else 300][:300]
        found = _last_formula_or_number(_ANSWER_SIGN_RE.sub(" ", sentence, count=1))  # "Answer = 7" is 7
        if found is not None:
            return found
        if not sentence.strip(" .!"):  # "7 is the answer."
            before = _ANSWER_FIRST_RE.search(tail, max(0, word.start() - 120), word.start())
            found = _last_formula_or_number(before.group(1)) if before else None
            if found is not None:
                return found
        plain = _ANSWER_PLAIN_RE.match(sentence)
        if plain and plain.group(1).strip():
            return plain.group(1).strip()
    return None


def _with_parts_after(text: str, start: int) -> str | None:
    """The formula opening at `start` and those joined after it as parts of one answer ("$x = 7$ and $y = 3$")."""
    spans = _formula_spans(text[start:])
    if len(spans) < 2:
        return None
    last = 0
    while last + 1 < len(spans):
        gap = text[start + spans[last][1] : start + spans[last + 1][0]]
        if len(gap) > _MAX_GAP or not _CONNECTOR_RE.fullmatch(gap):
            break
        last += 1
    if last == 0:
        return None
    return ", ".join(text[start + a : start + b].strip() for a, b in spans[: last + 1])


def _without_checks(text: str) -> str:
    """The text without the sentences after its answer that check or comment on it ("This matches our count.",
    "Verification: $2 \\cdot 7 - 3 = 11$ ✓"), up to three of them."""
    for _ in range(3):
        text = text.rstrip()
        ends = [m.end() for m in _SENTENCE_END_RE.finditer(text[:-1])]
        if not ends or not _CHECK_RE.match(text[ends[-1] :]):
            break
        text = text[: ends[-1]]
    return text


def _closing_sentence(text: str) -> str | None:
    """The answer the last sentence declares: "Therefore, ... is 2/3." or "... which is 1,000.99€"."""
    text = text[-_TAIL:].rstrip()
    while token := _TRAILING_TOKEN_RE.search(text[-60:]):
        text = text[: len(text) - len(token.group())].rstrip()
    ends = [m.end() for m in _SENTENCE_END_RE.finditer(text[:-1])]
    sentence = text[ends[-1] :] if ends else text
    conclusions = list(_CONCLUSION_RE.finditer(sentence))
    if conclusions:
        return _last_formula_or_number(sentence[conclusions[-1].end() :])
    window = _outside_formulas(sentence)[-80:]
    ending = _ENDS_ON_NUMBER_RE.search(window) or _ENDS_ON_UNIT_RE.search(window)
    if ending is None or (ending.group(1) and ends):  # "= 5" closes a step, unless it is the whole text
        return None
    return _with_equation(window, ending.start(2), ending.group(2))


def _ends_text(text: str, end: int) -> bool:
    """Whether the formula closing at `end` ends the text: nothing after it but its closing delimiter,
    punctuation, chat-template tokens and at most three words ("$28$ percent", "$x < 5$ is the solution."),
    none of which carries the text on ("so", "then", "we") or opens a new sentence (a solution cut short)."""
    rest = text[end:].rstrip()
    while token := _TRAILING_TOKEN_RE.search(rest[-60:]):
        rest = rest[: len(rest) - len(token.group())].rstrip()
    return _FORMULA_ENDS_TEXT_RE.fullmatch(rest) is not None


def _formula_run(text: str, spans: list[tuple[int, int]]) -> str:
    """The last formula with those chained to it as one multi-part answer."""
    chained = _chain(text, spans)
    return _joined(text, chained, [text[a:b].strip() for a, b in chained])


def _last_formula_or_number(text: str) -> str | None:
    """The rightmost of the last formula (with its chain) and the last number written outside formulas."""
    spans = _formula_spans(text)
    numbers = list(_NUMBER_RE.finditer(_outside_formulas(text)))
    if spans and (not numbers or spans[-1][1] > numbers[-1].start()):
        return _formula_run(text, spans)
    if not numbers:
        return None
    return _with_equation(text, numbers[-1].start(), _with_decimal_comma(text, numbers[-1]))


def _with_equation(text: str, start: int, answer: str) -> str:
    """`answer` (a number at `start`) with the equation written before it, if it closes one."""
    before = _EQUATION_BEFORE_RE.search(text, max(0, start - 80), start)
    if before:
        return before.group().replace("$", " ").strip() + " " + answer
    said = _SAID_EQUAL_BEFORE_RE.search(text, max(0, start - 80), start)
    return re.sub(r"\s+(?:is|equals)\s+$", " = ", said.group()) + answer if said else answer


def _with_decimal_comma(text: str, number: re.Match) -> str:
    """The number, with the whole part before its decimal comma when it has one ("2,74", not "74")."""
    digits = number.group()
    if not digits.isdigit() or _MORE_DIGITS_RE.match(text, number.end()):
        return digits
    whole = _COMMA_WHOLE_RE.search(text, max(0, number.start() - 30), number.start())
    return whole.group() + digits if whole else digits


def is_bare_answer(text: str) -> bool:
    """True when the text is nothing but an answer: one formula or a short expression without words."""
    stripped = text.strip()
    if not stripped or len(stripped) > 500:
        return False
    if len(_formula_spans(stripped)) == 1:
        for opener, closer in _CLOSER.items():
            if stripped.startswith(opener) and stripped.endswith(closer):
                return True
    if stripped.count("$") == 1:  # a currency sign: "$1,000.99"
        stripped = stripped.replace("$", "")
    if "$" in stripped or _NOT_AN_ANSWER_RE.search(stripped):
        return False
    without_names = _NAMED_GROUP_RE.sub(" ", stripped)
    return _WORD_RE.search(_LATEX_COMMAND_RE.sub(" ", without_names)) is None


def _bare(text: str) -> str:
    stripped = text.strip()
    for opener, closer in _CLOSER.items():
        if (
            stripped.startswith(opener)
            and stripped.endswith(closer)
            and len(stripped) > len(opener) + len(closer)
        ):
            return stripped[len(opener) : -len(closer)].strip()
    return stripped


def extract_answer(text: str, mode: str = "lenient") -> str | None:
    """The final answer as a string, or None when the text states none."""
    if mode not in MODES:
        raise ValueError(f"unknown extraction mode {mode!r}; use one of {MODES}")
    if not text or not text.strip():
        return None
    text = clean_unicode(text)
    if bold := _BOLD_RE.fullmatch(text):  # "**7**"
        text = bold.group(1)
    minerva = _MINERVA_RE.findall(text[-_TAIL:])
    if minerva and minerva[-1].strip():
        return minerva[-1].strip()
    boxed = boxed_answer(text)
    if boxed is not None:
        return boxed or None
    if is_bare_answer(text):
        return _bare(text)
    statement = _statement(text)
    if statement is not None:
        return statement
    tail = _without_checks(text[-_TAIL:])
    if mode == "strict":
        labelled = _LABELLED_RE.fullmatch(text.strip()) if len(text) < 100 else None
        if labelled:
            return labelled.group(1)
        closing = _closing_sentence(tail)
        if closing is not None:
            return closing
        spans = _formula_spans(tail)
        return _formula_run(tail, spans) if spans and _ends_text(tail, spans[-1][1]) else None
    return _last_formula_or_number(tail)


@functools.lru_cache(maxsize=4096)
def extract_gold(gold: str) -> str:
    """A gold answer as written in a dataset: bare ("\\frac12", "(1, 2)") or wrapped ($...$, \\boxed{})."""
    gold = clean_unicode(gold)
    if is_bare_answer(gold) or not any(d in gold for d in ("$", "\\boxed", "\\fbox", "\\(", "\\[")):
        return _bare(gold)
    return extract_answer(gold, "lenient") or gold.strip()
