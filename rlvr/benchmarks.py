"""Benchmarks whose rows need more than renaming columns: their prompts and tests as their authors run them.

- `mbpp_plus` (evalplus/mbppplus): the prompt names the function and shows one assertion, as lm-eval's
  `mbpp_plus_instruct` does ("... Your code should satisfy the following assertion:"); the tests are the row's
  `test` script after its `test_imports`.
- `livecodebench` (livecodebench/code_generation_lite): the question with its starter code in the official
  prompt wording; public and private tests (the private ones are base64 + zlib + pickle of a JSON string);
  LeetCode-style problems are called through `metadata.func_name` on `Solution()` with JSON arguments, one per
  line, the others run as stdin/stdout; release versions and a contest-date window select problems.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import zlib

# What LiveCodeBench's own runner puts before every call-based program (lcb_runner/evaluation/testing_util.py):
# LeetCode starter code uses List, Optional, ... without importing them.
LCB_IMPORTS = (
    "from string import *\nfrom re import *\nfrom datetime import *\nfrom collections import *\nfrom heapq import *\n"
    "from bisect import *\nfrom copy import *\nfrom math import *\nfrom random import *\nfrom statistics import *\n"
    "from itertools import *\nfrom functools import *\nfrom operator import *\nfrom io import *\nfrom sys import *\n"
    "from json import *\nfrom builtins import *\nfrom typing import *\nimport string\nimport re\nimport datetime\n"
    "import collections\nimport heapq\nimport bisect\nimport copy\nimport math\nimport random\nimport statistics\n"
    "import itertools\nimport functools\nimport operator\nimport io\nimport sys\nimport json\nsys.setrecursionlimit(50000)\n"
)
# Parquet configs of code_generation_lite at the pinned commit: release_vN holds every problem up to release N,
# vN only the problems release N added.
LCB_RELEASES = tuple(f"release_v{i}" for i in range(1, 7)) + tuple(f"v{i}" for i in range(1, 7))
_LCB_WITH_STARTER = (
    "You will use the following starter code to write the solution to the problem and enclose your "
    "code within delimiters."
)
_LCB_WITHOUT_STARTER = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly "
    "test on the sample inputs). Enclose your code within delimiters as follows. Ensure that when "
    "the python program runs, it reads the inputs, runs the algorithm and writes output to STDOUT."
)


class _StringsOnly(pickle.Unpickler):
    """LiveCodeBench's private tests are a pickled JSON string: refuse any pickle that names a class or
    function, so loading the dataset can never run code."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"livecodebench private tests: refused a pickled {module}.{name}")


# The most a row's private tests may decompress to. The test sets of real problems are megabytes (the 331
# problems of LiveCodeBench-Verified, v5-v6, hold 1.5 GB of tests decoded: 4.5 MB each on average) and the
# largest a few tens of MB; 256 MiB leaves ample room and keeps a zlib bomb (815 KB that expand into 600 MiB)
# from taking gigabytes of memory. RLVR_MAX_PRIVATE_TESTS_MB raises it.
MAX_PRIVATE_TESTS_MB = 256


def _private_tests_cap() -> int:
    import os

    value = os.environ.get("RLVR_MAX_PRIVATE_TESTS_MB", "")
    return (int(value) if value.isdigit() and int(value) > 0 else MAX_PRIVATE_TESTS_MB) * 2**20


def _inflate(data: bytes, cap: int, problem: str) -> bytes:
    """zlib-decompress at most `cap` bytes: a stream that would expand further is refused, not inflated."""
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, cap)
    if inflater.unconsumed_tail or (not inflater.eof and inflater.decompress(b"", 1)):
        raise ValueError(
            f"livecodebench problem {problem}: its private tests decompress to more than {cap // 2**20} MiB "
            f"({len(data)} bytes compressed), more than any real test set; skip that row, or raise "
            "RLVR_MAX_PRIVATE_TESTS_MB if it is genuine"
        )
    if not inflater.eof:
        raise ValueError(
            f"livecodebench problem {problem}: its private tests are truncated (an incomplete zlib stream)"
        )
    return out


def decode_private_tests(value: str, problem: str = "?") -> list[dict]:
    """LiveCodeBench's `private_test_cases`: JSON text, or base64 of zlib of a pickled JSON string (inflated
    to at most MAX_PRIVATE_TESTS_MB)."""
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError):
        pass
    raw = _inflate(base64.b64decode(value.encode("utf-8")), _private_tests_cap(), problem)
    text = _StringsOnly(io.BytesIO(raw)).load()
    del raw
    if not isinstance(text, str):
        raise ValueError(f"livecodebench private tests: expected a pickled string, got {type(text).__name__}")
    return json.loads(text)


