"""The code grader: a completion's program against unit tests, run in the sandbox.

A program passes check-style tests only when the test harness, a separate sandboxed process the program
cannot reach, ran them to the end (`sandbox.run_tests`). Failure statuses in `Grade.extra["status"]`:
failed, runtime_error, timeout, memory_limit, output_limit, exited_early (the program ended its process
or raised SystemExit/KeyboardInterrupt), tampered (it returned something other than plain data),
test_error and sandbox_error (the grader's fault, verdict `error`).

Tests come in four kinds: HumanEval-style check code (`def check(candidate): ...` plus an entry point),
a script of asserts (MBPP style: check code with no entry point), stdin/stdout cases (LiveCodeBench/APPS
style, a list of {input, output}; lines compared stripped, then as Decimals, as LiveCodeBench does), and
LeetCode-style call cases ({"fn_name", "cases"}: JSON arguments one per line, called on `Solution()`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rlvr.rewards import sandbox
from rlvr.rewards.verdict import CORRECT, ERROR, NO_ANSWER, TIMEOUT, WRONG, Grade, completion_text

PASSED = "passed"
FAILED = "failed"

_FENCE_RE = re.compile(r"```(?:python|py|Python3?|python3)?[^\n]*\n(.*?)```", re.DOTALL)
_STATUS_TO_VERDICT = {
    sandbox.TIMEOUT: TIMEOUT,
    sandbox.SANDBOX_ERROR: ERROR,
    "test_error": ERROR,
    sandbox.RUNTIME_ERROR: WRONG,
    sandbox.MEMORY_LIMIT: WRONG,
    sandbox.OUTPUT_LIMIT: WRONG,
}


def extract_program(text: str) -> str | None:
    """The last fenced code block, or the raw text when there is no fence."""
    blocks = _FENCE_RE.findall(text)
    if blocks:
        return blocks[-1]
    stripped = text.strip()
    return stripped or None


@dataclass(frozen=True)
class CallCases:
    """LeetCode-style tests (LiveCodeBench): each case's input is JSON arguments, one per line, for
    `Solution().<fn_name>` (or a top-level function of that name); its output is the JSON result."""

    fn_name: str
    cases: tuple

    def program(self, program: str) -> str:
        """The program with LiveCodeBench's imports before it and a caller after it (both in its sandbox)."""
        from rlvr.benchmarks import LCB_IMPORTS

        return LCB_IMPORTS + "\n" + program + _CALL_SHIM.format(fn_name=json.dumps(self.fn_name))

    def check_code(self) -> str:
        return _CALL_CHECK.format(cases=repr(json.dumps(list(self.cases))))


_CALL_SHIM = """

def rlvr_call(*args):
    target = Solution() if isinstance(globals().get("Solution"), type) else None
    method = getattr(target, {fn_name}) if target is not None else globals()[{fn_name}]
    result = method(*args)
    return list(result) if isinstance(result, tuple) else result
"""
_CALL_CHECK = """import json
CASES = json.loads({cases})


def check(candidate):
    for number, case in enumerate(CASES):
        arguments = [json.loads(line) for line in case["input"].split("\\n")]
        assert candidate(*arguments) == json.loads(case["output"]), f"test {{number}}"
"""


def parse_tests(tests) -> str | list[dict] | CallCases:
    """Check code stays a string; stdin/stdout cases may arrive as a list or as its JSON text."""
    if isinstance(tests, str):
        stripped = tests.strip()
        if stripped.startswith("[") or stripped.startswith("{"):
            try:
                loaded = json.loads(stripped)
            except json.JSONDecodeError:
                return tests
            return _as_cases(loaded)
        return tests
    return _as_cases(tests)


def _as_cases(loaded) -> list[dict] | CallCases:
    if isinstance(loaded, dict) and "fn_name" in loaded:
        return CallCases(str(loaded["fn_name"]), tuple(loaded["cases"]))
    if isinstance(loaded, dict) and "inputs" in loaded:  # APPS: {"inputs": [...], "outputs": [...]}
        return [{"input": i, "output": o} for i, o in zip(loaded["inputs"], loaded["outputs"])]
    if isinstance(loaded, list) and all(isinstance(c, dict) and "input" in c for c in loaded):
        return list(loaded)
    raise ValueError("code tests must be check code (str) or a list of {'input', 'output'} cases")


def _same_output(actual: str, expected: str) -> bool:
    """LiveCodeBench's comparison: stripped lines equal, or equal as Decimals token by token ("2.50" = "2.5")."""

    def lines(s: str) -> list[str]:
        return [line.strip() for line in s.strip().split("\n")]

    got, want = lines(actual), lines(expected)
    if len(got) != len(want):
        return False
    for a, b in zip(got, want):
        if a == b:
            continue
        try:
            if [Decimal(t) for t in a.split()] != [Decimal(t) for t in b.split()]:
                return False
        except InvalidOperation:
            return False
    return True


