"""Benchmarks read from files in their own shape (rows as the Hub serves them), and graded as their authors
grade them: LiveCodeBench's call-based and stdin problems with public and private tests, MBPP+'s instruct
prompt and test script. The rows are modelled on the datasets' viewers and the peers' loaders
(lcb_runner, lm-eval's mbpp_plus_instruct)."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from pathlib import Path

import pytest

from rlvr.data import load_problems
from rlvr.rewards import get_reward


def _private(cases: list[dict]) -> str:
    """How code_generation_lite stores private tests: base64 of zlib of a pickled JSON string."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(cases)))).decode()


LCB_ROWS = [
    {  # LeetCode: call-based, starter code, func_name in metadata
        "question_title": "two-sum",
        "question_content": "Given nums and target, return the indices of the two numbers.",
        "platform": "leetcode",
        "question_id": "1",
        "contest_id": "weekly-contest-400",
        "contest_date": "2024-08-03T00:00:00",
        "difficulty": "easy",
        "starter_code": "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        ",
        "public_test_cases": json.dumps(
            [{"input": "[2,7,11,15]\n9", "output": "[0, 1]", "testtype": "functional"}]
        ),
        "private_test_cases": _private(
            [
                {"input": "[3,2,4]\n6", "output": "[1, 2]", "testtype": "functional"},
                {"input": "[3,3]\n6", "output": "[0, 1]", "testtype": "functional"},
            ]
        ),
        "metadata": json.dumps({"func_name": "twoSum"}),
    },
    {  # AtCoder: stdin/stdout
        "question_title": "sum",
        "question_content": "Read N and print the sum 1 + ... + N.",
        "platform": "atcoder",
        "question_id": "abc999_a",
        "contest_id": "abc999",
        "contest_date": "2023-05-20T00:00:00",
        "difficulty": "easy",
        "starter_code": "",
        "public_test_cases": json.dumps([{"input": "3\n", "output": "6\n", "testtype": "stdin"}]),
        "private_test_cases": _private([{"input": "10\n", "output": "55\n", "testtype": "stdin"}]),
        "metadata": "{}",
    },
]
TWO_SUM = (
    "```python\nclass Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n"
    "        seen = {}\n        for i, x in enumerate(nums):\n            if target - x in seen:\n"
    "                return (seen[target - x], i)\n            seen[x] = i\n```"
)
SUM = "```python\nn = int(input())\nprint(n * (n + 1) // 2)\n```"


@pytest.fixture
def lcb_file(tmp_path) -> Path:
    path = tmp_path / "test6.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in LCB_ROWS))
    return path


def test_livecodebench_rows_read_with_starter_code_and_private_tests(lcb_file):
    problems, kind = load_problems("livecodebench", str(lcb_file))
    assert kind == "code" and [p.id for p in problems] == ["1", "abc999_a"]
    leetcode, atcoder = problems
    assert "### Question:\nGiven nums" in leetcode.problem and "def twoSum(self" in leetcode.problem
    assert "Read the inputs from stdin" in atcoder.problem
    assert leetcode.tests["fn_name"] == "twoSum" and len(leetcode.tests["cases"]) == 3  # 1 public + 2 private
    assert len(atcoder.tests) == 2


def test_livecodebench_is_graded_as_lcb_runner_grades_it(lcb_file):
    problems, _ = load_problems("livecodebench", str(lcb_file))
    grader = get_reward("code")
    leetcode, atcoder = problems
    wrong_private = TWO_SUM.replace(
        "return (seen[target - x], i)", "return [0, 1]"
    )  # passes the public test only
    grades = grader.grade(
        [TWO_SUM, wrong_private, SUM, SUM.replace("// 2", "// 2 + (n > 5)")],
        [leetcode.tests, leetcode.tests, atcoder.tests, atcoder.tests],
    )
    assert [g.verdict for g in grades] == ["correct", "wrong", "correct", "wrong"]


def test_livecodebench_date_window_selects_by_contest_date(lcb_file):
    problems, _ = load_problems("livecodebench", str(lcb_file), since="2024-01-01")
    assert [p.id for p in problems] == ["1"]
    problems, _ = load_problems("livecodebench", str(lcb_file), until="2023-12-31")
    assert [p.id for p in problems] == ["abc999_a"]


