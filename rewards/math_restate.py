"""An answer that restates its problem scores nothing.

math-verify evaluates what it parses, so `\\boxed{3 + 4 * 2}` equals 11, `\\boxed{\\dbinom{31}{28}}` equals 4495 and
`\\boxed{0.\\overline{5}}` equals 5/9: a policy that copies the problem's expression into the box is credited
without computing anything (and a base model that echoes the question gains pass@k at large k). PRM800K's grader
closes this by demanding a plain integer when the gold is one; that also refuses honest forms such as `10^3`,
which other projects' suites label correct. This check is narrower: it refuses an answer only when it is a piece of the prompt with an operation in it,
and is not the gold itself. "A piece" is judged on the text up to spacing and LaTeX spelling, and on arithmetic
as parsed expression trees up to the order and grouping of + and x and neutral terms (+0, x1, /1, ^1), so
`4 + 3` and `3 + 4 + 0` restate "What is $3 + 4$?" as `3 + 4` does.
"""

from __future__ import annotations

import ast
import functools
import itertools
import re
import threading
from fractions import Fraction

from rlvr.rewards.math_normalize import normalize_answer, same_text

_ROOT = "Ω"  # \\sqrt as a one-letter function the tree parser reads (Ω(12) is sqrt(12)); no answer writes it
_SPELLINGS = (
    (
        re.compile(r"\\sqrt\s*(?:\{((?:[^{}]|\{[^{}]*\})*)\}|(\d))"),
        lambda m: f"{_ROOT}({m.group(1) or m.group(2)})",
    ),
    # an ordinal's suffix is not an operation: the `12^{\mathrm{th}}` grade picked from a table is an answer
    (
        re.compile(
            r"\^\s*\{?\s*(?:\\(?:text|mathrm|textrm|rm)\s*\{)?\s*(?:st|nd|rd|th)(?![a-zA-Z])\s*\}?\s*\}?"
        ),
        "",
    ),
    # signs of units, not operations: \\$25 is 25 dollars, 5^\\circ five degrees, 3\\text{ cm} three centimetres
    (
        re.compile(
            r"\\[$%]|\^\s*\{?\s*\\circ\s*\}?|°|\\(?:text|mathrm|mbox)\s*\{\s*[A-Za-z][A-Za-z ]*\}(?:\^\{?[23]\}?)?"
        ),
        "",
    ),
    (re.compile(r"\\[dtc]frac"), r"\\frac"),
    # \frac{12}{7} and 12/7 are one fraction: "write 12 \div 7 as a fraction" is answered by either
    (
        re.compile(r"\\frac\s*(?:\{\s*(\w+)\s*\}|(\d))\s*(?:\{\s*(\w+)\s*\}|(\d))"),
        lambda m: f"{m.group(1) or m.group(2)}/{m.group(3) or m.group(4)}",
    ),
    # \frac{3 + 4}{1}: any fraction whose parts hold at most one level of braces, as (3 + 4)/(1)
    (re.compile(r"\\frac\s*\{((?:[^{}]|\{[^{}]*\})*)\}\s*\{((?:[^{}]|\{[^{}]*\})*)\}"), r"(\1)/(\2)"),
    (re.compile(r"\\[dt]binom"), r"\\binom"),
    (re.compile(r"\{\s*(\w+)\s*\\choose\s*(\w+)\s*\}"), r"\\binom{\1}{\2}"),
    (re.compile(r"\\(?:times|cdot|ast)(?![a-zA-Z])"), "*"),
    (re.compile(r"\\div(?![a-zA-Z])"), "/"),
    # spacing, sizing and set braces; \sum or \lim with nothing under them change nothing math-verify reads
    (
        re.compile(
            r"\\(?:left|right|displaystyle|textstyle|scriptstyle|q?quad|sum|prod|lim)(?![a-zA-Z_])|\\[()\[\]!,;: {}]|\$"
        ),
        "",
    ),
    # an exponent that computes keeps its grouping once braces go: x^{1+1} is x^(1+1), not x^1 + 1
    (re.compile(r"\^\s*\{([^{}]*[+\-*/][^{}]*)\}"), r"^(\1)"),
    (re.compile(r"[\s{}]"), ""),
)
# applied after the spellings: (3)+(4) is 3+4, and so are 03+4 and 3+4+0 as text
_AFTER = (
    (re.compile(r"(?<!Ω)\(((?:\\[A-Za-z]+)?\w+)\)"), r"\1"),
    (re.compile(r"(?<![\d.])0+(?=\d)"), ""),
    (re.compile(r"(?:[+\-]0(?![\w.*/^(])|[*/^]1(?![\w.^]))"), ""),
    (re.compile(r"(?<![\w.)^_/\-])(?:0\+|1\*)"), ""),  # 0 + x and 1 * x written first
)
# something left to compute: an operator, a LaTeX command, an index; a leading sign alone is not one
_OPERATION_RE = re.compile(r"[+\-*/^!_\\Ω]")
_ENCLOSED_RE = re.compile(r"^\((.*)\)$|^\[(.*)\]$")
# a chain `a = b = c` is judged by its last side, as math-verify judges it
_RELATION_RE = re.compile(r"=|\\approx(?![a-zA-Z])")


