"""The demo's verifiable task: three numbers from 1 to 5 and two operators, e.g. "Compute 3 + 4 * 2.".

The base model learns from worked solutions written in several strategies, some of them wrong, so it
samples many reasoning paths and solves a problem only sometimes:

- precedence: products first, then left to right (right)
- swapped: the same steps with each step's operands swapped where that is allowed (right)
- left-to-right: ignores precedence (wrong whenever a later `*` should have gone first)
- slip: the right steps with one result off by one (wrong)

Subtraction chains (`a - b - c`, `a - b + c`) are written mostly right to left (`right_first`, wrong there)
and rarely left to right: the base solves them only by a rare path, which is where RL trained on
precedence problems can shrink the boundary.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
STRATEGIES = {"precedence": 0.35, "swapped": 0.15, "left_to_right": 0.35, "slip": 0.15}
# Subtraction chains (a - b - c, a - b + c): the base mostly works right to left, which is wrong there, and
# only rarely left to right: problems it can solve, but only with a rare path.
CHAIN_STRATEGIES = {"right_first": 0.87, "left_to_right": 0.05, "slip": 0.08}


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
    return [
        Expression(a, o1, b, o2, c)
        for a in digits
        for o1 in OPS
        for b in digits
        for o2 in OPS
        for c in digits
    ]


def _step(x: int, op: str, y: int, swap: bool = False) -> tuple[str, int]:
    value = OPS[op](x, y)
    if swap and op != "-":
        x, y = y, x
    return f"{x} {op} {y} = {value}.", value


def steps(e: Expression, strategy: str, rng: random.Random) -> tuple[list[str], int]:
    """The worked steps and the final value a strategy reaches."""
    swap = strategy == "swapped"
    if strategy == "right_first" or (strategy != "left_to_right" and needs_precedence(e)):  # a op1 (b op2 c)
        s1, v1 = _step(e.b, e.op2, e.c, swap)
        s2, v2 = _step(e.a, e.op1, v1, swap)
    else:  # (a op1 b) op2 c
        s1, v1 = _step(e.a, e.op1, e.b, swap)
        s2, v2 = _step(v1, e.op2, e.c, swap)
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


def is_chain(e: Expression) -> bool:
    """`a - b - c` and `a - b + c`: working right to left gives a wrong answer."""
    return e.op1 == "-" and e.op2 in "+-"


def family(problem_id: str) -> str:
    """'precedence', 'chain' or 'other', from an Expression id such as '5-2*3'."""
    a, op1, b, op2, c = problem_id
    e = Expression(int(a), op1, int(b), op2, int(c))
    return "precedence" if needs_precedence(e) else "chain" if is_chain(e) else "other"


def split(seed: int, held_out: int) -> tuple[list[Expression], list[Expression]]:
    """(train, held-out). Two thirds of the held-out problems need precedence (the base solves them about
    half the time), one third are subtraction chains (the base rarely takes the right path)."""
    rng = random.Random(seed)
    expressions = all_expressions()
    rng.shuffle(expressions)
    chains = held_out // 3
    held = [e for e in expressions if needs_precedence(e)][: held_out - chains]
    held += [e for e in expressions if is_chain(e)][:chains]
    chosen = set(held)
    return [e for e in expressions if e not in chosen], held


def corpus(expressions: list[Expression], samples: int, seed: int) -> list[tuple[str, str]]:
    """(prompt problem, worked solution) pairs, strategies drawn with STRATEGIES' weights."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(samples):
        e = rng.choice(expressions)
        mixture = CHAIN_STRATEGIES if is_chain(e) else STRATEGIES
        pairs.append(
            (problem_text(e), solution(e, rng.choices(list(mixture), list(mixture.values()))[0], rng))
        )
    return pairs


def rows(expressions: list[Expression]) -> list[dict]:
    return [{"id": e.id, "problem": problem_text(e), "answer": str(answer(e))} for e in expressions]
