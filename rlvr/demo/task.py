"""The demo's verifiable task: three one-digit numbers and two operators, e.g. "Compute 3 + 4 * 2.".

The base model learns from worked solutions written in several strategies, some of them wrong, so it
samples many reasoning paths and solves a problem only sometimes:

- precedence: products first, then left to right (right)
- swapped: the same steps with each step's operands swapped where that is allowed (right)
- left-to-right: ignores precedence (wrong whenever a later `*` should have gone first)
- slip: the right steps with one result off by one (wrong)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
STRATEGIES = {"precedence": 0.35, "swapped": 0.15, "left_to_right": 0.35, "slip": 0.15}


@dataclass(frozen=True)
class Expression:
    a: int
    op1: str
    b: int
    op2: str
    c: int

    @property
    def text(self) -> str:
        return f"{self.a} {self.op1} {self.b} {self.op2} {self.c}"

    @property
    def id(self) -> str:
        return self.text.replace(" ", "")


MAX_OPERAND = 5  # operands 1..5: few enough arithmetic facts for a tiny model to learn in minutes


def all_expressions(max_operand: int = MAX_OPERAND) -> list[Expression]:
    digits = range(1, max_operand + 1)
    return [Expression(a, o1, b, o2, c) for a in digits for o1 in OPS for b in digits for o2 in OPS for c in digits]


def _step(x: int, op: str, y: int, swap: bool = False) -> tuple[str, int]:
    value = OPS[op](x, y)
    if swap and op != "-":
        x, y = y, x
    return f"{x} {op} {y} = {value}.", value


def steps(e: Expression, strategy: str, rng: random.Random) -> tuple[list[str], int]:
    """The worked steps and the final value a strategy reaches."""
    swap = strategy == "swapped"
    if strategy == "left_to_right" or e.op2 != "*" or e.op1 == "*":
        s1, v1 = _step(e.a, e.op1, e.b, swap)
        s2, v2 = _step(v1, e.op2, e.c, swap)
    else:  # a op1 (b * c)
        s1, v1 = _step(e.b, e.op2, e.c, swap)
        s2, v2 = _step(e.a, e.op1, v1, swap)
    if strategy == "slip":
        v2 += rng.choice((-1, 1))
        s2 = s2.rsplit("=", 1)[0] + f"= {v2}."
    return [s1, s2], v2


def answer(e: Expression) -> int:
    return steps(e, "precedence", random.Random(0))[1]


def solution(e: Expression, strategy: str, rng: random.Random) -> str:
    lines, value = steps(e, strategy, rng)
    return " " + " ".join(lines) + f" The answer is \\boxed{{{value}}}."


def problem_text(e: Expression) -> str:
    return f"Compute {e.text}."


def needs_precedence(e: Expression) -> bool:
    """`a + b * c` and `a - b * c`: the only problems where the strategies' answers disagree."""
    return e.op2 == "*" and e.op1 != "*"


def split(seed: int, held_out: int) -> tuple[list[Expression], list[Expression]]:
    """(train, held-out): held-out problems all need precedence (a later `*`), where strategies disagree."""
    rng = random.Random(seed)
    expressions = all_expressions()
    rng.shuffle(expressions)
    held = [e for e in expressions if needs_precedence(e)][:held_out]
    chosen = set(held)
    return [e for e in expressions if e not in chosen], held


def corpus(expressions: list[Expression], samples: int, seed: int) -> list[tuple[str, str]]:
    """(prompt problem, worked solution) pairs, strategies drawn with STRATEGIES' weights."""
    rng = random.Random(seed)
    names, weights = list(STRATEGIES), list(STRATEGIES.values())
    return [(problem_text(e), solution(e, rng.choices(names, weights)[0], rng))
            for e in (rng.choice(expressions) for _ in range(samples))]


def rows(expressions: list[Expression]) -> list[dict]:
    return [{"id": e.id, "problem": problem_text(e), "answer": str(answer(e))} for e in expressions]