_INDEX_RE = re.compile(r"\\(?:sum|prod)\s*_\s*\{?\s*([A-Za-z])\s*=")
_INDEX = "ι"  # every summation index reads as this one: \\sum_{k=1}^{10} k and \\sum_{n=1}^{10} n are one sum


def _indices_renamed(text: str) -> str:
    for letter in set(_INDEX_RE.findall(text)):
        text = re.sub(rf"(?<![A-Za-z\\]){letter}(?![A-Za-z])", _INDEX, text)
    return text


def _quoted(needle: str, haystack: str) -> bool:
    """`needle` occurs in `haystack`, not as part of a longer number (25 is not quoted by $250)."""
    pattern = ("(?<![\\d.])" if needle[:1].isdigit() else "") + re.escape(needle)
    pattern += "(?![\\d])" if needle[-1:].isdigit() else ""
    return re.search(pattern, haystack) is not None


def _canonical(text: str) -> str:
    text = _indices_renamed(text)
    for pattern, replacement in _SPELLINGS + _AFTER:
        text = pattern.sub(replacement, text)
    return text.rstrip(".")


@functools.lru_cache(maxsize=4096)
def _canonical_prompt(prompt: str) -> str:
    return _canonical(prompt)


def _unwrapped(text: str) -> str:
    """Without brackets around the whole text ((3)+(4) keeps its own)."""
    while (match := _ENCLOSED_RE.match(text)) and _balanced(inner := match.group(1) or match.group(2) or ""):
        text = inner
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += char in "([" or -(char in ")]")
        if depth < 0:
            return False
    return depth == 0


# Arithmetic as the prompt writes it: numbers, single-letter names, operators, brackets and spaces.
_ARITHMETIC_RUN_RE = re.compile(r"(?:\d+(?:\.\d+)?|(?<![A-Za-z\\])[A-Za-z](?![A-Za-z])|[+\-*/^()Ω]|[ \t])+")
_NUMERIC_RUN_RE = re.compile(r"[\d(Ω][\d.+\-*/^()Ω\s]*")
_IMPLICIT_PRODUCT_RE = re.compile(r"(?<=[\d)A-Za-z])\s*(?=[A-Za-zΩ(])|(?<=\))\s*(?=\d)")
_MAX_TREE_TEXT = 200  # longer texts are no arithmetic worth parsing (and bound the parser's work)
_MAX_SUBSUMS = 6  # sums and products of up to this many terms also yield their partial sums as pieces

Key = tuple | Fraction | str


def _tree_text(canonical: str) -> str:
    """A canonical form as Python arithmetic: ^ is **, 2x is 2*x."""
    text = _IMPLICIT_PRODUCT_RE.sub("*", canonical.replace("^", "**"))
    return text.replace("***", "**")


def _key(node: ast.AST) -> Key:
    """A tree's form up to the order and grouping of + and *, without neutral terms; ValueError if not arithmetic."""
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        return Fraction(str(node.value))
    if isinstance(node, ast.Name) and len(node.id) == 1 and node.id != _ROOT:
        return node.id
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == _ROOT and len(node.args) == 1:
        return ("sqrt", _key(node.args[0]))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _key(node.operand)
        return inner if isinstance(node.op, ast.UAdd) else _negated(inner)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            terms = [t for t in _terms(node) if _value(t) != 0]
            return _flat("+", terms if getattr(_WRITTEN, "on", False) else _cancelled(terms), Fraction(0))
        if isinstance(node.op, ast.Mult):
            factors = _factors(node)
            if any(_value(f) == 0 for f in factors):
                return Fraction(0)  # 0i, 0*x, 0*5: a neutral term
            return _flat("*", [f for f in factors if _value(f) != 1], Fraction(1))
        left, right = _key(node.left), _key(node.right)
        if isinstance(node.op, (ast.Div, ast.Pow)) and _value(right) == 1:
            return left
        if isinstance(node.op, ast.Div):
            # (1 - x^2)/(1 - x) is (x^2 - 1)/(x - 1)
            return min(("/", left, right), ("/", _negated(left), _negated(right)), key=repr)
        if isinstance(node.op, ast.Pow):
            exponent = _value(right)
            if exponent == 0 and left != 0:  # x^0 is 1
                return Fraction(1)
            if exponent is not None:  # (x + 1)^{1 + 1} is (x + 1)^2
                right = exponent
                if exponent.denominator == 1 and exponent.numerator % 2 == 0:  # (-x - 1)^2 is (x + 1)^2
                    left = min(left, _negated(left), key=repr)
            return ("^", left, right)
    raise ValueError("not arithmetic")


