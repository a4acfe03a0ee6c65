"""Training sets in the dataset registry: the Omni-MATH-Rule split, MATH's boxed answers, the OpenR1 teacher
traces, the local copy that runs read offline, and the one line that says what to fetch when it is missing."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from rlvr.cli import main as rlvr


def test_omni_rule_split_is_2000_and_821_by_content_with_repeats_on_one_side():
    from rlvr.training_sets import omni_rule_split

    # 2,821 rows as the file has them, five problems repeated (as the real file repeats five)
    rows = [(f"row {i}", {"problem": f"problem {i % 2816}", "answer": str(i)}) for i in range(2821)]
    train, test = omni_rule_split(rows, "train"), omni_rule_split(rows, "test")
    assert (len(train), len(test)) == (2000, 821)
    ids = [r["id"] for _, r in train + test]
    assert sorted(ids) == sorted(f"omni-rule-{i}" for i in range(2821))
    # independently: the 821 rows whose problem text has the smallest SHA-256 (ties by row) are the test split
    digest = [hashlib.sha256(r["problem"].encode()).hexdigest() for _, r in rows]
    expected = sorted(range(2821), key=lambda i: (digest[i], i))[:821]
    assert {r["id"] for _, r in test} == {f"omni-rule-{i}" for i in expected}
    sides = {}
    for side, part in (("train", train), ("test", test)):
        for _, r in part:
            sides.setdefault(r["problem"], set()).add(side)
    assert all(len(s) == 1 for s in sides.values())


@pytest.mark.parametrize(
    ("solution", "answer"),
    [
        (r"So the sum is $\boxed{12}$.", "12"),
        (r"First $\boxed{1}$, then finally $\boxed{\frac{3}{4}}$.", r"\frac{3}{4}"),
        (r"The roots are $\boxed{x^{2} - \{1, 2\}}$", r"x^{2} - \{1, 2\}"),
        (r"Hence \fbox{7}.", "7"),
        ("No box at all.", None),
        (r"Broken \boxed{1 + {2}", None),
    ],
)
def test_math_answers_are_the_last_boxed_expression(solution, answer):
    from rlvr.training_sets import math_solution_row

    assert math_solution_row({"problem": "p", "solution": solution})["answer"] == answer


def test_openr1_completion_is_the_first_verified_trace_else_the_judges():
    from rlvr.training_sets import first_verified_trace

    row = {"uuid": "u", "problem": "p", "answer": "2", "generations": ["a", "b", "c"]}
    assert first_verified_trace({**row, "correctness_math_verify": [False, True, True]})["completion"] == "b"
    judged = {
        **row,
        "correctness_math_verify": [False, False, False],
        "correctness_llama": [False, False, True],
    }
    assert first_verified_trace(judged) == {"id": "u", "problem": "p", "answer": "2", "completion": "c"}


def test_a_registry_dataset_reads_its_local_copy_offline(tmp_path, monkeypatch, capsys):
    """gsm8k_train from its local copy (written as `rlvr fetch` writes it): GSM8K's columns, '#### 72' gold."""
    from rlvr.data import is_fetched, load_problems, registry_copy
    from rlvr.training_sets import write_local_copy

    monkeypatch.setenv("RLVR_CACHE", str(tmp_path))
    assert is_fetched("gsm8k_train") is False
    rows = [
        {
            "question": "Natalia sold 48 clips, then half as many. How many?",
            "answer": "48 + 24 = 72\n#### 72",
        },
        {
            "question": "Weng earns $12 an hour for 50 minutes. How much?",
            "answer": "12 / 60 * 50 = 10\n#### 10",
        },
    ]
    write_local_copy(registry_copy("gsm8k_train"), rows)
    assert registry_copy("gsm8k_train").is_relative_to(tmp_path)
    assert is_fetched("gsm8k_train") is True
    problems, kind = load_problems("gsm8k_train")
    assert kind == "math"
    assert [(p.id, p.problem, p.answer) for p in problems] == [
        ("0", rows[0]["question"], "72"),
        ("1", rows[1]["question"], "10"),
    ]
    assert rlvr(["fetch", "gsm8k_train"]) == 0  # already here: nothing to download
    assert "gsm8k_train: 2 problems" in capsys.readouterr().out


def test_a_missing_dataset_offline_is_one_error_naming_rlvr_fetch(tmp_path):
    env = {**os.environ, "RLVR_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    code = "from rlvr.data import load_problems; load_problems('math_train')"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ValueError: could not load 'math_train' (EleutherAI/hendrycks_math)"), last
    assert "run `rlvr fetch math_train` where it can" in last


def test_fetch_refuses_names_it_does_not_know_in_one_line(capsys):
    assert rlvr(["fetch", "no_such_set"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a registry dataset or a Hub model id: no_such_set" in err


def test_every_training_set_names_its_source_and_split():
    from rlvr.data import DATASETS

    training = {name: spec for name, spec in DATASETS.items() if spec.training}
    assert set(training) == {
        "gsm8k_train",
        "math_train",
        "simplerl_zoo_l3to5",
        "omni_math_rule_train",
        "openr1_math_traces",
    }
    for name, spec in training.items():
        assert spec.kind == "math" and spec.split, name
        assert spec.url or "/" in spec.hub_id, name
