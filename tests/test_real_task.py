"""The real-model demo's task: right answers, families RL trains on and one it never sees, no shared numbers."""

from __future__ import annotations

import re

from rlvr.demo.real_task import FAMILIES, TRAINED, family, make_splits


def _expected(problem: str) -> int:
    """The answer read back from the text alone, independently of how the task computed it."""
    a, b = (int(x) for x in re.findall(r"\d+", problem)[:2])
    subtracts = " - " in problem or "gives away" in problem
    return a - b if subtracts else a + b


def test_answers_follow_from_the_text_and_ask_for_the_number_alone():
    train, held = make_splits(0, 8, 64)
    for row in train + held:
        assert int(row["answer"]) == _expected(row["problem"]) >= 0, row
        assert row["problem"].endswith("Answer with the number only.")


def test_rl_never_sees_word_problems_nor_any_held_out_pair_of_numbers():
    train, held = make_splits(0, 8, 64)
    assert {family(r["id"]) for r in train} == set(TRAINED)
    assert [family(r["id"]) for r in held].count("word") == 8 and {family(r["id"]) for r in held} == set(
        FAMILIES
    )
    pairs = lambda rows: {tuple(int(x) for x in re.findall(r"\d+", r["problem"])[:2]) for r in rows}  # noqa: E731
    assert not pairs(train) & pairs(held)
    stories = [r["problem"] for r in held if family(r["id"]) == "word"]
    assert any("gives away" in s for s in stories) and any("more" in s for s in stories)


def test_splits_are_deterministic_under_a_seed():
    assert make_splits(3, 4, 32) == make_splits(3, 4, 32)
    assert make_splits(3, 4, 32) != make_splits(4, 4, 32)