def _value(key: Key) -> Fraction | None:
    """The exact value of a tree of numbers only (small powers), None otherwise: (1 - 1), 0 * 5, 1^2 and (-1)^2
    are neutral terms however they are written."""
    if isinstance(key, Fraction):
        return key
    if not isinstance(key, tuple) or key[0] not in ("+", "*", "/", "^", "neg"):
        return None
    values = [_value(part) for part in key[1:]]
    if any(v is None for v in values):
        return None
    if key[0] == "+":
        return sum(values, Fraction(0))
    if key[0] == "neg":
        return -values[0]
    if key[0] == "*":
        product = Fraction(1)
        for v in values:
            product *= v
        return product
    if key[0] == "/":
        return values[0] / values[1] if values[1] else None
    base, exponent = values
    if exponent.denominator != 1 or abs(exponent) > 64 or (base == 0 and exponent < 0):
        return None
    if abs(base.numerator) > 10**6 or base.denominator > 10**6:
        return None
    return base**exponent.numerator


def _cancelled(terms: list[Key]) -> list[Key]:
    """A sum's terms without pairs that cancel (x + y - y is x)."""
    left = list(terms)
    for term in terms:
        negated = _negated(term)
        if term in left and negated in left and negated != term:
            left.remove(term)
            left.remove(negated)
    return left


def _terms(node: ast.AST) -> list[Key]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        right = _terms(node.right)
        if isinstance(node.op, ast.Sub):
            right = [_negated(t) for t in right]
        return _terms(node.left) + right
    return [_key(node)]


def _negated(key: Key) -> Key:
    """-key, with the sign on a product's number where it has one (- 2x and -2x are one term)."""
    if isinstance(key, Fraction):
        return -key
    if isinstance(key, tuple) and key[0] == "neg":
        return key[1]
    if isinstance(key, tuple) and key[0] == "+":
        return _flat("+", [_negated(term) for term in key[1:]], Fraction(0))
    if isinstance(key, tuple) and key[0] == "*":
        numbers = [f for f in key[1:] if isinstance(f, Fraction)]
        if numbers:
            rest = list(key[1:])
            rest.remove(numbers[0])
            return _flat("*", [f for f in [-numbers[0], *rest] if f != 1], Fraction(1))
    return ("neg", key)


def _factors(node: ast.AST) -> list[Key]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _factors(node.left) + _factors(node.right)
    return [_key(node)]


def _flat(op: str, parts: list[Key], neutral: Fraction) -> Key:
    """An n-ary sum or product as a sorted tuple (its parts flattened, so grouping and order vanish)."""
    flattened: list[Key] = []
    for part in parts:
        flattened.extend(part[1:] if isinstance(part, tuple) and part[0] == op else [part])
    if op == "*":  # x * x is x^2: a repeated factor (not a number) as a power
        repeated = [
            part for part in flattened if not isinstance(part, Fraction) and flattened.count(part) > 1
        ]
        for part in dict.fromkeys(repeated):
            count = flattened.count(part)
            flattened = [other for other in flattened if other != part] + [("^", part, Fraction(count))]
    if not flattened:
        return neutral
    if len(flattened) == 1:
        return flattened[0]
    return (op, *sorted(flattened, key=repr))


# whether sums drop terms that cancel (off for the form as written: 5^1 - 5^3 + 5^3); per thread
_WRITTEN = threading.local()


def _parsed(text: str, cancel: bool = True) -> Key | None:
    if not text or len(text) > _MAX_TREE_TEXT:
        return None
    _WRITTEN.on = not cancel
    try:
        return _key(ast.parse(_tree_text(text), mode="eval").body)
    except (SyntaxError, ValueError, RecursionError, MemoryError, ZeroDivisionError):
        return None
    finally:
        _WRITTEN.on = False