def lcb_prompt(question: str, starter_code: str) -> str:
    """The official code-generation prompt body (lcb_runner's, without its system line)."""
    prompt = f"### Question:\n{question}\n\n"
    if starter_code:
        prompt += f"### Format: {_LCB_WITH_STARTER}\n```python\n{starter_code}\n```\n\n"
    else:
        prompt += f"### Format: {_LCB_WITHOUT_STARTER}\n```python\n# YOUR CODE HERE\n```\n\n"
    return prompt + "### Answer: (use the provided format with backticks)\n\n"


def lcb_row(row: dict) -> dict:
    """A code_generation_lite row as an rlvr row: id, problem, tests, and the contest date."""
    cases = json.loads(row["public_test_cases"]) + decode_private_tests(
        row["private_test_cases"], str(row["question_id"])
    )
    metadata = json.loads(row.get("metadata") or "{}")
    plain = [{"input": c["input"], "output": c["output"]} for c in cases]
    tests = {"fn_name": metadata["func_name"], "cases": plain} if metadata.get("func_name") else plain
    return {
        "id": str(row["question_id"]),
        "problem": lcb_prompt(row["question_content"], row.get("starter_code") or ""),
        "tests": tests,
        "contest_date": str(row.get("contest_date", ""))[:10],
        "platform": row.get("platform"),
        "difficulty": row.get("difficulty"),
    }


# MBPP+'s test scripts start with `import numpy as np` for their float comparison. The test harness runs on the
# system Python, which may lack numpy: then this stand-in gives the little of numpy those scripts use.
NUMPY_FALLBACK = """try:
    import numpy as np
except ImportError:
    class np:
        class ndarray:
            pass

        float64 = float32 = float

        @staticmethod
        def allclose(a, b, rtol=1e-05, atol=1e-08):
            def close(x, y):
                if isinstance(x, (set, frozenset, dict)) or isinstance(y, (set, frozenset, dict)):
                    raise TypeError("unsupported operand type(s) for allclose")  # as numpy's own
                if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
                    return len(x) == len(y) and all(close(p, q) for p, q in zip(x, y))
                try:
                    return abs(x - y) <= atol + rtol * abs(y)
                except TypeError:
                    return x == y
            return close(a, b)

        class testing:
            @staticmethod
            def assert_allclose(actual, desired, rtol=1e-07, atol=0):
                assert np.allclose(actual, desired, rtol=rtol, atol=atol), (actual, desired)
"""


def mbpp_plus_row(row: dict) -> dict:
    """An evalplus/mbppplus row: lm-eval's instruct prompt (one assertion shown) and the full test script,
    after the row's `test_imports`."""
    imports = "\n".join(row.get("test_imports") or [])
    test = row["test"].replace("import numpy as np\n", NUMPY_FALLBACK, 1)
    return {
        "id": str(row["task_id"]),
        "problem": f"{row['prompt']} Your code should satisfy the following assertion:\n{row['test_list'][0]}",
        "tests": (imports + "\n" if imports else "") + test,
        "entry_point": mbpp_entry_point(row.get("code") or "", row["test_list"][0]),
    }


def mbpp_entry_point(reference: str, assertion: str) -> str | None:
    """The function an MBPP assertion calls that the reference solution defines: the name the prompt gives.
    The grader hands the tests this name even when it is a builtin's (MBPP 126 asks for a `sum`)."""
    import ast
    import warnings

    try:
        with warnings.catch_warnings():  # references written with '\w' in plain strings
            warnings.simplefilter("ignore")
            defined = {n.name for n in ast.parse(reference).body if isinstance(n, ast.FunctionDef)}
            called = [
                n.func.id
                for n in ast.walk(ast.parse(assertion))
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            ]
    except SyntaxError:
        return None
    return next((name for name in called if name in defined), None)


def humaneval_row(row: dict) -> dict:
    """A HumanEval(+) row whose tests define the prompt's own helpers themselves (HumanEval/32's `poly`,
    /38's `encode_cyclic`, /50's `encode_shift`): the tests call them to check the answer, so a program's
    redefinition of them must never be what the tests call."""
    return {
        "id": str(row["task_id"]),
        "problem": row["prompt"],
        "tests": prompt_helpers(row["prompt"], row["entry_point"]) + row["test"],
        "entry_point": row["entry_point"],
    }


def prompt_helpers(prompt: str, entry_point: str) -> str:
    """Everything a HumanEval prompt defines at top level but the function it asks for, as source."""
    import ast

    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return ""
    kept = [
        ast.get_source_segment(prompt, node)
        for node in tree.body
        if not (isinstance(node, ast.FunctionDef) and node.name == entry_point)
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    return "".join(f"{code}\n" for code in kept if code) + ("\n" if kept else "")