def test_private_tests_that_pickle_anything_but_a_string_are_refused(tmp_path):
    import os

    row = dict(
        LCB_ROWS[1], private_test_cases=base64.b64encode(zlib.compress(pickle.dumps(os.getcwd))).decode()
    )
    path = tmp_path / "evil.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(pickle.UnpicklingError, match="refused a pickled"):
        load_problems("livecodebench", str(path))


MBPP_PLUS_ROW = {  # evalplus/mbppplus, task 2 in its shape (test script abridged to three inputs)
    "task_id": 2,
    "code": "def similar_elements(test_tup1, test_tup2):\n  return tuple(set(test_tup1) & set(test_tup2))\n",
    "prompt": "Write a function to find the shared elements from the given two lists.",
    "source_file": "Benchmark Questions Verification V2.ipynb",
    "test_imports": [],
    "test_list": [
        "assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))",
        "assert set(similar_elements((1, 2, 3, 4),(5, 4, 3, 7))) == set((3, 4))",
        "assert set(similar_elements((11, 12, 14, 13),(17, 15, 14, 13))) == set((13, 14))",
    ],
    "test": (
        "import numpy as np\n\ndef is_floats(x) -> bool:\n    if isinstance(x, float):\n        return True\n"
        "    if isinstance(x, (list, tuple)):\n        return all(isinstance(i, float) for i in x)\n"
        "    if isinstance(x, np.ndarray):\n        return x.dtype == np.float64 or x.dtype == np.float32\n"
        "    return False\n\n\ndef assertion(out, exp, atol):\n    if isinstance(out, bool) or isinstance(exp, bool):\n"
        "        assert out == exp\n        return\n    if atol == 0 and is_floats(exp):\n        atol = 1e-6\n"
        "    if isinstance(out, (list, tuple)) and isinstance(exp, (list, tuple)):\n        out = set(out)\n"
        "        exp = set(exp)\n    if out != exp and atol != 0:\n"
        "        assert np.allclose(out, exp, rtol=1e-07, atol=atol)\n    else:\n        assert out == exp\n\n"
        "inputs = [[(3, 4, 5, 6), (5, 7, 4, 10)], [(1, 2, 3, 4), (5, 4, 3, 7)], [(11, 12, 14, 13), (17, 15, 14, 13)]]\n"
        "results = [(4, 5), (3, 4), (13, 14)]\n"
        "for i, (inp, exp) in enumerate(zip(inputs, results)):\n    assertion(similar_elements(*inp), exp, 0)\n"
    ),
}


def test_mbpp_plus_prompt_names_the_function_and_its_script_grades(tmp_path):
    path = tmp_path / "mbppplus.jsonl"
    path.write_text(json.dumps(MBPP_PLUS_ROW) + "\n")
    problems, kind = load_problems("mbpp_plus", str(path))
    (problem,) = problems
    assert kind == "code" and problem.id == "2"
    assert problem.problem.endswith(
        "Your code should satisfy the following assertion:\n"
        "assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))"
    )
    solution = "```python\n" + MBPP_PLUS_ROW["code"] + "```"
    wrong = "```python\ndef similar_elements(a, b):\n    return tuple(set(a) | set(b))\n```"
    grades = get_reward("code").grade([solution, wrong], [problem.tests, problem.tests])
    assert [g.verdict for g in grades] == ["correct", "wrong"], [g.detail for g in grades]


def test_every_registry_entry_names_a_revision_or_is_listed_as_unpinned():
    """Pinned: a 40-hex commit (or a file URL at one, with its SHA-256); else listed in a docs page's
    "Not yet pinned" paragraph (benchmarks in docs/evaluate.md, training sets in docs/train.md)."""
    import re

    from rlvr.data import DATASETS

    docs = Path(__file__).resolve().parents[1] / "docs"
    unpinned = " ".join(
        part.split("\n\n")[0]
        for page in ("evaluate.md", "train.md")
        for part in (docs / page).read_text().split("Not yet pinned")[1:]
    )
    for name, spec in DATASETS.items():
        if spec.revision:
            assert len(spec.revision) == 40 and int(spec.revision, 16) >= 0, name
        elif spec.url:
            assert re.search(r"/[0-9a-f]{40}/", spec.url) and len(spec.sha256 or "") == 64, name
        else:
            assert f"`{name}`" in unpinned, name