def _pieces(key: Key, out: set) -> None:
    """Every sub-expression of `key`, and the partial sums and products of its short sums and products."""
    out.add(key)
    if not isinstance(key, tuple):
        return
    parts = key[1:]
    for part in parts:
        _pieces(part, out)
    if key[0] in ("+", "*") and len(parts) <= _MAX_SUBSUMS:
        for size in range(2, len(parts)):
            for subset in itertools.combinations(parts, size):
                out.add((key[0], *subset))


@functools.lru_cache(maxsize=4096)
def _prompt_pieces(prompt: str) -> frozenset:
    """The arithmetic sub-expressions the prompt writes, as trees (LaTeX spellings canonical first)."""
    text = _indices_renamed(prompt)
    for pattern, replacement in _SPELLINGS[:-1]:  # the last one squeezes out spaces: "Compute 3" stays apart
        text = pattern.sub(replacement, text)
    pieces: set = set()
    text = text.replace("{", " ").replace("}", " ")
    for pattern in (_ARITHMETIC_RUN_RE, _NUMERIC_RUN_RE):  # the second reads numbers beside a stray letter
        for run in pattern.finditer(text):
            key = _parsed(run.group().strip().rstrip("."))
            if key is not None:
                _pieces(key, pieces)
    return frozenset(p for p in pieces if isinstance(p, tuple))


@functools.lru_cache(maxsize=65536)  # samples of one problem repeat their answers
def restates(prompt: str, pred: str, gold: str) -> bool:
    """True when `pred` is an expression copied from `prompt` (not the gold): the same text up to spacing and
    LaTeX spelling, or the same arithmetic up to the order and grouping of + and x and neutral terms."""
    if not prompt or same_text(gold, pred):
        return False
    golds = {_unwrapped(_canonical(form)) for form in (gold, normalize_answer(gold))}
    haystack = _canonical_prompt(prompt)
    needles = []
    for form in {pred, normalize_answer(pred), _RELATION_RE.split(pred)[-1]}:
        needle = _unwrapped(_canonical(form))
        if needle not in golds and _OPERATION_RE.search(needle.lstrip("+-")):
            needles.append((needle, _parsed(needle)))
            written = _parsed(needle, cancel=False)
            if written != needles[-1][1] and isinstance(written, tuple):  # terms that cancel: padding
                needles.append((needle, written))
    gold_trees = {_parsed(form) for form in golds} - {None}
    needles = [
        (text, tree) for text, tree in needles if tree is None or tree not in gold_trees
    ]  # the gold, reordered
    if any(_quoted(text, haystack) for text, _ in needles):
        return True
    if needles and (
        _wraps_a_formula(prompt, [text for text, _ in needles] + [re.sub(r"\s+", "", pred)], golds)
        or _computes_with_prompt_numbers(prompt, _RELATION_RE.split(pred)[-1], gold)
    ):
        return True
    trees = [tree for _, tree in needles if isinstance(tree, tuple)]
    if not trees:
        return False
    prompt_pieces = _prompt_pieces(prompt)
    if any(tree in prompt_pieces for tree in trees):
        return True
    # numbers only: an answer that computes with a piece of the prompt (3 + 4 + 1 - 1) computed nothing new;
    # with names it may (x^2 + 1 + 2x for "f(x) = x^2 + 1; find f(x) + 2x")
    for tree in trees:
        if not _has_names(tree):
            pieces: set = set()
            _pieces(tree, pieces)
            if any(
                piece in prompt_pieces and not _is_atom(piece) for piece in pieces if isinstance(piece, tuple)
            ):
                return True
    return False


def _is_atom(key: Key) -> bool:
    """A value written in its normal form (\\sqrt{5}, 3/4, -2): an exact answer may hold one the prompt holds."""
    if isinstance(key, tuple) and key[0] == "neg":
        return _is_atom(key[1])
    if isinstance(key, tuple) and key[0] == "sqrt":
        return isinstance(key[1], Fraction)
    if isinstance(key, tuple) and key[0] == "/":
        return all(isinstance(part, Fraction) for part in key[1:])
    return not isinstance(key, tuple)


