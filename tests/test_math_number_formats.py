"""Numbers as people write them, on Math-Verify's own labelled cases (huggingface/Math-Verify at 5d148cf:
tests/test_all.py's number block, tests/test_open_thoughts.py's box runs): decimal commas (2,74) beside
thousands separators (1,000), currency and units. rlvr `math` and `math_strict` are right on every case,
so at least as right as plain math-verify; a few pairs beyond that pin what a comma means where."""

from __future__ import annotations

import logging

import pytest

from rlvr.rewards import get_reward

# (gold, response, label) as Math-Verify's tests give them
MATH_VERIFY = [
    ("-5", "-5", 1),
    ("7425000", "7,425,000", 1),
    ("1000", "1 000", 1),
    ("1000", "1000.0", 1),
    ("1000.0", "1,000.0", 1),
    ("1000.99", "1000,99", 1),
    ("1,22", "1.22", 1),
    ("2.74", "Soucis : 2,74 $ a..", 1),
    ("0.4", ".4", 1),
    ("1000.99", "1,000.99", 1),
    ("1000.99", "$1,000.99", 1),
    ("1000.99", "1,000.99$", 1),
    ("1000.99", "the number is not 10 which is 1,000.99€", 1),
    ("1000.99", "so the number is 10 which is 1,000.99m²", 1),
    ("1000.99", "not it's not 10 it's 1,000.99m²", 1),
    ("0,111", "0.111", 1),
    ("2", "AZYUK2A", 0),
    (r"$\boxed{1}\boxed{2}$", r"$\boxed{1,2}$", 1),
    (r"\boxed{1} papers and \boxed{2} bins", r"$\boxed{1,2}$", 1),
    (r"\boxed{1} no no no no no \boxed{2}", r"$\boxed{1,2}$", 0),  # the gold is its last box, 2
    ("32349", r"is $\boxed{32, 349}$", 0),
]
# (gold, response, label): a comma in a box, read as math-verify reads LaTeX (a list) except against a plain
# decimal number, where it is a decimal comma; three digits after it are thousands.
COMMAS = [
    ("2.74", r"\boxed{2,74}", 1),
    ("1.2", r"\boxed{1,2}", 1),
    ("1, 2", r"\boxed{1,2}", 1),  # the same two answers (plain math-verify reads only the gold's last number)
    ("12", r"\boxed{1,2}", 0),
    ("1000", r"\boxed{1,000}", 1),
    ("1.000", r"\boxed{1,000}", 0),  # 1,000 is a thousand
    ("1,000", "The answer is 1000.", 1),
    ("2,5", r"\boxed{2.5}", 1),
]


def plain_math_verify(gold: str, response: str) -> bool:
    from math_verify import parse, verify

    logging.disable(logging.WARNING)
    try:
        return bool(verify(parse(gold), parse(response)))
    except BaseException:  # noqa: BLE001 - a crash of the baseline is its wrong verdict
        return False


@pytest.mark.parametrize("name", ["math", "math_strict"])
def test_every_math_verify_number_case_is_right(name):
    grades = get_reward(name).grade([r for _, r, _ in MATH_VERIFY], [g for g, _, _ in MATH_VERIFY])
    wrong = [case for case, grade in zip(MATH_VERIFY, grades) if grade.correct != bool(case[2])]
    assert wrong == []
    plain = sum(plain_math_verify(g, r) == bool(label) for g, r, label in MATH_VERIFY)
    assert len(MATH_VERIFY) >= plain


@pytest.mark.parametrize("name", ["math", "math_strict"])
def test_what_a_comma_means(name):
    grades = get_reward(name).grade([r for _, r, _ in COMMAS], [g for g, _, _ in COMMAS])
    assert [(case, grade.correct) for case, grade in zip(COMMAS, grades)] == [
        (case, bool(case[2])) for case in COMMAS
    ]


def test_a_list_in_prose_is_no_decimal_comma():
    """Lenient reading takes the last number written: of the list 1,2,3 that is 3, not 1.2 or 2.3 (strict reads
    no number in passing)."""
    grades = get_reward("math").grade(["We list 1,2,3", "Soucis : 2,74 $ a.."], ["3", "2.74"])
    assert [(g.extracted, g.correct) for g in grades] == [("3", True), ("2,74", True)]
