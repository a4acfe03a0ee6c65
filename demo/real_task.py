"""The real-model demo's task: addition and subtraction of a number up to 29 and a digit, and short word problems
with the same numbers, each asking for the number alone (which keeps most answers short enough for a 135M
model on two CPU cores).

RL trains on the `add` and `sub` families; `word` problems (the same sums and differences told as a story) are
held out entirely, a family RL never sees. Problem ids carry their family: `add-34-47`, `word-sub-81-29-3`.
"""

from __future__ import annotations

import random

FAMILIES = ("add", "sub", "word")
TRAINED = ("add", "sub")
ASK = "Answer with the number only."
NAMES = ("Tom", "Ana", "Sam", "Lena", "Omar", "Mia", "Ravi", "Zoe")
THINGS = ("apples", "stamps", "marbles", "books", "coins", "shells", "stickers", "cards")
STORIES = {
    "add": "{name} has {a} {things} and gets {b} more. How many {things} does {name} have now?",
    "sub": "{name} has {a} {things} and gives away {b}. How many {things} does {name} have left?",
}


def _pairs(op: str) -> list[tuple[int, int]]:
    """A number up to 29 and a digit: sums and differences SmolLM2-135M gets right only sometimes (two-digit
    pairs it almost never does: 9 of 384 samples at temperature 0.7). A difference stays positive."""
    pairs = [(a, b) for a in range(2, 30) for b in range(2, 10)]
    return [(a, b) for a, b in pairs if a > b] if op == "sub" else pairs


def problem(family: str, a: int, b: int, story: int = 0) -> dict:
    op = "sub" if family == "sub" else "add"
    if family == "word":
        op = "sub" if story % 2 else "add"
        text = STORIES[op].format(
            name=NAMES[story // 2 % len(NAMES)], things=THINGS[(a + b) % len(THINGS)], a=a, b=b
        )
        pid = f"word-{op}-{a}-{b}-{story}"
    else:
        text = f"What is {a} {'-' if op == 'sub' else '+'} {b}?"
        pid = f"{family}-{a}-{b}"
    answer = a - b if op == "sub" else a + b
    return {"id": pid, "problem": f"{text} {ASK}", "answer": str(answer)}


def family(problem_id: str) -> str:
    return problem_id.split("-", 1)[0]


def make_splits(seed: int, held_out_per_family: int, train_problems: int) -> tuple[list[dict], list[dict]]:
    """(RL's training problems from the trained families, held-out problems of every family); no pair of
    operands appears in both, so a held-out story is never a trained sum in disguise."""
    rng = random.Random(seed)
    held: list[dict] = []
    used: set[tuple[int, int]] = set()
    for name in FAMILIES:
        # stories alternate addition and subtraction: their pairs keep a > b, as differences do
        candidates = [p for p in _pairs("add" if name == "add" else "sub") if p not in used]
        for i, (a, b) in enumerate(rng.sample(candidates, held_out_per_family)):
            used.add((a, b))
            held.append(problem(name, a, b, story=i))
    train: list[dict] = []
    for name in TRAINED:
        candidates = [p for p in _pairs(name) if p not in used]
        train += [problem(name, a, b) for a, b in rng.sample(candidates, train_problems // len(TRAINED))]
    rng.shuffle(train)
    return train, held