_FORMULA_RE = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_FORMULA_SPLIT_RE = re.compile(
    r"=|,|;|<|>|\\(?:le|ge|leq|geq|neq|approx|equiv|quad|qquad|text\s*\{[^{}]*\})(?![a-zA-Z])"
)
_ATOM_RE = re.compile(r"-?(?:\d+(?:\.\d+)?|Ω\(\d+\)|\d+/\d+|[A-Za-z]|\\[A-Za-z]+)")


@functools.lru_cache(maxsize=4096)
def _prompt_formulas(prompt: str) -> frozenset:
    """The canonical sides of the prompt's formulas that compute something (not a lone number or radical), and
    its whole equations as ("=", text)."""
    parts = set()
    for match in _FORMULA_RE.finditer(prompt):
        formula = next(group for group in match.groups() if group is not None)
        if (
            "=" in formula
        ):  # a whole equation (`a + b + c + d = 0`) copied is copied even if its last side is not
            parts.add(("=", _unwrapped(_canonical(formula.strip().rstrip(".,")))))
            parts.add(
                ("=", re.sub(r"\s+", "", formula.strip().rstrip(".,")))
            )  # as written: 0 + x keeps its 0
        for side in _FORMULA_SPLIT_RE.split(formula):
            canonical = _unwrapped(_canonical(side))
            bare = canonical.lstrip("+-")
            if len(bare) >= 3 and _OPERATION_RE.search(bare) and not _ATOM_RE.fullmatch(bare):
                parts.add(canonical)
    return frozenset(parts)


def _wraps_a_formula(prompt: str, needles: list[str], golds: set[str]) -> bool:
    """`pred` holds a whole computing formula of the prompt inside something else (`\\lim_{t\\to0}(E)`,
    `E + \\sin 0`, `\\sqrt[1]{E}`): wrapping the question in a neutral operation computes nothing."""
    for part in _prompt_formulas(prompt):
        # a side of the prompt's formulas counts in the answer's last side only (`\\text{total} = 3 + 4 = 7`
        # shows its work); a whole equation of the prompt anywhere in it
        equation = isinstance(part, tuple)
        text = part[1] if equation else part
        answers = needles if equation else [needle for needle in needles if "=" not in needle]
        if any(_quoted(text, answer) for answer in answers) and not any(
            _quoted(text, gold) for gold in golds
        ):
            return True
    return False


# Operations no answer in normal form needs; an answer of numbers only that applies one to the prompt's own
# numbers (\\binom{8.0}{4}, \\lfloor 3+4 \\rfloor, \\max(7, 0)) evaluates the question rather than answers it.
_COMPUTING_RE = re.compile(
    r"\\(?:sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan|sinh|cosh|tanh|log|ln|lg|exp|lfloor|rfloor|lceil|rceil"
    r"|lvert|rvert|vert|Vert|max|min|sup|inf|lim|int|iint|sum|prod|binom|dbinom|tbinom|choose|gcd|lcm|mod|bmod"
    r"|pmod|operatorname|det|overline|dot|frac\s*\{[^{}]*\}\s*\{\s*1\s*\})(?![a-zA-Z])|\\sqrt\s*\[|!|\|"
)
_BOUND_RE = re.compile(r"_\s*\{[^{}]*\}|_\s*\w|\\,?\s*d[a-z]\s*$|\\text\s*\{[^{}]*\}|\\[A-Za-z]+")
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")


def _numbers(text: str) -> set[Fraction]:
    return {Fraction(number) for number in _NUMBER_RE.findall(text)}


def _computes_with_prompt_numbers(prompt: str, pred: str, gold: str) -> bool:
    """A numbers-only answer that applies an operation of `_COMPUTING_RE` (one the gold does not use) to a
    number of the prompt (other than 0 and 1)."""
    used = {m.group().split("{")[0].strip() for m in _COMPUTING_RE.finditer(pred)}
    if not used or any(op in gold for op in used):
        return False
    if re.search(r"(?<![A-Za-z])[A-Za-df-hj-z](?![A-Za-z])|[A-Za-z]{2}", _BOUND_RE.sub(" ", pred)):
        return False  # a variable: not numbers only
    shared = (_numbers(pred) & _numbers(prompt)) - {Fraction(0), Fraction(1)}
    return bool(shared)


def names_cancel(text: str) -> bool:
    """True when `text` parses as arithmetic whose names all cancel (8x^0, 8 + x - x): numbers only."""
    tree = _parsed(_unwrapped(_canonical(text)))
    return tree is not None and not _has_names(tree)


def _has_names(key: Key) -> bool:
    return isinstance(key, str) or isinstance(key, tuple) and any(_has_names(part) for part in key[1:])
