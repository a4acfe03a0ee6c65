"""Steps verifiers and step-verified pass@k against hand-judged solutions and direct binomial counts."""

from __future__ import annotations

import json
import random
from math import comb

import pytest
from store_build import build_store

from rlvr.cli import main
from rlvr.demo import task
from rlvr.rewards.steps import get_steps_verifier, register_steps_verifier
from rlvr.rewards.steps_judge import JudgeVerifier, judge_prompt, parse_verdict

CHAIN = {"id": "3-3-1", "prompt": "Compute 3 - 3 - 1.", "problem": "Compute 3 - 3 - 1.", "answer": "-1"}
PREC = {"id": "3+4*2", "prompt": "Compute 3 + 4 * 2.", "problem": "Compute 3 + 4 * 2.", "answer": "11"}


@pytest.mark.parametrize(
    "problem, text, verdict",
    [
        (CHAIN, " 3 - 3 = 0. 0 - 1 = -1. The answer is \\boxed{-1}.", True),
        (CHAIN, " 3 - 1 = 2. 3 - 2 = 1. The answer is \\boxed{1}.", False),  # right to left
        (CHAIN, " 3 - 3 = 1. 1 - 1 = -1. The answer is \\boxed{-1}.", False),  # wrong steps, right answer
        (CHAIN, " 3 - 3 = 0. 0 - 1 = -1. The answer is \\boxed{0}.", False),  # boxes another number
        (PREC, " 4 * 2 = 8. 3 + 8 = 11. The answer is \\boxed{11}.", True),
        (PREC, " 2 * 4 = 8. 8 + 3 = 11. The answer is \\boxed{11}.", True),  # operands of + and * swapped
        (PREC, " 3 + 4 = 7. 7 * 2 = 14. The answer is \\boxed{14}.", False),  # left to right
        (PREC, " 4 * 2 = 8. The answer is \\boxed{8}.", False),  # stops early
        (PREC, " The answer is \\boxed{11}.", None),  # no steps to judge
        ({"id": "x", "prompt": "What is love?", "answer": "?"}, " 1 + 1 = 2.", None),  # no expression
    ],
)
def test_arithmetic_verifier_on_hand_judged_solutions(problem, text, verdict):
    assert get_steps_verifier("arithmetic")(problem, text) is verdict


def test_arithmetic_verifier_on_every_demo_strategy():
    """The demo writes right steps with precedence or swapped operands, wrong ones with a slip, and wrong
    ones left to right exactly where precedence matters."""
    verify = get_steps_verifier("arithmetic")
    for e in task.all_expressions():
        row = {"problem": task.problem_text(e)}
        for strategy, right in (
            ("precedence", True),
            ("swapped", True),
            ("slip", False),
            ("left_to_right", not task.needs_precedence(e)),
        ):
            assert verify(row, task.solution(e, strategy, random.Random(3))) is right, (e.text, strategy)


def test_registry_names_and_errors():
    register_steps_verifier("always", lambda **kw: lambda problem, completion: True)
    assert get_steps_verifier("always")({}, "") is True
    with pytest.raises(KeyError, match="Did you mean 'arithmetic'"):
        get_steps_verifier("arithmetik")
    with pytest.raises(KeyError, match="--judge-model"):
        get_steps_verifier("judge")
    assert (
        get_steps_verifier("rlvr.rewards.steps_arithmetic:verify_arithmetic_steps")(PREC, " 4 * 2 = 8.")
        is False
    )


def test_judge_prompt_and_verdicts():
    prompt = judge_prompt(PREC, " 4 * 2 = 8. 3 + 8 = 11.")
    assert "Compute 3 + 4 * 2." in prompt and "3 + 8 = 11." in prompt and prompt.endswith("Verdict:")
    assert [parse_verdict(x) for x in (" CORRECT", " incorrect.", "Correct, but INCORRECT", "maybe")] == [
        True,
        False,
        True,
        None,
    ]
    seen = []
    judge = JudgeVerifier(lambda prompts: seen.extend(prompts) or [" INCORRECT"] * len(prompts))
    assert judge.many([PREC, CHAIN], ["a", "b"]) == [False, False] and len(seen) == 2