class CodeReward:
    """Reward 1.0 when the program passes every test, else 0.0; verdicts say which test failed and why."""

    def __init__(self, limits: sandbox.SandboxLimits | None = None, workers: int | None = None) -> None:
        self.limits = limits or sandbox.SandboxLimits()
        self.isolation = sandbox.isolation_mode()  # refuses here, before any training, when none works
        self.workers = min(max(1, workers or os.cpu_count() or 1), sandbox.MAX_SLOTS)
        self.__name__ = "code"
        self._slots: queue.Queue[int] = queue.Queue()
        for slot in range(self.workers):
            self._slots.put(slot)
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="rlvr-code")

    def describe(self) -> dict:
        return {"grader": "code", "isolation": self.isolation, "timeout": self.limits.timeout}

    def close(self) -> None:
        """Stop the pool and the test harnesses, removing their directories."""
        self._executor.shutdown(wait=True)
        sandbox.close_servers()

    def __enter__(self) -> CodeReward:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def grade(self, completions: list, tests: list, entry_point: list | None = None) -> list[Grade]:
        if len(completions) != len(tests):
            raise ValueError(f"{len(completions)} completions but {len(tests)} test sets")
        entry_points = entry_point if entry_point is not None else [None] * len(completions)
        if len(entry_points) != len(completions):
            raise ValueError(f"{len(completions)} completions but {len(entry_points)} entry points")
        jobs = [
            self._executor.submit(self._grade_one, completion_text(c), t, e)
            for c, t, e in zip(completions, tests, entry_points)
        ]
        return [job.result() for job in jobs]

    def _grade_one(self, text: str, tests, entry_point: str | None) -> Grade:
        program = extract_program(text)
        if program is None:
            return Grade(NO_ANSWER, None, "no program")
        try:
            parsed = parse_tests(tests)
        except (ValueError, KeyError, TypeError) as exc:
            return Grade(ERROR, program, f"test_error: {exc}"[:300], {"status": "test_error"})
        slot = self._slots.get()
        try:
            return self._run_tests(program, parsed, entry_point, slot)
        except Exception as exc:  # noqa: BLE001 - whatever fails on our side is this program's verdict alone
            detail = f"{sandbox.SANDBOX_ERROR}: {type(exc).__name__}: {exc}"[:300]
            return Grade(ERROR, program, detail, {"status": sandbox.SANDBOX_ERROR})
        finally:
            self._slots.put(slot)

    def _run_tests(self, program: str, tests, entry_point: str | None, slot: int) -> Grade:
        if isinstance(tests, CallCases):
            grade = self._run_tests(tests.program(program), tests.check_code(), "rlvr_call", slot)
            return dataclasses.replace(grade, extracted=program)
        if isinstance(tests, str):
            # HumanEval: check(candidate) called on the entry point; MBPP-style: a script of asserts.
            # The tests run in a harness process of their own; passing means the harness says so.
            run = sandbox.run_tests(program, tests, entry_point, self.limits, slot)
            if run.status == PASSED:
                return Grade(CORRECT, program, PASSED, {"status": PASSED})
            verdict = _STATUS_TO_VERDICT.get(run.status, WRONG)
            return Grade(verdict, program, f"{run.status}: {run.detail}"[:300], {"status": run.status})
        for index, case in enumerate(tests):
            result = sandbox.run_python(program, str(case["input"]), self.limits, slot)
            if result.status != sandbox.OK:
                return self._failure(program, result, f"test {index}")
            if not _same_output(result.stdout, str(case["output"])):
                return Grade(WRONG, program, f"{FAILED}: test {index}", {"status": FAILED, "test": index})
        return Grade(CORRECT, program, PASSED, {"status": PASSED})

    @staticmethod
    def _failure(program: str, result: sandbox.RunResult, where: str) -> Grade:
        if result.status == sandbox.RUNTIME_ERROR and "AssertionError" in result.stderr:
            return Grade(WRONG, program, f"{FAILED}: {where}", {"status": FAILED})
        verdict = _STATUS_TO_VERDICT.get(result.status, WRONG)
        tail = result.stderr.strip().splitlines()[-1:] or [""]
        return Grade(
            verdict, program, f"{result.status}: {where}: {tail[0][:200]}", {"status": result.status}
        )

    def __call__(self, prompts=None, completions=None, tests=None, entry_point=None, **kwargs) -> list[float]:
        if tests is None:
            raise KeyError("the code reward needs a `tests` column in the dataset")
        return [g.reward for g in self.grade(completions, tests, entry_point)]