SOLUTIONS = {
    # 4 samples each; verdicts by hand: right steps (R), wrong steps with the right answer (W), wrong answer
    "3-3-1": [
        (" 3 - 3 = 0. 0 - 1 = -1. The answer is \\boxed{-1}.", "-1", True),  # R
        (" 3 - 3 = 1. 1 - 1 = -1. The answer is \\boxed{-1}.", "-1", True),  # W
        (" 3 - 1 = 2. 3 - 2 = 1. The answer is \\boxed{1}.", "1", False),
        (" 3 - 1 = 2. 3 - 2 = 1. The answer is \\boxed{1}.", "1", False),
    ],
    "3+4*2": [
        (" 3 + 4 = 7. 7 * 2 = 11. The answer is \\boxed{11}.", "11", True),  # W
        (" 3 + 4 = 7. 7 * 2 = 14. The answer is \\boxed{14}.", "14", False),
        (" The answer is \\boxed{11}.", "11", True),  # not judged (None)
        (" 4 * 2 = 8. 3 + 8 = 11. The answer is \\boxed{11}.", "11", True),  # R
    ],
}


def expected_pass(n: int, c: int, k: int) -> float:
    return 1 - comb(n - c, k) / comb(n, k)


def test_regrade_and_compare_give_step_verified_pass_at_k(tmp_path, capsys):
    store = build_store(tmp_path / "store", [CHAIN, PREC], SOLUTIONS, "m")
    target = tmp_path / "regraded"
    assert (
        main(
            [
                "regrade",
                str(store),
                "--reward",
                "math",
                "--out",
                str(target),
                "--steps-verifier",
                "arithmetic",
            ]
        )
        == 0
    )
    steps = json.loads((target / "steps.json").read_text())
    assert steps["problems"] == {
        "3-3-1": {"n": 4, "correct": 2, "steps_correct": 1},
        "3+4*2": {"n": 4, "correct": 3, "steps_correct": 1},
    }
    assert (steps["rejected"], steps["undetermined"]) == (2, 1)
    for k in (1, 2, 4):
        plain = (expected_pass(4, 2, k) + expected_pass(4, 3, k)) / 2
        verified = (expected_pass(4, 1, k) + expected_pass(4, 1, k)) / 2
        assert steps["pass_at_k"][str(k)] == pytest.approx(plain)
        assert steps["step_pass_at_k"][str(k)] == pytest.approx(verified)
    assert "steps ok" in capsys.readouterr().out
    out = tmp_path / "report"
    args = ["compare", str(store), str(target), "--labels", "a,b", "--out", str(out), "--resamples", "20"]
    assert main(args + ["--se-k", "4", "--steps-verifier", "arithmetic"]) == 0
    md = (out / "report.md").read_text()
    assert "## Step-verified pass@k (%), verifier arithmetic" in md
    assert f"| 1 | {62.5:.1f} | {25.0:.1f} | 62.5 | 25.0 |" in md
    assert json.loads((out / "coverage.json").read_text())["step_verified"]["a"]["rejected"] == 2
    assert not (store / "steps.json").exists()  # compare leaves its inputs as they were


def test_judge_through_the_tiny_model(tiny_model_dir, tmp_path):
    """Smoke test: the judge hook asks a real model through the hf backend; a tiny model's verdict is any of
    True, False, None, one per correct sample."""
    from rlvr.evaluate.step_verified import load_steps_verifier, store_step_verified

    store = build_store(tmp_path / "store", [CHAIN, PREC], SOLUTIONS, "m")
    data = store_step_verified(store, "judge", load_steps_verifier("judge", tiny_model_dir, "hf"))
    assert len(data["samples"]) == 5 and all(v in (True, False, None) for *_, v in data["samples"])
    assert (
        data["rejected"] + data["undetermined"] + sum(p["steps_correct"] for p in data["problems"].values())
        == 5
    )
